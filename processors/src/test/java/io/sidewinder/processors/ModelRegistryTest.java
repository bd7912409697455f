package io.sidewinder.processors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sidewinder.schemas.serde.AvroSerdes;
import io.sidewinder.ssm.ModelParameters;
import io.sidewinder.ssm.ModelSnapshots;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ModelRegistryTest {
    static byte[] snapshot(long version) {
        return snapshot(version, version);
    }

    static byte[] snapshot(long version, long seed) {
        return AvroSerdes.modelSnapshot().serialize(null, ModelSnapshots.toSnapshot(
                ModelParameters.initialise(SensorReadingProcessorTest.UNIVARIATE, seed), "default", version, Map.of(), Map.of()));
    }

    @Test
    void aVersionPublishedTwiceServesTheLaterSnapshotAsARestartedInstanceWould() {
        String key = ModelRegistry.key("default", 4);
        byte[] first = snapshot(4, 10), second = snapshot(4, 11);
        ModelRegistry running = new ModelRegistry("default");
        assertTrue(running.offerLatest(key, first));
        assertTrue(running.offerLatest(key, second), "the topic's later record under the same key replaces it");
        long laterTag = ModelRegistry.tag(AvroSerdes.modelSnapshot().deserialize(null, second));
        assertEquals(laterTag, running.current().tag());
        assertFalse(running.offer(key, first), "a stream thread's stale view of the store does not bring it back");
        assertEquals(laterTag, running.current().tag());
        ModelRegistry restarted = new ModelRegistry("default");   // what compaction leaves: the later record
        restarted.offer(key, second);
        assertEquals(restarted.current().tag(), running.current().tag());
        assertFalse(running.offerLatest(ModelRegistry.key("default", 3), snapshot(3, 12)), "a lower version does not");
    }

    @Test
    void aStaleStoreViewCannotServeAVersionDeletedAndRepublishedWithBadBytes() {
        ModelRegistry models = new ModelRegistry("default");
        String k4 = ModelRegistry.key("default", 4), k5 = ModelRegistry.key("default", 5);
        byte[] oldFive = snapshot(5, 20);
        models.offerLatest(k4, snapshot(4, 21));
        models.offerLatest(k5, oldFive);
        assertTrue(models.retract(k5, List.of(snapshot(4, 21))));
        models.reinstate(k5);                                       // new bytes under the key: the global thread
        assertFalse(models.offerLatest(k5, "corrupt".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        // a stream thread's iterator opened before the tombstone still holds the old v5
        assertFalse(models.offer(k5, oldFive), "the deleted bytes do not come back");
        assertEquals(4, models.current().version());
    }

    @Test
    void theServingVersionRepublishedWithBadBytesIsSeenAsReplaced() {
        ModelRegistry models = new ModelRegistry("default");
        String k4 = ModelRegistry.key("default", 4), k5 = ModelRegistry.key("default", 5);
        models.offerLatest(k4, snapshot(4, 21));
        models.offerLatest(k5, snapshot(5, 20));
        assertFalse(models.servesReplacedBytes(k5));
        assertFalse(models.offerLatest(k5, "corrupt".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        assertTrue(models.servesReplacedBytes(k5), "a restarted instance would not serve v5's old bytes");
        assertTrue(models.retract(k5, List.of(snapshot(4, 21))));   // what the global processor then does
        assertEquals(4, models.current().version());
    }

    @Test
    void aRetractedVersionIsNotServedAgainFromAStaleViewOfTheStoreUntilItIsPutAgain() {
        ModelRegistry models = new ModelRegistry("default");
        models.offer(ModelRegistry.key("default", 1), snapshot(1));
        models.offer(ModelRegistry.key("default", 2), snapshot(2));
        assertTrue(models.retract(ModelRegistry.key("default", 2), List.of(snapshot(1))));
        assertEquals(1, models.current().version());
        // a stream thread initialising from a snapshot of the global store taken before the tombstone
        assertFalse(models.offer(ModelRegistry.key("default", 2), snapshot(2)));
        assertEquals(1, models.current().version());
        models.reinstate(ModelRegistry.key("default", 2));   // published again under that key (the global thread)
        assertTrue(models.offerLatest(ModelRegistry.key("default", 2), snapshot(2)));
        assertEquals(2, models.current().version());
    }

    @Test
    void aModelPublishedUnderAnUnpaddedKeyIsRetractedByItsTombstone() {
        ModelRegistry models = new ModelRegistry("default");
        models.offer("default/1", snapshot(1));
        models.offer("default/2", snapshot(2));
        assertTrue(models.retract("default/2", List.of(snapshot(1))));
        assertEquals(1, models.current().version());
    }

    @Test
    void withASigningKeyOnlySignedSnapshotsServeAndTheRestAreRejected() {
        var signature = io.sidewinder.ssm.SnapshotSignature.ofText("a shared key of at least thirty-two bytes");
        ModelRegistry models = new ModelRegistry("default", signature);
        io.sidewinder.schemas.ModelSnapshot plain = AvroSerdes.modelSnapshot().deserialize(null, snapshot(2, 30));
        assertFalse(models.offerLatest(ModelRegistry.key("default", 2), snapshot(2, 30)), "an unsigned snapshot");
        assertEquals(1, models.rejectedCount());
        assertTrue(models.offerLatest(ModelRegistry.key("default", 2),
                AvroSerdes.modelSnapshot().serialize(null, signature.sign(plain))));
        assertEquals(2, models.current().version());
        // Signed with another key: rejected, the signed one keeps serving.
        var forged = io.sidewinder.ssm.SnapshotSignature.ofText("an attacker's key, also 32 bytes or more")
                .sign(AvroSerdes.modelSnapshot().deserialize(null, snapshot(3, 31)));
        assertFalse(models.offerLatest(ModelRegistry.key("default", 3), AvroSerdes.modelSnapshot().serialize(null, forged)));
        assertEquals(2, models.current().version());
        assertEquals(2, models.rejectedCount());
    }
}
