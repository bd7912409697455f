package io.sidewinder.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EvalAnomalyCommandTest {
    static final DateTimeFormatter TS = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss");

    /** Two five-minute univariate files, each with one spike inside its labelled window. */
    static void writeCorpus(Path dir) throws Exception {
        Files.createDirectories(dir.resolve("data/web"));
        StringBuilder labels = new StringBuilder("{");
        SplittableRandom r = new SplittableRandom(4);
        for (int f = 0; f < 2; f++) {
            LocalDateTime start = LocalDateTime.of(2014, 4, 10, 0, 0);
            StringBuilder csv = new StringBuilder("timestamp,value\n");
            int spike = 600 + 100 * f;
            for (int i = 0; i < 1_000; i++) {
                double v = 20 + 3 * Math.sin(i / 20.0) + r.nextGaussian() + (i == spike ? 40 : 0);
                csv.append(TS.format(start.plusMinutes(5L * i))).append(',').append(v).append('\n');
            }
            Files.writeString(dir.resolve("data/web/f" + f + ".csv"), csv);
            labels.append(f == 0 ? "" : ",").append("\"web/f").append(f).append(".csv\": [[\"")
                    .append(TS.format(start.plusMinutes(5L * (spike - 5)))).append(".000000\", \"")
                    .append(TS.format(start.plusMinutes(5L * (spike + 5)))).append(".000000\"]]");
        }
        Files.writeString(dir.resolve("labels.json"), labels.append('}'));
    }

    @Test
    void evalAnomalyScoresEveryDetectorAndEndsWithTheSummaryLine(@TempDir Path dir) throws Exception {
        writeCorpus(dir);
        StringWriter out = new StringWriter();
        var cmd = Main.commandLine();
        cmd.setOut(new PrintWriter(out));
        int code = cmd.execute("eval", "anomaly", "--data", dir.resolve("data").toString(), "--labels",
                dir.resolve("labels.json").toString(), "--out", dir.resolve("out").toString(), "--detector", "all");
        assertEquals(0, code, out.toString());
        List<String> lines = out.toString().lines().toList();
        assertTrue(lines.getLast().matches("standard=-?[0-9.]+ low-fp=-?[0-9.]+ low-fn=-?[0-9.]+ f1=[0-9.]+"), lines.getLast());
        double standard = Double.parseDouble(lines.getLast().split(" ")[0].substring("standard=".length()));
        assertTrue(standard > 50, "two clear spikes, NAB standard " + standard);
        for (String detector : List.of("windowed-gaussian", "random-cut-forest", "sidewinder")) {
            List<String> result = Files.readAllLines(dir.resolve("out").resolve(detector).resolve("web/f1.csv"));
            // Sidewinder also writes its state score (the deviation from each stream's baseline).
            assertEquals("timestamp,value,anomaly_score,label" + (detector.equals("sidewinder") ? ",state_score" : ""), result.getFirst());
            assertEquals(1_001, result.size());
        }
    }

    @Test
    void anOutputDirectoryInsideTheCorpusIsRefused(@TempDir Path dir) throws Exception {
        writeCorpus(dir);
        var cmd = Main.commandLine();
        cmd.setOut(new PrintWriter(new StringWriter()));
        cmd.setErr(new PrintWriter(new StringWriter()));
        assertEquals(2, cmd.execute("eval", "anomaly", "--data", dir.resolve("data").toString(), "--labels",
                dir.resolve("labels.json").toString(), "--out", dir.resolve("data/scores").toString()));
    }

    @Test
    void detectorSettingsApplyToTheReplayAndNonsenseIsAUsageError(@TempDir Path dir) throws Exception {
        writeCorpus(dir);
        String[] base = {"eval", "anomaly", "--data", dir.resolve("data").toString(), "--labels", dir.resolve("labels.json").toString()};
        // Control: with the default baseline (400 readings, fewer than the files' 1,000) the spike scores a deviation.
        var cmd = Main.commandLine();
        cmd.setOut(new PrintWriter(new StringWriter()));
        assertEquals(0, cmd.execute(concat(base, "--out", dir.resolve("out-default").toString())));
        List<String> control = Files.readAllLines(dir.resolve("out-default/web/f0.csv"));
        assertEquals("timestamp,value,anomaly_score,label,state_score", control.getFirst());
        assertTrue(control.stream().skip(1).anyMatch(l -> !l.endsWith(",0.000000")), "some state score with the default baseline");
        // A baseline longer than the files: nothing is ever scored for deviation.
        cmd = Main.commandLine();
        cmd.setOut(new PrintWriter(new StringWriter()));
        assertEquals(0, cmd.execute(concat(base, "--out", dir.resolve("out").toString(), "--set", "sidewinder.deviation.reference.readings=5000")));
        List<String> rows = Files.readAllLines(dir.resolve("out/web/f0.csv"));
        assertEquals(control.size(), rows.size());
        assertTrue(rows.stream().skip(1).allMatch(l -> l.endsWith(",0.000000")), "state scores before any baseline");
        for (String bad : List.of("sidewinder.deviation.gate=0.5", "sidewinder.no.such.setting=1")) {
            StringWriter err = new StringWriter();
            cmd = Main.commandLine();
            cmd.setErr(new PrintWriter(err));
            cmd.setOut(new PrintWriter(new StringWriter()));
            assertEquals(2, cmd.execute(concat(base, "--set", bad)), bad);
            assertTrue(err.toString().contains("--set"), err.toString());
        }
    }

    static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    @Test
    void aBadProbationIsAUsageError(@TempDir Path dir) throws Exception {
        writeCorpus(dir);
        var cmd = Main.commandLine();
        cmd.setErr(new PrintWriter(new StringWriter()));
        cmd.setOut(new PrintWriter(new StringWriter()));
        assertEquals(2, cmd.execute("eval", "anomaly", "--data", dir.resolve("data").toString(), "--labels",
                dir.resolve("labels.json").toString(), "--probation", "soon"));
    }

    @Test
    void withNoLabelledWindowLeftToScoreTheNabScoresReadNotApplicableInsteadOfNaN(@TempDir Path dir) throws Exception {
        writeCorpus(dir);   // the windows are around rows 600 and 700 of 1,000: a probation of 800 rows covers both
        StringWriter out = new StringWriter();
        var cmd = Main.commandLine();
        cmd.setOut(new PrintWriter(out));
        assertEquals(0, cmd.execute("eval", "anomaly", "--data", dir.resolve("data").toString(), "--labels",
                dir.resolve("labels.json").toString(), "--detector", "gaussian", "--probation", "800"));
        List<String> lines = out.toString().lines().toList();
        assertTrue(lines.getLast().matches("standard=n/a low-fp=n/a low-fn=n/a f1=[0-9.]+"), lines.getLast());
        assertTrue(out.toString().contains("no labelled window outside probation"), out.toString());
        assertTrue(!out.toString().contains("NaN"), out.toString());
    }

    @Test
    void anOutThatIsAFileIsRefusedBeforeTheReplay(@TempDir Path dir) throws Exception {
        writeCorpus(dir);
        Path file = Files.writeString(dir.resolve("scores"), "not a folder");
        StringWriter err = new StringWriter();
        var cmd = Main.commandLine();
        cmd.setErr(new PrintWriter(err));
        cmd.setOut(new PrintWriter(new StringWriter()));
        assertEquals(2, cmd.execute("eval", "anomaly", "--data", dir.resolve("data").toString(), "--labels",
                dir.resolve("labels.json").toString(), "--out", file.toString()));
        assertTrue(err.toString().contains("sidewinder eval anomaly: --out " + file + " is a file"), err.toString());
    }
}
