package io.sidewinder.app.bench;

import picocli.CommandLine.Command;

/** Benchmarks users can run on their own machine. */
@Command(name = "bench", mixinStandardHelpOptions = true, description = "Benchmarks.",
        subcommands = {BenchPipelineCommand.class, BenchLatencyCommand.class, BenchKernelsCommand.class})
public final class BenchCommand implements Runnable {
    @Override
    public void run() {
        picocli.CommandLine.usage(this, System.out);
    }
}
