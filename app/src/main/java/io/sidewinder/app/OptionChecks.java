package io.sidewinder.app;

import io.sidewinder.processors.SidewinderConfig;
import java.util.Map;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;

/** Checks of command options that several commands share; a failed one is a usage error (exit 2) naming the command. */
public final class OptionChecks {
    private OptionChecks() {}

    /** A usage error (exit 2) of the command, as every command words one: {@code sidewinder <command>: <message>}. */
    public static ParameterException usage(CommandSpec spec, String message) {
        return new ParameterException(spec.commandLine(), spec.qualifiedName() + ": " + message);
    }

    public static void requireAtLeast(CommandSpec spec, String option, long value, long least) {
        if (value < least) {
            throw usage(spec, option + " must be at least " + least + ", got " + value);
        }
    }

    /** The --set settings as the pipeline will read them (a misspelt sidewinder.* key included), checked up front. */
    public static SidewinderConfig settings(CommandSpec spec, Map<String, ?> settings) {
        try {
            return new SidewinderConfig(settings);
        } catch (org.apache.kafka.common.config.ConfigException e) {
            throw usage(spec, "--set: " + e.getMessage());
        }
    }
}
