package io.sidewinder.schemas;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * The released schemas are pinned byte for byte: an in-place edit of a release (even a changed default, which the
 * fingerprint ignores) or a removed release fails here, not on every model already written under it.
 */
class ReleasedSchemasPinnedTest {

    private static Map<String, String> pins() throws IOException {
        Map<String, String> pins = new TreeMap<>();
        try (InputStream in = ReleasedSchemasPinnedTest.class.getResourceAsStream("/released-schemas.sha256")) {
            assertNotNull(in, "released-schemas.sha256 on the test classpath");
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (line.isBlank() || line.startsWith("#")) continue;
                String[] f = line.trim().split("\\s+");
                pins.put(f[0] + " " + f[1], f[2]);
            }
        }
        return pins;
    }

    @Test
    void everyReleasedSchemaIsExactlyTheOnePinnedAndNoneIsMissing() throws Exception {
        Map<String, String> released = new TreeMap<>();
        for (SchemaHistory.Release r : SchemaHistory.all()) {
            try (InputStream in = SchemaHistory.class.getClassLoader().getResourceAsStream(r.resourcePath())) {
                assertNotNull(in, r.resourcePath());
                byte[] digest = MessageDigest.getInstance("SHA-256").digest(in.readAllBytes());
                released.put(r.recordName() + " v" + r.version(), HexFormat.of().formatHex(digest));
            }
        }
        assertEquals(pins(), released, "released schemas vs released-schemas.sha256: a release was edited, removed or "
                + "added without its pin");
    }
}
