package io.sidewinder.app.train;

import io.sidewinder.ssm.ModelParameters;
import io.sidewinder.ssm.ModelSnapshots;
import io.sidewinder.trainer.data.CsvSeries;
import io.sidewinder.trainer.eval.EttExperiment;
import io.sidewinder.trainer.eval.EttProtocol;
import io.sidewinder.trainer.eval.ForecastEvaluation;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The standard ETT long-horizon protocol for a model or a baseline; the last line is `mse=<x> mae=<y> windows=<n>`. */
@Command(name = "forecast", mixinStandardHelpOptions = true,
        description = "Evaluate a model or a baseline on an ETT file with the standard protocol (test split).")
public final class EvalForecastCommand implements Callable<Integer> {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;


    @Option(names = "--data", required = true, description = "An ETT CSV file (ETTh1.csv, ETTm1.csv, …: 20 months "
            + "of rows, split 12/4/4).") Path data;
    @picocli.CommandLine.Mixin
    ForecastWindowOptions window;
    @Option(names = "--model", description = "A ModelSnapshot (.avro) to evaluate.") Path model;
    @Option(names = "--baseline", description = "repeat or seasonal (one day).") String baseline;
    @Option(names = "--streaming", description = "Carry the model state from the start of the data instead of "
            + "starting it at each window (what the product does).") boolean streaming;

    /** Why the model was not trained for this evaluation (its scores would be silently wrong), or null. */
    String mismatch(io.sidewinder.ssm.ModelConfig c, EttExperiment exp) {
        if (c.horizon() != window.horizon) {
            return "the model forecasts " + c.horizon() + " steps, --horizon is " + window.horizon;
        }
        if (!streaming && c.normalizerWindow() != window.lookback) {   // streaming carries state: no windows
            return "the model was trained with --lookback " + c.normalizerWindow() + " (its normaliser's window), --lookback is "
                    + window.lookback;
        }
        if (c.gap().referenceMillis() != exp.spacing()) {
            return "the model was trained on rows " + c.gap().referenceMillis() + " ms apart, " + data.getFileName()
                    + "'s are " + exp.spacing() + " ms apart (another ETT file?)";
        }
        if (c.cycleLength() > 0 && c.cycleSeries() != exp.channels()) {
            return "the model has seasonal profiles for " + c.cycleSeries() + " channels, this evaluation has "
                    + exp.channels() + " (--features " + (window.otOnly() ? "S" : "M") + ")";
        }
        return null;
    }

    @Override
    public Integer call() throws Exception {
        if ((model == null) == (baseline == null)) {
            throw io.sidewinder.app.OptionChecks.usage(spec, "give exactly one of --model or --baseline");
        }
        window.check(spec);
        EttProtocol p;
        try {
            p = EttProtocol.forFile(data.getFileName().toString(), window.lookback, window.horizon);
        } catch (IllegalArgumentException e) {
            throw io.sidewinder.app.OptionChecks.usage(spec, e.getMessage());
        }
        CsvSeries csv = TrainCommand.readCsv(data, window.timeColumn);
        EttExperiment exp = new EttExperiment(csv, p, window.otOnly());
        ForecastEvaluation.Result r;
        if (model != null) {
            ModelParameters params = ModelSnapshots.toParameters(ModelSnapshots.read(model));
            String mismatch = mismatch(params.config(), exp);
            if (mismatch != null) {
                spec.commandLine().getErr().println(spec.qualifiedName() + ": " + mismatch);
                return 2;
            }
            r = streaming ? exp.evaluateStreaming(params) : exp.evaluate(params, EttProtocol.Split.TEST);
        } else {
            ForecastEvaluation.WindowForecaster f = switch (baseline.toLowerCase(Locale.ROOT)) {
                case "repeat" -> ForecastEvaluation.REPEAT;
                case "seasonal" -> ForecastEvaluation.seasonal(p.rowsPerDay());
                default -> throw io.sidewinder.app.OptionChecks.usage(spec,
                        "unknown baseline '" + baseline + "' (repeat, seasonal)");
            };
            r = exp.evaluate(f);
        }
        if (r.windowsDropLast() > 0) {   // fewer than 32 windows: the published code's drop_last keeps none
            System.out.printf(Locale.ROOT, "drop_last@32: mse=%.4f mae=%.4f windows=%d%n", r.mseDropLast(),
                    r.maeDropLast(), r.windowsDropLast());
        } else {
            System.out.printf(Locale.ROOT, "drop_last@32: n/a (%d windows, fewer than one batch of 32)%n", r.windows());
        }
        System.out.printf(Locale.ROOT, "mse=%.4f mae=%.4f windows=%d%n", r.mse(), r.mae(), r.windows());
        return 0;
    }
}
