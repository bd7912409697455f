package io.sidewinder.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** train and eval forecast under the ETT protocol end to end, on a generated hourly file named like ETTh1. */
class EvalForecastCommandTest {

    private record Run(int code, String out, String err) {}

    private static Run run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        PrintStream oldOut = System.out, oldErr = System.err;
        System.setOut(new PrintStream(out, true));
        System.setErr(new PrintStream(err, true));
        try {
            return new Run(Main.commandLine().execute(args), out.toString(), err.toString());
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    /** 20 months of hourly rows (the ETT splits), a daily cycle plus a slow trend in two columns. */
    private static Path hourlyFile(Path dir) throws Exception {
        StringBuilder sb = new StringBuilder("date,HUFL,OT\n");
        LocalDateTime t0 = LocalDateTime.of(2016, 7, 1, 0, 0);
        for (int i = 0; i < 20 * 30 * 24; i++) {
            double day = Math.sin(i * 2 * Math.PI / 24), trend = i / 5000.0;
            sb.append(t0.plusHours(i).toString().replace('T', ' ')).append(":00,")
                    .append(5 + day + trend).append(',').append(20 + 3 * day - trend).append('\n');
        }
        Path f = dir.resolve("ETTh1.csv");
        Files.writeString(f, sb.toString());
        return f;
    }

    @Test
    void aModelTrainedUnderTheProtocolIsScoredAndOneTrainedForAnotherLookbackIsRefused(@TempDir Path dir) throws Exception {
        Path data = hourlyFile(dir), model = dir.resolve("m.avro");
        Run train = run("train", "--data", data.toString(), "--lookback", "24", "--horizon", "4", "--d-model", "8",
                "--layers", "1", "--d-state", "4", "--epochs", "1", "--samples-per-epoch", "32", "--threads", "1",
                "--cycle", "none", "--out", model.toString());
        assertEquals(0, train.code(), train.err());

        Run eval = run("eval", "forecast", "--data", data.toString(), "--lookback", "24", "--horizon", "4",
                "--model", model.toString());
        assertEquals(0, eval.code(), eval.err());
        String last = eval.out().strip().lines().reduce((a, b) -> b).orElseThrow();
        assertTrue(last.matches("mse=\\d+\\.\\d{4} mae=\\d+\\.\\d{4} windows=\\d+"), last);
        double mse = Double.parseDouble(last.substring(4, last.indexOf(' ')));
        assertTrue(mse < 0.5, "a daily cycle with a trend, z-scored: " + last);

        Run otherLookback = run("eval", "forecast", "--data", data.toString(), "--lookback", "48", "--horizon", "4",
                "--model", model.toString());
        assertEquals(2, otherLookback.code());
        assertTrue(otherLookback.err().contains("trained with --lookback 24"), otherLookback.err());
    }

    @Test
    void hourlyRowsUnderTheFifteenMinuteSplitsAreRefused(@TempDir Path dir) throws Exception {
        Path misnamed = Files.move(hourlyFile(dir), dir.resolve("ETTm1.csv"));
        Run r = run("eval", "forecast", "--data", misnamed.toString(), "--baseline", "repeat");
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().contains("96 rows per day") && r.err().contains("3600000 ms apart"), r.err());
    }
}
