package io.sidewinder.app.train;

import picocli.CommandLine.Command;

/** Evaluation harnesses. */
@Command(name = "eval", mixinStandardHelpOptions = true, description = "Evaluate models and baselines.",
        subcommands = {EvalForecastCommand.class, io.sidewinder.app.eval.EvalAnomalyCommand.class,
                io.sidewinder.app.eval.ConvertSkabCommand.class})
public final class EvalCommand implements Runnable {
    @Override
    public void run() {
        picocli.CommandLine.usage(this, System.out);
    }
}
