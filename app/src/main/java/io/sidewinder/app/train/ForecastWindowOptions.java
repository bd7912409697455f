package io.sidewinder.app.train;

import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/** The window options train and eval forecast share: time column, lookback, horizon and the ETT feature set. */
public final class ForecastWindowOptions {
    /** Which columns of an ETT file the model reads and forecasts. */
    public enum Features { M, S }

    @Option(names = "--time-column", defaultValue = "date", description = "Name of the time column (default: "
            + "${DEFAULT-VALUE}).")
    String timeColumn;

    @Option(names = "--lookback", defaultValue = "96", description = "Window length L: where each window's history "
            + "starts (default: ${DEFAULT-VALUE}).")
    int lookback;

    @Option(names = "--horizon", defaultValue = "96", description = "Forecast horizon H (default: ${DEFAULT-VALUE}).")
    int horizon;

    @Option(names = "--features", defaultValue = "M", description = "M: every value column; S: the OT column only "
            + "(default: ${DEFAULT-VALUE}).")
    Features features;

    boolean otOnly() {
        return features == Features.S;
    }

    /** Refuses a lookback or horizon below one step as a usage error of {@code command}. */
    void check(CommandSpec command) {
        atLeastOne(command, "--lookback", lookback);
        atLeastOne(command, "--horizon", horizon);
    }

    private static void atLeastOne(CommandSpec command, String option, int value) {
        if (value < 1) {
            throw new ParameterException(command.commandLine(),
                    command.qualifiedName() + ": " + option + " must be at least 1, got " + value);
        }
    }
}
