package io.sidewinder.app.train;

import picocli.CommandLine.Command;

/** Evaluation harnesses. */
@Command(name = "eval", mixinStandardHelpOptions = true, description = "Evaluate models and baselines.",
        subcommands = {EvalForecastCommand.class, io.sidewinder.app.eval.EvalAnomalyCommand.class,
                io.sidewinder.app.eval.ConvertSkabCommand.class})
public final class EvalCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw io.sidewinder.app.OptionChecks.usage(spec, "give a subcommand: forecast, anomaly or convert-skab");
    }
}
