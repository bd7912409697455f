package io.sidewinder.ssm;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sidewinder.schemas.ModelSnapshot;
import org.junit.jupiter.api.Test;

class SnapshotSignatureTest {
    static final SnapshotSignature KEY = SnapshotSignature.ofText("a shared key of at least thirty-two bytes");

    @Test
    void aSnapshotSignedWithTheKeyVerifiesAndAnythingElseIsRefusedWithTheReason() {
        ModelSnapshot plain = ModelSnapshotsTest.snapshot();
        ModelSnapshot signed = KEY.sign(plain);
        assertNull(KEY.problem(signed));
        assertTrue(KEY.problem(plain).startsWith("unsigned"), KEY.problem(plain));
        SnapshotSignature other = SnapshotSignature.ofText("another shared key of at least 32 bytes!!");
        assertTrue(other.problem(signed).startsWith("signature does not match"), other.problem(signed));
        // The version and the checksum (config and tensors) are signed: a copy under another version does not verify.
        ModelSnapshot bumped = ModelSnapshot.newBuilder(signed).setVersion(signed.getVersion() + 1).build();
        assertTrue(KEY.problem(bumped).startsWith("signature does not match"), KEY.problem(bumped));
        ModelSnapshot otherWeights = ModelSnapshot.newBuilder(signed).setChecksum("00" + signed.getChecksum().substring(2)).build();
        assertTrue(KEY.problem(otherWeights).startsWith("signature does not match"));
        ModelSnapshot garbled = ModelSnapshot.newBuilder(signed).setProvenance(java.util.Map.of("signature", "hmac-sha256:zz")).build();
        assertTrue(KEY.problem(garbled).startsWith("malformed"), KEY.problem(garbled));
    }

    @Test
    void aKeyShorterThan32BytesIsRefused() {
        var e = assertThrows(IllegalArgumentException.class, () -> SnapshotSignature.ofText("short"));
        assertTrue(e.getMessage().contains("at least 32 bytes"), e.getMessage());
    }
}
