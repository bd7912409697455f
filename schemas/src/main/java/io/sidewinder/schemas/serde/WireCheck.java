package io.sidewinder.schemas.serde;

import java.util.IdentityHashMap;
import java.util.Map;

import org.apache.avro.Schema;

/**
 * Walks an Avro binary body against its writer schema, with bounds checks, before the real decode.
 *
 * <p>Avro's decoders allocate what a length or item count claims before reading it, so one flipped bit
 * in a body can ask for gigabytes (and kill a stream thread with OutOfMemoryError), and they ignore
 * trailing bytes. This check reads nothing into objects, rejects every length or count that the remaining
 * bytes cannot hold, non-canonical values that no Avro writer produces (booleans other than 0/1, varints
 * with overflow bits, out-of-range union/enum indexes, invalid UTF-8), and bytes left over after the record.
 * Not thread-confined: it keeps no state between calls.
 */
final class WireCheck {

    /** Item counts allowed for arrays/maps whose items encode to zero bytes (e.g. arrays of null). */
    private static final long MAX_ZERO_BYTE_ITEMS = 1 << 20;

    /** Why a body was rejected. */
    static final class Malformed extends Exception {
        private final boolean truncated;

        Malformed(String message, boolean truncated) {
            super(message, null, false, false);
            this.truncated = truncated;
        }

        /** True if the bytes simply ended too early. */
        boolean truncated() {
            return truncated;
        }
    }

    private final byte[] data;
    private final int limit;
    private final Map<Schema, Long> minBytes = new IdentityHashMap<>();
    private int pos;

    private WireCheck(byte[] data, int offset) {
        this.data = data;
        this.pos = offset;
        this.limit = data.length;
    }

    /** Checks that {@code data[offset..]} is exactly one well-formed datum of {@code writer}. */
    static void check(Schema writer, byte[] data, int offset) throws Malformed {
        WireCheck c = new WireCheck(data, offset);
        c.datum(writer, "");
        if (c.pos != c.limit) {
            throw new Malformed((c.limit - c.pos) + " trailing bytes after the record", false);
        }
    }

    private void datum(Schema s, String path) throws Malformed {
        switch (s.getType()) {
            case NULL -> {
            }
            case BOOLEAN -> {
                int b = nextByte(path);
                if (b > 1) {
                    throw corrupt(path, "boolean byte is " + b + ", not 0 or 1");
                }
            }
            case INT -> varint(5, path);
            case LONG -> varint(10, path);
            case FLOAT -> skip(4, path);
            case DOUBLE -> skip(8, path);
            case FIXED -> skip(s.getFixedSize(), path);
            case BYTES -> skip(length(path), path);
            case STRING -> utf8(length(path), path);
            case ENUM -> index(s.getEnumSymbols().size(), "enum symbol", path);
            case UNION -> {
                int branch = index(s.getTypes().size(), "union branch", path);
                datum(s.getTypes().get(branch), path);
            }
            case RECORD -> {
                for (Schema.Field f : s.getFields()) {
                    datum(f.schema(), path + "/" + f.name());
                }
            }
            case ARRAY -> {
                for (long n = blockCount(s.getElementType(), 0, path); n != 0;
                        n = blockCount(s.getElementType(), 0, path)) {
                    for (long i = 0; i < n; i++) {
                        datum(s.getElementType(), path + "[]");
                    }
                }
            }
            case MAP -> {
                for (long n = blockCount(s.getValueType(), 1, path); n != 0;
                        n = blockCount(s.getValueType(), 1, path)) {
                    for (long i = 0; i < n; i++) {
                        utf8(length(path + "{key}"), path + "{key}");
                        datum(s.getValueType(), path + "{}");
                    }
                }
            }
        }
    }

    /** Reads an array/map block header and returns its item count (0 ends the array/map). */
    private long blockCount(Schema item, long extraBytesPerItem, String path) throws Malformed {
        long n = varint(10, path);
        if (n < 0) {
            if (n == Long.MIN_VALUE) {
                throw corrupt(path, "invalid block count");
            }
            n = -n;
            long blockBytes = varint(10, path);
            if (blockBytes < 0 || blockBytes > limit - pos) {
                throw truncatedOrCorrupt(path, "block claims " + blockBytes + " bytes");
            }
        }
        long perItem = minBytes(item) + extraBytesPerItem;
        long fits = perItem == 0 ? MAX_ZERO_BYTE_ITEMS : (limit - pos) / perItem;
        if (n > fits) {
            throw truncatedOrCorrupt(path, "block claims " + n + " items but only " + (limit - pos)
                    + " bytes remain");
        }
        return n;
    }

    private long minBytes(Schema s) {
        Long known = minBytes.get(s);
        if (known != null) {
            return known;
        }
        minBytes.put(s, 0L); // recursive schemas: a self-reference counts as zero
        long min = switch (s.getType()) {
            case NULL -> 0;
            case FLOAT -> 4;
            case DOUBLE -> 8;
            case FIXED -> s.getFixedSize();
            case RECORD -> s.getFields().stream().mapToLong(f -> minBytes(f.schema())).sum();
            default -> 1; // boolean, int, long, enum, union index, length, block count
        };
        minBytes.put(s, min);
        return min;
    }

    private int index(int size, String what, String path) throws Malformed {
        long i = varint(5, path);
        if (i < 0 || i >= size) {
            throw corrupt(path, what + " index " + i + " out of range 0.." + (size - 1));
        }
        return (int) i;
    }

    private int length(String path) throws Malformed {
        long n = varint(10, path);
        if (n < 0) {
            throw corrupt(path, "negative length " + n);
        }
        if (n > limit - pos) {
            throw truncatedOrCorrupt(path, "length " + n + " but only " + (limit - pos) + " bytes remain");
        }
        return (int) n;
    }

    /** Zig-zag varint of at most {@code maxBytes} bytes, rejecting bits beyond 32 (int) or 64 (long). */
    private long varint(int maxBytes, String path) throws Malformed {
        long raw = 0;
        for (int i = 0; i < maxBytes; i++) {
            int b = nextByte(path);
            if (i == maxBytes - 1 && (b & ~(maxBytes == 5 ? 0x0f : 0x01)) != 0) {
                throw corrupt(path, "varint overflows " + (maxBytes == 5 ? "int" : "long"));
            }
            raw |= (long) (b & 0x7f) << (7 * i);
            if ((b & 0x80) == 0) {
                return (raw >>> 1) ^ -(raw & 1);
            }
        }
        throw corrupt(path, "varint longer than " + maxBytes + " bytes");
    }

    private void utf8(int n, String path) throws Malformed {
        int end = pos + n;
        int i = pos;
        while (i < end) {
            int b = data[i] & 0xff;
            int extra;
            int min;
            if (b < 0x80) {
                i++;
                continue;
            } else if (b >= 0xc2 && b <= 0xdf) {
                extra = 1;
                min = 0x80;
            } else if (b >= 0xe0 && b <= 0xef) {
                extra = 2;
                min = 0x800;
            } else if (b >= 0xf0 && b <= 0xf4) {
                extra = 3;
                min = 0x10000;
            } else {
                throw corrupt(path, "string is not valid UTF-8");
            }
            if (i + extra >= end) {
                throw corrupt(path, "string is not valid UTF-8");
            }
            int cp = b & (0x3f >> extra);
            for (int k = 1; k <= extra; k++) {
                int c = data[i + k] & 0xff;
                if ((c & 0xc0) != 0x80) {
                    throw corrupt(path, "string is not valid UTF-8");
                }
                cp = (cp << 6) | (c & 0x3f);
            }
            if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
                throw corrupt(path, "string is not valid UTF-8");
            }
            i += extra + 1;
        }
        pos = end;
    }

    private int nextByte(String path) throws Malformed {
        if (pos >= limit) {
            throw new Malformed("body ends early at " + where(path), true);
        }
        return data[pos++] & 0xff;
    }

    private void skip(long n, String path) throws Malformed {
        if (n > limit - pos) {
            throw new Malformed("body ends early at " + where(path), true);
        }
        pos += (int) n;
    }

    private Malformed corrupt(String path, String why) {
        return new Malformed("corrupt body at " + where(path) + ": " + why, false);
    }

    private Malformed truncatedOrCorrupt(String path, String why) {
        return new Malformed("truncated or corrupt body at " + where(path) + ": " + why, false);
    }

    private String where(String path) {
        return (path.isEmpty() ? "/" : path) + " (byte " + pos + ")";
    }
}
