package io.sidewinder.schemas;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericFixed;
import org.apache.avro.generic.IndexedRecord;

/**
 * Asserts that a datum read under a reader schema is what Avro schema resolution promises for a datum
 * written under a writer schema: matching fields equal (with numeric and string/bytes promotion), fields
 * the writer lacked hold the reader's default, union branches chosen as the spec says.
 */
public final class ResolvedDatum {

    private ResolvedDatum() {
    }

    public static void assertResolved(Object written, Schema writer, Object read, Schema reader, String path) {
        if (writer.getType() == Schema.Type.UNION) {
            writer = writer.getTypes().get(GenericData.get().resolveUnion(writer, written));
        }
        if (reader.getType() == Schema.Type.UNION) {
            reader = branchFor(reader, writer, path);
        }
        switch (writer.getType()) {
            case NULL -> assertNull(read, path);
            case BOOLEAN -> assertEquals(written, read, path);
            case INT, LONG, FLOAT, DOUBLE -> assertNumber((Number) written, read, reader, path);
            case STRING, BYTES -> {
                byte[] w = bytes(written);
                if (reader.getType() == Schema.Type.STRING) {
                    assertEquals(new String(w, StandardCharsets.UTF_8), read.toString(), path);
                } else {
                    assertEquals(HexFormat.of().formatHex(w), HexFormat.of().formatHex(bytes(read)), path);
                }
            }
            case FIXED -> assertEquals(HexFormat.of().formatHex(((GenericFixed) written).bytes()),
                    HexFormat.of().formatHex(((GenericFixed) read).bytes()), path);
            case ENUM -> assertEquals(written.toString(), read.toString(), path);
            case ARRAY -> {
                List<?> w = (List<?>) written;
                List<?> r = assertInstanceOf(List.class, read, path);
                assertEquals(w.size(), r.size(), path + " size");
                for (int i = 0; i < w.size(); i++) {
                    assertResolved(w.get(i), writer.getElementType(), r.get(i), reader.getElementType(),
                            path + "[" + i + "]");
                }
            }
            case MAP -> {
                Map<String, Object> w = byStringKey((Map<?, ?>) written);
                Map<String, Object> r = byStringKey(assertInstanceOf(Map.class, read, path));
                assertEquals(w.keySet(), r.keySet(), path + " keys");
                for (String k : w.keySet()) {
                    assertResolved(w.get(k), writer.getValueType(), r.get(k), reader.getValueType(),
                            path + "{" + k + "}");
                }
            }
            case RECORD -> {
                IndexedRecord w = (IndexedRecord) written;
                IndexedRecord r = assertInstanceOf(IndexedRecord.class, read, path);
                for (Schema.Field rf : reader.getFields()) {
                    Schema.Field wf = writerField(writer, rf);
                    String at = path + "/" + rf.name();
                    if (wf != null) {
                        assertResolved(w.get(wf.pos()), wf.schema(), r.get(rf.pos()), rf.schema(), at);
                    } else {
                        // A field the writer did not have: the reader's default, compared in generic form.
                        assertResolved(GenericData.get().getDefaultValue(rf), rf.schema(), r.get(rf.pos()),
                                rf.schema(), at + " (default)");
                    }
                }
            }
            default -> fail("unexpected writer type " + writer + " at " + path);
        }
    }

    private static void assertNumber(Number w, Object read, Schema reader, String path) {
        switch (reader.getType()) {
            case INT -> assertEquals(w.intValue(), read, path);
            case LONG -> {
                if (read instanceof Instant instant) {
                    assertEquals(w.longValue(), instant.toEpochMilli(), path);
                } else {
                    assertEquals(w.longValue(), read, path);
                }
            }
            case FLOAT -> assertEquals(w.floatValue(), read, path);
            case DOUBLE -> assertEquals(w.doubleValue(), read, path);
            default -> fail(path + ": number read as " + reader);
        }
    }

    private static Schema branchFor(Schema readerUnion, Schema writer, String path) {
        for (Schema branch : readerUnion.getTypes()) {
            if (branch.getType() == writer.getType()
                    && (!isNamed(branch) || branch.getFullName().equals(writer.getFullName()))) {
                return branch;
            }
        }
        for (Schema branch : readerUnion.getTypes()) {
            if (promotes(writer.getType(), branch.getType())) {
                return branch;
            }
        }
        return fail(path + ": no branch of " + readerUnion + " reads " + writer);
    }

    private static boolean isNamed(Schema s) {
        return switch (s.getType()) {
            case RECORD, ENUM, FIXED -> true;
            default -> false;
        };
    }

    private static boolean promotes(Schema.Type w, Schema.Type r) {
        return switch (w) {
            case INT -> r == Schema.Type.LONG || r == Schema.Type.FLOAT || r == Schema.Type.DOUBLE;
            case LONG -> r == Schema.Type.FLOAT || r == Schema.Type.DOUBLE;
            case FLOAT -> r == Schema.Type.DOUBLE;
            case STRING -> r == Schema.Type.BYTES;
            case BYTES -> r == Schema.Type.STRING;
            default -> false;
        };
    }

    private static Schema.Field writerField(Schema writer, Schema.Field readerField) {
        Schema.Field f = writer.getField(readerField.name());
        if (f == null) {
            for (String alias : readerField.aliases()) {
                f = writer.getField(alias);
                if (f != null) {
                    break;
                }
            }
        }
        return f;
    }

    private static byte[] bytes(Object o) {
        if (o instanceof ByteBuffer b) {
            ByteBuffer d = b.duplicate();
            byte[] out = new byte[d.remaining()];
            d.get(out);
            return out;
        }
        return o.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static Map<String, Object> byStringKey(Map<?, ?> map) {
        Map<String, Object> out = new TreeMap<>();
        map.forEach((k, v) -> out.put(k.toString(), v));
        return out;
    }
}
