package io.sidewinder.app;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.util.Set;
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
    /** Set to 1 for the stack trace of a failed command (a user error is otherwise one line). */
    static final String DEBUG_ENV = "SIDEWINDER_DEBUG";

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    static CommandLine commandLine() {
        return new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true)
                .setExecutionExceptionHandler(Main::reportFailure)
                .setParameterExceptionHandler(Main::reportUsageError);
    }

    /**
     * picocli's own parse errors (an unknown option, a bad enum) worded as the commands' checks word theirs,
     * {@code sidewinder <command>: …}, then picocli's suggestions or the usage, and exit 2.
     */
    static int reportUsageError(CommandLine.ParameterException e, String[] args) {
        CommandLine cmd = e.getCommandLine();
        java.io.PrintWriter err = cmd.getErr();
        String prefix = cmd.getCommandSpec().qualifiedName() + ": ";
        String message = String.valueOf(e.getMessage());
        err.println(cmd.getColorScheme().errorText(message.startsWith(prefix) ? message : prefix + message));
        if (!CommandLine.UnmatchedArgumentException.printSuggestions(e, err)) {
            cmd.usage(err, cmd.getColorScheme());
        }
        err.flush();
        return cmd.getCommandSpec().exitCodeOnInvalidInput();
    }

    /**
     * A command that fails on its input (a missing file, a bad value, data that does not fit) prints one line,
     * {@code sidewinder <command>: <what went wrong>}, and exits 1; anything else is a defect and keeps its trace.
     */
    static int reportFailure(Exception e, CommandLine cmd, CommandLine.ParseResult parsed) {
        boolean userError = isUserError(e);
        cmd.getErr().println(cmd.getCommandSpec().qualifiedName() + ": " + describe(e));
        if (!userError || "1".equals(System.getenv(DEBUG_ENV))) {
            e.printStackTrace(cmd.getErr());
        } else {
            cmd.getErr().println("(" + DEBUG_ENV + "=1 shows the stack trace)");
        }
        cmd.getErr().flush();
        return 1;
    }

    private static final Set<Class<? extends Throwable>> USER_ERRORS = Set.of(IOException.class,
            UncheckedIOException.class, IllegalArgumentException.class, IllegalStateException.class,
            org.apache.kafka.common.KafkaException.class, io.sidewinder.ssm.InvalidModelException.class,
            org.apache.avro.AvroRuntimeException.class);

    static boolean isUserError(Throwable e) {
        return USER_ERRORS.stream().anyMatch(c -> c.isInstance(e));
    }

    /** The failure in words: file-system errors say what failed on which file; causes not already said follow. */
    public static String describe(Throwable e) {
        StringBuilder b = new StringBuilder(own(e));
        for (Throwable c = e.getCause(); c != null && c != c.getCause(); c = c.getCause()) {
            String m = own(c);
            if (!b.toString().contains(m)) {
                b.append(": ").append(m);
            }
        }
        return b.toString();
    }

    private static String own(Throwable e) {
        if (e instanceof NoSuchFileException f) return "no such file: " + f.getFile();
        if (e instanceof AccessDeniedException f) return "permission denied: " + f.getFile();
        if (e instanceof java.nio.file.FileAlreadyExistsException f) return "already exists: " + f.getFile();
        if (e instanceof java.nio.file.NotDirectoryException f) return "not a directory: " + f.getFile();
        if (e instanceof java.nio.file.DirectoryNotEmptyException f) return "directory not empty: " + f.getFile();
        if (e instanceof FileSystemException f && f.getReason() != null) return f.getReason() + ": " + f.getFile();
        String m = e.getMessage();
        return m == null || m.isBlank() ? e.getClass().getSimpleName() : m;
    }

    @Override
    public void run() {
        CommandLine.usage(this, System.out);
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"sidewinder " + BuildInfo.version() + " (Java " + Runtime.version() + ")"};
        }
    }
}
