package io.sidewinder.trainer.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.sidewinder.trainer.data.CsvSeries;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Pins the ETT harness to the published Repeat baseline (skipped, saying why, when the datasets are absent). */
class EttHarnessTest {

    static Path dataset(String name) {
        Path dir = Path.of(System.getProperty("sidewinder.datasets", "../shared/datasets"));
        Path file = dir.resolve("ett").resolve(name);
        assumeTrue(Files.isRegularFile(file), "ETT data not found at " + file.toAbsolutePath()
                + " (set -Dsidewinder.datasets=<dir>); the harness pin runs where the shared datasets are");
        return file;
    }

    @ParameterizedTest(name = "{0} H={1}")
    @CsvSource({"ETTh1.csv,96,2785,1.295,0.713", "ETTm1.csv,96,11425,1.214,0.665"})
    void repeatBaselineReproducesThePublishedNumbers(String file, int horizon, int windows, double mse, double mae)
            throws Exception {
        CsvSeries s = CsvSeries.read(dataset(file), "date", null);
        EttProtocol p = EttProtocol.forFile(file, 96, horizon);
        ForecastEvaluation.Result r = ForecastEvaluation.evaluate(p.standardise(s.values()), p, EttProtocol.Split.TEST,
                ForecastEvaluation.REPEAT);
        assertEquals(windows, r.windows());
        assertEquals(mse, r.mse(), 0.0015, "mse");
        assertEquals(mae, r.mae(), 0.0015, "mae");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"ETTh1.csv"})
    void seasonalNaiveMatchesAnIndependentComputation(String file) throws Exception {
        CsvSeries s = CsvSeries.read(dataset(file), "date", null);
        EttProtocol p = EttProtocol.forFile(file, 96, 96);
        ForecastEvaluation.Result r = ForecastEvaluation.evaluate(p.standardise(s.values()), p, EttProtocol.Split.TEST,
                ForecastEvaluation.seasonal(24));

        // The protocol written out by hand for hourly ETT: months of 30 days of 24 rows; z-score every channel with
        // the mean and population std of the 12 training months; the test segment is months 16–20 preceded by the
        // lookback, with a window at every row. Seasonal naive: the target at row t is the value one day before t,
        // from the lookback only (so steps beyond the first day repeat the lookback's last day).
        int day = 24, lookback = 96, horizon = 96, trainEnd = 12 * 30 * day, valEnd = 16 * 30 * day, testEnd = 20 * 30 * day;
        float[][] v = s.values();
        int c = v[0].length;
        float[][] z = new float[testEnd][c];
        for (int k = 0; k < c; k++) {
            double sum = 0;
            for (int t = 0; t < trainEnd; t++) sum += v[t][k];
            double mean = sum / trainEnd, ss = 0;
            for (int t = 0; t < trainEnd; t++) ss += (v[t][k] - mean) * (v[t][k] - mean);
            double std = Math.sqrt(ss / trainEnd);
            // fp32, as the harness keeps the z-scored series
            for (int t = 0; t < testEnd; t++) z[t][k] = (float) ((v[t][k] - mean) / std);
        }
        double se = 0, ae = 0;
        long n = 0;
        int windows = 0;
        for (int start = valEnd - lookback; start + lookback + horizon <= testEnd; start++, windows++) {
            for (int i = 0; i < horizon; i++) {
                int target = start + lookback + i, source = target - day * (i / day + 1);
                for (int k = 0; k < c; k++) {
                    double e = z[source][k] - z[target][k]; // an fp32 difference, as the harness takes it
                    se += e * e;
                    ae += Math.abs(e);
                    n++;
                }
            }
        }
        assertEquals(2785, windows, "test windows");
        assertEquals(windows, r.windows(), "test windows");
        assertEquals(se / n, r.mse(), 1e-9, "mse");
        assertEquals(ae / n, r.mae(), 1e-9, "mae");
    }
}
