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
        assertTrue(models.retract(k5, Map.of(k4, snapshot(4, 21))));
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
        assertTrue(models.retract(k5, Map.of(k4, snapshot(4, 21))));   // what the global processor then does
        assertEquals(4, models.current().version());
    }

    @Test
    void aRetractedVersionIsNotServedAgainFromAStaleViewOfTheStoreUntilItIsPutAgain() {
        ModelRegistry models = new ModelRegistry("default");
        models.offer(ModelRegistry.key("default", 1), snapshot(1));
        models.offer(ModelRegistry.key("default", 2), snapshot(2));
        assertTrue(models.retract(ModelRegistry.key("default", 2), Map.of(ModelRegistry.key("default", 1), snapshot(1))));
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
        assertTrue(models.retract("default/2", Map.of("default/1", snapshot(1))));
        assertEquals(1, models.current().version());
    }

    @Test
    void withASigningKeyOnlySignedSnapshotsServeAndTheRestAreRejected() {
        ModelRegistry models = new ModelRegistry("default", SIGNATURE);
        assertFalse(models.offerLatest(ModelRegistry.key("default", 2), snapshot(2, 30)), "an unsigned snapshot");
        assertEquals(1, models.rejectedCount());
        assertTrue(models.offerLatest(ModelRegistry.key("default", 2), bytes(signed(2, 30))));
        assertEquals(2, models.current().version());
        // Signed with another key: rejected, the signed one keeps serving.
        var forged = io.sidewinder.ssm.SnapshotSignature.ofText("an attacker's key, also 32 bytes or more")
                .sign(AvroSerdes.modelSnapshot().deserialize(null, snapshot(3, 31)));
        assertFalse(models.offerLatest(ModelRegistry.key("default", 3), bytes(forged)));
        assertEquals(2, models.current().version());
        assertEquals(2, models.rejectedCount());
    }

    private static byte[] bytes(io.sidewinder.schemas.ModelSnapshot s) {
        return AvroSerdes.modelSnapshot().serialize(null, s);
    }

    static final io.sidewinder.ssm.SnapshotSignature SIGNATURE =
            io.sidewinder.ssm.SnapshotSignature.ofText("a shared key of at least thirty-two bytes");

    /** {@link #snapshot(long, long)} signed with {@link #SIGNATURE}. */
    private static io.sidewinder.schemas.ModelSnapshot signed(long version, long seed) {
        return SIGNATURE.sign(AvroSerdes.modelSnapshot().deserialize(null, snapshot(version, seed)));
    }

    @Test
    void aFallbackAfterADeletionChoosesOnlyWhatAnOfferWouldHaveServed() {
        ModelRegistry models = new ModelRegistry("default", SIGNATURE);
        String k1 = ModelRegistry.key("default", 1), k2 = ModelRegistry.key("default", 2);
        byte[] signedOne = bytes(signed(1, 40)), signedTwo = bytes(signed(2, 41));
        String kHigh = ModelRegistry.key("default", Long.MAX_VALUE - 1);
        byte[] unsignedHigh = snapshot(Long.MAX_VALUE - 1, 42);
        assertTrue(models.offerLatest(k1, signedOne));
        assertTrue(models.offerLatest(k2, signedTwo));
        assertFalse(models.offerLatest(kHigh, unsignedHigh), "rejected when offered");
        // The serving v2 is deleted: the unsigned snapshot still in the store must not become the fallback.
        assertTrue(models.retract(k2, Map.of(k1, signedOne, kHigh, unsignedHigh)));
        assertEquals(1, models.current().version());
    }

    @Test
    void aSnapshotUnderAnotherVersionsKeyIsRejected() {
        ModelRegistry models = new ModelRegistry("default");
        // v3's bytes under v5's key: they would outrank v4, and come back after v3's own key was deleted.
        assertFalse(models.offerLatest(ModelRegistry.key("default", 5), snapshot(3, 50)));
        assertFalse(models.offerLatest("default/x", snapshot(3, 50)));
        assertEquals(null, models.current());
        assertTrue(models.offerLatest(ModelRegistry.key("default", 3), snapshot(3, 50)));
    }

    @Test
    void aSnapshotWhoseChecksumIsNotHexIsRejectedWithoutThrowing() {
        ModelRegistry models = new ModelRegistry("default");
        var s = AvroSerdes.modelSnapshot().deserialize(null, snapshot(2, 60));
        s.setChecksum("zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz");   // a record that once stopped the global thread
        assertFalse(models.offerLatest(ModelRegistry.key("default", 2), bytes(s)));
        assertFalse(models.offer(ModelRegistry.key("default", 2), bytes(s)));
        assertEquals(null, models.current());
    }

    @Test
    void theServingSignedSnapshotRepublishedWithoutItsSignatureFallsBackAsARestartWould() {
        ModelRegistry models = new ModelRegistry("default", SIGNATURE);
        String k1 = ModelRegistry.key("default", 1), k2 = ModelRegistry.key("default", 2);
        byte[] signedOne = bytes(signed(1, 70));
        var signedTwo = signed(2, 71);
        models.offerLatest(k1, signedOne);
        models.offerLatest(k2, bytes(signedTwo));
        var stripped = io.sidewinder.schemas.ModelSnapshot.newBuilder(signedTwo).setProvenance(Map.of()).build();
        assertFalse(models.offerLatest(k2, bytes(stripped)));
        // Same checksum, same tag: still seen as replaced, so the caller falls back as a restarted instance serves.
        assertTrue(models.servesReplacedBytes(k2));
    }

    @Test
    void aRejectedSnapshotCountsOnceHoweverManyTasksReofferIt() {
        ModelRegistry models = new ModelRegistry("default", SIGNATURE);
        String k = ModelRegistry.key("default", 7);
        byte[] unsigned = snapshot(7, 80);
        // A restart: the global store is restored without its processor, and every task's init offers what it holds.
        for (int task = 0; task < 6; task++) assertFalse(models.offer(k, unsigned));
        assertEquals(1, models.rejectedCount());
        assertFalse(models.offerLatest(k, unsigned));
        assertEquals(1, models.rejectedCount(), "the same record, judged again by the global thread");
        assertFalse(models.offerLatest(k, snapshot(7, 81)));
        assertEquals(2, models.rejectedCount(), "other bytes under the key count anew");
    }

    @Test
    void onlyAsciiDigitsNameAVersionInAKey() {
        ModelRegistry models = new ModelRegistry("default");
        assertFalse(models.offerLatest("default/+5", snapshot(5, 90)));
        assertFalse(models.offerLatest("default/\u0665", snapshot(5, 90)));   // an Arabic-Indic five
        assertTrue(models.offerLatest("default/5", snapshot(5, 90)), "unpadded keys keep serving");
    }
}
