package io.sidewinder.ssm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sidewinder.schemas.ModelSnapshot;
import io.sidewinder.schemas.Tensor;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelSnapshotsTest {
    static final ModelConfig CFG = ModelConfig.defaults(2).withShape(16, 2, 8, 4);

    static ModelSnapshot snapshot() {
        return ModelSnapshots.toSnapshot(ModelParameters.initialise(CFG, 5), "pump", 3,
                Map.of("seed", "5"), Map.of("val_loss", 0.25));
    }

    @Test
    void snapshotRoundTripsThroughAFileAndServesTheSameModel(@TempDir Path dir) throws Exception {
        ModelParameters original = ModelParameters.initialise(CFG, 5);
        ModelSnapshot snap = ModelSnapshots.toSnapshot(original, "pump", 3, Map.of("seed", "5"), Map.of("val_loss", 0.25));
        Path file = dir.resolve("model.avro");
        ModelSnapshots.write(snap, file);
        ModelSnapshot read = ModelSnapshots.read(file);
        assertEquals("pump", read.getModelId());
        assertEquals(3, read.getVersion());
        assertEquals(0.25, read.getMetrics().get("val_loss"));
        ModelParameters back = ModelSnapshots.toParameters(read);
        assertEquals(CFG, back.config());
        for (Parameter p : original.all()) {
            assertArrayEquals(p.data(), back.data(p.name()), p.name());
        }
    }

    @Test
    void aTamperedParameterFailsTheChecksum() {
        ModelSnapshot snap = snapshot();
        Tensor t = snap.getParameters().get(3);
        ByteBuffer data = t.getData();
        data.put(0, (byte) (data.get(0) ^ 1));
        var e = assertThrows(InvalidModelException.class, () -> ModelSnapshots.toParameters(snap));
        assertTrue(e.getMessage().contains("checksum"), e.getMessage());
    }

    @Test
    void nonFiniteWeightsAreRefusedEvenWithAValidChecksum() {
        ModelSnapshot snap = snapshot();
        Tensor t = snap.getParameters().get(0);
        t.getData().order(java.nio.ByteOrder.LITTLE_ENDIAN).putFloat(4, Float.NaN);
        snap.setChecksum(ModelSnapshots.checksum(snap.getConfig(), snap.getParameters()));
        var e = assertThrows(InvalidModelException.class, () -> ModelSnapshots.toParameters(snap));
        assertTrue(e.getMessage().contains("non-finite"), e.getMessage());
    }

    @Test
    void theParameterCountOfAConfigIsTheSizeOfItsTensors() {
        ModelConfig base = ModelConfig.defaults(2).withShape(12, 3, 5, 7);
        for (ModelConfig c : java.util.List.of(base, ModelConfig.defaults(1), base.withReadoutLags(9),
                base.withReadoutLags(9).withReadoutForm(ReadoutForm.LAST_VALUE), base.withCycle(24, 3),
                base.withMembers(3), base.withReadoutLags(4).withCycle(5, 1).withMembers(2).withReadoutForm(ReadoutForm.MIXED))) {
            long listed = ModelParameters.expectedShapes(c).values().stream()
                    .mapToLong(shape -> java.util.Arrays.stream(shape).asLongStream().reduce(1, (a, b) -> a * b)).sum();
            assertEquals(listed, ModelParameters.parameterCount(c), c.toString());
            assertEquals(listed, ModelParameters.initialise(c, 1).count(), c.toString());
        }
    }

    @Test
    void aConfigOfAHundredMillionLayersIsRefusedBeforeItsShapesAreListed() {
        ModelSnapshot snap = snapshot();
        snap.getConfig().put("layers", "100000000");
        snap.setChecksum(ModelSnapshots.checksum(snap.getConfig(), snap.getParameters()));
        var e = assertThrows(InvalidModelException.class, () -> ModelSnapshots.toParameters(snap));
        assertTrue(e.getMessage().contains("parameter values"), e.getMessage());
        snap.getConfig().put("layers", "1");
        snap.getConfig().put("horizon", String.valueOf((1 << 30) + 1));   // 2·H·C wraps an int
        snap.setChecksum(ModelSnapshots.checksum(snap.getConfig(), snap.getParameters()));
        var overflow = assertThrows(InvalidModelException.class, () -> ModelSnapshots.toParameters(snap));
        // Refused for the overflow itself, not for the wrapped (and then mismatched) head shape it would give.
        assertTrue(overflow.getMessage().contains("overflow"), overflow.getMessage());
    }

    @Test
    void anALogWhosePoleOverflowsFp32IsRefused() {
        ModelSnapshot snap = snapshot();
        Tensor t = snap.getParameters().stream().filter(p -> p.getName().endsWith("A_log")).findFirst().orElseThrow();
        t.getData().order(java.nio.ByteOrder.LITTLE_ENDIAN).putFloat(0, 89f);   // exp(89) > Float.MAX_VALUE
        snap.setChecksum(ModelSnapshots.checksum(snap.getConfig(), snap.getParameters()));
        var e = assertThrows(InvalidModelException.class, () -> ModelSnapshots.toParameters(snap));
        assertTrue(e.getMessage().contains("A_log 89.0"), e.getMessage());
    }

    @Test
    void shapesThatDoNotMatchTheConfigAreRefused() {
        ModelSnapshot snap = snapshot();
        Tensor t = snap.getParameters().get(0);
        List<Integer> shape = new ArrayList<>(t.getShape());
        java.util.Collections.reverse(shape);
        t.setShape(shape);
        snap.setChecksum(ModelSnapshots.checksum(snap.getConfig(), snap.getParameters()));
        var e = assertThrows(InvalidModelException.class, () -> ModelSnapshots.toParameters(snap));
        assertTrue(e.getMessage().contains("shape"), e.getMessage());

        ModelSnapshot missing = snapshot();
        missing.getParameters().remove(missing.getParameters().size() - 1);
        missing.setChecksum(ModelSnapshots.checksum(missing.getConfig(), missing.getParameters()));
        var m = assertThrows(InvalidModelException.class, () -> ModelSnapshots.toParameters(missing));
        assertTrue(m.getMessage().contains("missing"), m.getMessage());
    }

    @Test
    void aGarbageFileIsReportedAsNotAModel(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("junk.avro");
        Files.write(file, new byte[] {1, 2, 3, 4, 5});
        assertThrows(InvalidModelException.class, () -> ModelSnapshots.read(file));
        assertThrows(java.io.FileNotFoundException.class, () -> ModelSnapshots.read(dir.resolve("absent.avro")));
    }
}
