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
            + "starts (1 to 1,000,000; default: ${DEFAULT-VALUE}).")
    int lookback;

    @Option(names = "--horizon", defaultValue = "96", description = "Forecast horizon H (1 to 1,000,000; default: "
            + "${DEFAULT-VALUE}).")
    int horizon;

    @Option(names = "--features", defaultValue = "M", description = "M: every value column; S: the OT column only "
            + "(the ETT protocol; train refuses it under holdout) (default: ${DEFAULT-VALUE}).")
    Features features;

    boolean otOnly() {
        return features == Features.S;
    }

    /** Longest lookback or horizon: far beyond any use, and L + H stays clear of int overflow. */
    static final int MAX_STEPS = 1_000_000;

    /** Refuses a lookback or horizon outside [1, MAX_STEPS] as a usage error of {@code command}. */
    void check(CommandSpec command) {
        inRange(command, "--lookback", lookback);
        inRange(command, "--horizon", horizon);
    }

    private static void inRange(CommandSpec command, String option, int value) {
        if (value < 1 || value > MAX_STEPS) {
            throw io.sidewinder.app.OptionChecks.usage(command, option
                    + " must be between 1 and " + MAX_STEPS + ", got " + value);
        }
    }
}
