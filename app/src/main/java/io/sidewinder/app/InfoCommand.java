package io.sidewinder.app;

import io.sidewinder.ssm.ModelConfig;
import io.sidewinder.ssm.ModelParameters;
import io.sidewinder.ssm.ModelSnapshots;
import io.sidewinder.ssm.StreamState;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Prints a model's configuration, size, and the bytes of state each sensor key will keep. */
@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Show a model's configuration, parameter count and per-key state size "
                + "(the default model unless --model is given).")
final class InfoCommand implements Callable<Integer> {

    @Option(names = "--model", description = "A ModelSnapshot file (.avro) to describe.")
    Path model;

    @Option(names = "--channels", defaultValue = "1", description = "Channels of the default model (default: ${DEFAULT-VALUE}).")
    int channels;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (channels < 1 || channels > 4096) {
            throw OptionChecks.usage(spec,
                    "--channels must be between 1 and 4096, got " + channels);
        }
        ModelParameters params;
        String title;
        if (model != null) {
            var snapshot = ModelSnapshots.read(model);
            params = ModelSnapshots.toParameters(snapshot);
            title = "model " + snapshot.getModelId() + " v" + snapshot.getVersion() + " (" + model + ", checksum ok)";
        } else {
            params = ModelParameters.initialise(ModelConfig.defaults(channels), 0);
            title = "default model";
        }
        ModelConfig c = params.config();
        System.out.println(title);
        for (Map.Entry<String, String> e : c.toMap().entrySet()) {
            System.out.printf("  %-20s %s%n", e.getKey(), e.getValue());
        }
        System.out.printf("  %-20s %d%n", "parameters", params.count());
        // The model's part only: the store also keeps the detector's statistics, the last forecast and the ring
        // buffer of recent readings (sidewinder.ring.buffer.size), which depend on the sensor and the settings.
        System.out.printf("  %-20s %d bytes (the model's part of each key's stored state)%n", "model state per key",
                StreamState.serializedSize(c));
        return 0;
    }
}
