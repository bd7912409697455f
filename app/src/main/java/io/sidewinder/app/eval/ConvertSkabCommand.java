package io.sidewinder.app.eval;

import io.sidewinder.evaluation.anomaly.SkabConverter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code eval convert-skab}: SKAB into the {@code eval anomaly} layout, with outlier and changepoint labels. */
@Command(name = "convert-skab", mixinStandardHelpOptions = true,
        description = {"Convert SKAB (';'-separated files with anomaly/changepoint columns) into eval anomaly's layout:",
                "<out>/data/<group>/<n>.csv, <out>/labels-outlier.json (anomaly runs),",
                "<out>/labels-changepoint.json ([changepoint, +60 s])."})
public final class ConvertSkabCommand implements Callable<Integer> {

    @Option(names = "--skab", defaultValue = "../shared/datasets/skab", description = "SKAB root (with data/). Default: ${DEFAULT-VALUE}.")
    Path skab;

    @Option(names = "--out", defaultValue = "target/skab", description = "Output directory. Default: ${DEFAULT-VALUE}.")
    Path out;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (!java.nio.file.Files.isDirectory(skab)) {
            throw io.sidewinder.app.OptionChecks.usage(spec, "SKAB not found at " + skab.toAbsolutePath()
                    + " (pass --skab <dir>)");
        }
        SkabConverter.Summary s = SkabConverter.convert(skab, out);
        spec.commandLine().getOut().printf("converted %d files, %d rows: %d anomaly windows, %d changepoints -> %s%n",
                s.files(), s.rows(), s.outlierWindows(), s.changepoints(), out);
        spec.commandLine().getOut().flush();
        return 0;
    }
}
