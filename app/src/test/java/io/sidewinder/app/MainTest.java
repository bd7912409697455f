package io.sidewinder.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

class MainTest {

    static String run(String... args) {
        StringWriter out = new StringWriter();
        var cmd = Main.commandLine();
        cmd.setOut(new PrintWriter(out));
        int code = cmd.execute(args);
        assertEquals(0, code, "exit code of " + String.join(" ", args));
        return out.toString();
    }

    @Test
    void helpListsEveryCommand() {
        String help = run("--help");
        for (String name : Main.commandLine().getSubcommands().keySet()) {
            assertTrue(help.contains(name), "help mentions " + name + ":\n" + help);
        }
    }

    @Test
    void unknownCommandFailsWithAUsageError() {
        var cmd = Main.commandLine();
        cmd.setErr(new PrintWriter(new StringWriter()));
        assertEquals(2, cmd.execute("no-such-command"));
    }

    @Test
    void picocliParseErrorsCarryTheCommandPrefixAndKeepTheirSuggestions() {
        Object[] r = fail("train", "--data", "x.csv", "--out", "m.avro", "--epoch", "3");
        assertEquals(2, r[0]);
        String err = (String) r[1];
        assertTrue(err.startsWith("sidewinder train: Unknown option"), err);
        assertTrue(err.contains("--epochs"), "picocli's suggestion: " + err);
        Object[] bad = fail("train", "--data", "x.csv", "--out", "m.avro", "--loss", "L3");
        assertEquals(2, bad[0]);
        assertTrue(((String) bad[1]).startsWith("sidewinder train: Invalid value for option '--loss'"), (String) bad[1]);
    }

    /** Runs a command and returns its exit code and standard error. */
    static Object[] fail(String... args) {
        StringWriter err = new StringWriter();
        var cmd = Main.commandLine();
        cmd.setOut(new PrintWriter(new StringWriter()));
        cmd.setErr(new PrintWriter(err));
        return new Object[] {cmd.execute(args), err.toString()};
    }

    @Test
    void trainsHelpIsItsUsageNotAMissingOptionError() {
        String help = run("train", "--help");
        assertTrue(help.contains("--data") && help.contains("--model-version"), help);
    }

    @Test
    void aCommandFailingOnItsInputSaysSoInOneLineWithoutAStackTrace() {
        Object[] r = fail("info", "--model", "/no/such/model.avro");
        String err = (String) r[1];
        assertEquals(1, r[0]);
        assertTrue(err.startsWith("sidewinder info: "), err);
        assertTrue(err.contains("/no/such/model.avro"), err);
        assertTrue(!err.contains("\tat "), "no stack trace:\n" + err);
    }

    @Test
    void aDamagedModelFileIsOneLineToo(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        java.nio.file.Path good = dir.resolve("good.avro"), cut = dir.resolve("cut.avro"), text = dir.resolve("text.avro");
        io.sidewinder.ssm.ModelSnapshots.write(io.sidewinder.ssm.ModelSnapshots.toSnapshot(
                io.sidewinder.ssm.ModelParameters.initialise(io.sidewinder.ssm.ModelConfig.defaults(1), 1), "m", 1,
                java.util.Map.of(), java.util.Map.of()), good);
        byte[] bytes = java.nio.file.Files.readAllBytes(good);
        java.nio.file.Files.write(cut, java.util.Arrays.copyOf(bytes, bytes.length / 2));
        java.nio.file.Files.writeString(text, "date,a\n1,2\n");
        for (java.nio.file.Path f : java.util.List.of(cut, text)) {
            Object[] r = fail("info", "--model", f.toString());
            String err = (String) r[1];
            assertEquals(1, r[0], err);
            assertTrue(err.contains("model snapshot") && err.contains(f.toString()), err);
            assertTrue(!err.contains("\tat ") && !err.contains("(null"), "one line, no stack trace:\n" + err);
        }
    }

    @Test
    void optionsOutsideTheirRangeAreUsageErrors() {
        for (String[] args : new String[][] {
                {"eval", "forecast", "--data", "ETTh1.csv", "--baseline", "repeat", "--horizon", "0"},
                {"eval", "forecast", "--data", "ETTh1.csv", "--baseline", "repeat", "--horizon", "5000"},
                {"eval", "forecast", "--data", "ETTh1.csv", "--baseline", "repeat", "--features", "X"},
                {"train", "--data", "x.csv", "--out", "m.avro", "--lookback", "0"},
                {"train", "--data", "x.csv", "--out", "m.avro", "--batch-size", "0"},
                {"train", "--data", "x.csv", "--out", "m.avro", "--lr", "-1"},
                {"demo", "--records", "-5"},
                {"bench", "pipeline", "--records", "-5"}, {"bench", "pipeline", "--sensors", "0"},
                {"bench", "latency", "--rate", "0"}, {"bench", "latency", "--seconds", "0"},
                {"bench", "latency", "--guarantee", "bogus"},
                {"bench", "pipeline", "--set", "sidewinder.reorder.grace=5"},
                {"info", "--channels", "0"},
                {"eval"}, {"bench"}}) {
            Object[] r = fail(args);
            String err = (String) r[1], command = "sidewinder " + String.join(" ", java.util.Arrays.stream(args)
                    .takeWhile(a -> !a.startsWith("--")).toList()) + ": ";
            assertEquals(2, r[0], String.join(" ", args) + ": " + err);
            assertTrue(err.startsWith(command), "worded as the command's usage error: " + err);
            // Refused for the option the case breaks (the last one given), not for some other reason.
            String option = java.util.Arrays.stream(args).filter(a -> a.startsWith("--")).reduce((a, b) -> b).orElse("subcommand");
            assertTrue(err.contains(option), String.join(" ", args) + " names " + option + ": " + err);
        }
    }
}
