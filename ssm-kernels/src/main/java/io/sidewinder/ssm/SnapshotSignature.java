package io.sidewinder.ssm;

import io.sidewinder.schemas.ModelSnapshot;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * An HMAC-SHA256 signature of a model snapshot under a key the trainers and the stream share: anyone who can write the
 * models topic can publish a snapshot, and with a key configured the stream serves only those signed with it. The
 * signature covers the model id, the version and the checksum (which covers the config and every tensor); it is
 * kept in the snapshot's provenance as {@value #PROVENANCE_KEY}, so the schema is unchanged. Provenance and metrics
 * themselves are descriptive and not covered.
 */
public final class SnapshotSignature {
    public static final String PROVENANCE_KEY = "signature";
    static final String SCHEME = "hmac-sha256:";
    /** Shortest key accepted: HMAC-SHA256's strength needs at least 32 bytes of key. */
    public static final int MIN_KEY_BYTES = 32;

    private final SecretKeySpec key;

    public SnapshotSignature(byte[] key) {
        if (key.length < MIN_KEY_BYTES) {
            throw new IllegalArgumentException("a model signing key needs at least " + MIN_KEY_BYTES + " bytes, got "
                    + key.length);
        }
        this.key = new SecretKeySpec(key.clone(), "HmacSHA256");
    }

    /** A key given as text (a setting, a file): its UTF-8 bytes, surrounding white space removed. */
    public static SnapshotSignature ofText(String key) {
        return new SnapshotSignature(key.strip().getBytes(StandardCharsets.UTF_8));
    }

    /** A copy of {@code snapshot} carrying its signature (any earlier one replaced). */
    public ModelSnapshot sign(ModelSnapshot snapshot) {
        Map<String, String> provenance = new HashMap<>(snapshot.getProvenance());
        provenance.put(PROVENANCE_KEY, SCHEME + HexFormat.of().formatHex(mac(snapshot)));
        return ModelSnapshot.newBuilder(snapshot).setProvenance(provenance).build();
    }

    /** Why the snapshot does not carry a valid signature under this key, or null when it does. */
    public String problem(ModelSnapshot snapshot) {
        String signature = snapshot.getProvenance() == null ? null : snapshot.getProvenance().get(PROVENANCE_KEY);
        if (signature == null) {
            return "unsigned (the stream has a model signing key: publish with train --signing-key-file)";
        }
        if (!signature.startsWith(SCHEME)) {
            return "signature of an unknown scheme";
        }
        byte[] given;
        try {
            given = HexFormat.of().parseHex(signature.substring(SCHEME.length()));
        } catch (IllegalArgumentException e) {
            return "malformed signature";
        }
        // Constant time: the comparison must not tell an attacker how many leading bytes were right.
        return MessageDigest.isEqual(given, mac(snapshot)) ? null
                : "signature does not match (another key, or the model id, version or tensors were changed)";
    }

    private byte[] mac(ModelSnapshot s) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(key);
            // Labelled and length-prefixed: no two (id, version, checksum) triples give the same input.
            String signed = "sidewinder-snapshot-v1\n" + s.getModelId().length() + ":" + s.getModelId() + "\n"
                    + s.getVersion() + "\n" + s.getChecksum().length() + ":" + s.getChecksum();
            return mac.doFinal(signed.getBytes(StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is required by every Java platform", e);
        }
    }
}
