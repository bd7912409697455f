package io.sidewinder.app.bench;

import picocli.CommandLine.Command;

/** Benchmarks users can run on their own machine. */
@Command(name = "bench", mixinStandardHelpOptions = true, description = "Benchmarks.",
        subcommands = {BenchPipelineCommand.class, BenchLatencyCommand.class, BenchKernelsCommand.class})
public final class BenchCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw io.sidewinder.app.OptionChecks.usage(spec, "give a subcommand: pipeline, latency or kernels");
    }
}
