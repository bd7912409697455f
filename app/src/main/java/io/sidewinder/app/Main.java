package io.sidewinder.app;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code sidewinder} command line: one entry point for every job. */
@Command(name = "sidewinder",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        description = "Streaming forecaster and anomaly scorer for sensor data, built on selective state space models.",
        subcommands = {io.sidewinder.app.demo.DemoCommand.class, RunCommand.class, InfoCommand.class,
                io.sidewinder.app.bench.BenchCommand.class, io.sidewinder.app.train.TrainCommand.class,
                io.sidewinder.app.train.EvalCommand.class,
                CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    static CommandLine commandLine() {
        return new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true);
    }

    @Override
    public void run() {
        CommandLine.usage(this, System.out);
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"sidewinder " + (v == null ? "dev" : v) + " (Java " + Runtime.version() + ")"};
        }
    }
}
