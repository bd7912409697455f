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
}
