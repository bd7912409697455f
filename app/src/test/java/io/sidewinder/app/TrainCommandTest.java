package io.sidewinder.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sidewinder.schemas.ModelSnapshot;
import io.sidewinder.schemas.SensorReading;
import io.sidewinder.ssm.ModelSnapshots;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.apache.avro.file.DataFileWriter;
import org.apache.avro.specific.SpecificDatumWriter;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

class TrainCommandTest {

    @ParameterizedTest(name = "precision={0}")
    @ValueSource(strings = {"double", "fp32"})
    void trainingFromAnAvroFileOfReadingsWritesAValidatedSnapshotWithProvenance(String precision, @TempDir Path dir)
            throws Exception {
        Path data = dir.resolve("readings.avro");
        try (DataFileWriter<SensorReading> w = new DataFileWriter<>(new SpecificDatumWriter<>(SensorReading.class))) {
            w.create(SensorReading.getClassSchema(), data.toFile());
            for (int s = 0; s < 2; s++) {
                for (int i = 0; i < 400; i++) {
                    float v = (float) (Math.sin(i * 2 * Math.PI / 20 + s) + 10);
                    w.append(SensorReading.newBuilder().setSensorId("s" + s).setEventTime(Instant.ofEpochMilli(i * 1000L))
                            .setValues(List.of(v, 2 * v)).build());
                }
            }
            // A late duplicate that the ordering rule drops, as the stream would.
            w.append(SensorReading.newBuilder().setSensorId("s0").setEventTime(Instant.ofEpochMilli(5000))
                    .setValues(List.of(1f, 1f)).build());
        }
        Path out = dir.resolve("model.avro");
        int code = Main.commandLine().execute("train", "--data", data.toString(), "--lookback", "40", "--horizon", "4",
                "--d-model", "8", "--layers", "1", "--d-state", "4", "--epochs", "2", "--samples-per-epoch", "64",
                "--threads", "2", "--loss", "MSE", "--precision", precision, "--out", out.toString());
        assertEquals(0, code);
        ModelSnapshot snap = ModelSnapshots.read(out);
        var params = ModelSnapshots.toParameters(snap); // checksum, shapes, finiteness
        assertEquals(1, params.config().channels());
        assertEquals(4, params.config().horizon());
        assertEquals(1000L, params.config().gap().referenceMillis(), "gap reference = the data's median spacing");
        assertTrue(snap.getMetrics().get("val_mse") > 0 && Double.isFinite(snap.getMetrics().get("val_mse")));
        assertEquals("holdout", snap.getProvenance().get("protocol"));
        assertEquals("1", snap.getProvenance().get("seed"));
        assertEquals(precision.toUpperCase(java.util.Locale.ROOT), snap.getProvenance().get("precision"));
    }
}
