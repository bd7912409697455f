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
    @CsvSource({"ETTh1.csv,0.512,0.433"})
    void seasonalNaiveMatchesTheComputedReference(String file, double mse, double mae) throws Exception {
        CsvSeries s = CsvSeries.read(dataset(file), "date", null);
        EttProtocol p = EttProtocol.forFile(file, 96, 96);
        ForecastEvaluation.Result r = ForecastEvaluation.evaluate(p.standardise(s.values()), p, EttProtocol.Split.TEST,
                ForecastEvaluation.seasonal(24));
        assertEquals(mse, r.mse(), 0.0015, "mse");
        assertEquals(mae, r.mae(), 0.0015, "mae");
    }
}
