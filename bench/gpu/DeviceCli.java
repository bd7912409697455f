import io.sidewinder.app.train.EvalForecastCommand;
import io.sidewinder.app.train.TrainCommand;
import picocli.CommandLine;

/**
 * The two sidewinder subcommands the GPU bundle runs, `train` and `eval forecast`, without the rest of the CLI:
 * io.sidewinder.app.Main builds every subcommand at start-up, and some of them need the Kafka jars, which the
 * 64 MiB bundle leaves out. Same command classes and options; compiled by pack-train.sh.
 */
public final class DeviceCli {
    public static void main(String[] args) {
        if (args.length == 0) {
            System.err.println("usage: DeviceCli train ... | DeviceCli eval-forecast ...");
            System.exit(2);
        }
        Object cmd = switch (args[0]) {
            case "train" -> new TrainCommand();
            case "eval-forecast" -> new EvalForecastCommand();
            default -> throw new IllegalArgumentException("unknown command " + args[0]);
        };
        String[] rest = java.util.Arrays.copyOfRange(args, 1, args.length);
        // Later options win, so a grid job can override the defaults its script passes.
        System.exit(new CommandLine(cmd).setCaseInsensitiveEnumValuesAllowed(true).setOverwrittenOptionsAllowed(true)
                .execute(rest));
    }
}
