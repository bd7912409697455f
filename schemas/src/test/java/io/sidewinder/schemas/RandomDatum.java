package io.sidewinder.schemas;

import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;

import org.apache.avro.LogicalType;
import org.apache.avro.LogicalTypes;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;

/**
 * Random generic datums for an Avro schema, in the generic representation (timestamps as raw longs),
 * including edge values: empty collections, NaN/infinities/-0.0, extreme ints and longs, non-ASCII and
 * supplementary-plane strings. Covers the Avro types the Sidewinder schemas use plus enum and fixed; a
 * logical type it does not know fails loudly, so a schema that starts using one extends this first.
 */
public final class RandomDatum {

    private static final int[] CODE_POINTS = {
        'a', 'b', 'z', 'A', 'Q', '0', '9', ' ', '-', '_', '.', '/', '"', '\\', 'é', 'ß', 'Ω', '€', '中', 0x1F600};
    private static final float[] FLOATS = {
        0f, -0f, 1f, -1f, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.MIN_VALUE,
        Float.MAX_VALUE, -Float.MAX_VALUE};
    private static final double[] DOUBLES = {
        0d, -0d, 1d, Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, Double.MIN_VALUE,
        Double.MAX_VALUE, -Double.MAX_VALUE};
    private static final int[] INTS = {0, 1, -1, 63, 64, -64, -65, Integer.MAX_VALUE, Integer.MIN_VALUE};
    private static final long[] LONGS = {0L, 1L, -1L, Long.MAX_VALUE, Long.MIN_VALUE, 1L << 35, -(1L << 35)};
    /** Year 0001 to year 9999 in epoch millis: the range an Instant-typed field can meaningfully hold. */
    private static final long MIN_MILLIS = -62_135_596_800_000L;
    private static final long MAX_MILLIS = 253_402_300_799_999L;

    private final Random random;

    public RandomDatum(long seed) {
        this.random = new Random(seed);
    }

    /** A random datum of {@code schema}. */
    public Object next(Schema schema) {
        LogicalType logical = schema.getLogicalType();
        if (logical != null && !(logical instanceof LogicalTypes.TimestampMillis)) {
            throw new UnsupportedOperationException("RandomDatum does not generate logical type "
                    + logical.getName() + " yet (schema " + schema + "): extend it");
        }
        return switch (schema.getType()) {
            case RECORD -> {
                GenericData.Record record = new GenericData.Record(schema);
                for (Schema.Field field : schema.getFields()) {
                    record.put(field.pos(), next(field.schema()));
                }
                yield record;
            }
            case ARRAY -> {
                int n = size();
                GenericData.Array<Object> array = new GenericData.Array<>(n, schema);
                for (int i = 0; i < n; i++) {
                    array.add(next(schema.getElementType()));
                }
                yield array;
            }
            case MAP -> {
                int n = size();
                Map<String, Object> map = new HashMap<>();
                for (int i = 0; i < n; i++) {
                    map.put(string() + "#" + i, next(schema.getValueType()));
                }
                yield map;
            }
            case UNION -> next(schema.getTypes().get(random.nextInt(schema.getTypes().size())));
            case STRING -> string();
            case BYTES -> ByteBuffer.wrap(bytes(size() * 3));
            case FIXED -> new GenericData.Fixed(schema, bytes(schema.getFixedSize()));
            case ENUM -> new GenericData.EnumSymbol(schema,
                    schema.getEnumSymbols().get(random.nextInt(schema.getEnumSymbols().size())));
            case INT -> edge() ? INTS[random.nextInt(INTS.length)] : random.nextInt();
            case LONG -> logical != null
                    ? (edge() ? 0L : random.nextLong(MIN_MILLIS, MAX_MILLIS + 1))
                    : (edge() ? LONGS[random.nextInt(LONGS.length)] : random.nextLong());
            case FLOAT -> edge() ? FLOATS[random.nextInt(FLOATS.length)] : (float) (random.nextGaussian() * 1e3);
            case DOUBLE -> edge() ? DOUBLES[random.nextInt(DOUBLES.length)] : random.nextGaussian() * 1e6;
            case BOOLEAN -> random.nextBoolean();
            case NULL -> null;
        };
    }

    private boolean edge() {
        return random.nextInt(5) == 0;
    }

    /** 0 to 5 items, empty about one time in six. */
    private int size() {
        return random.nextInt(6);
    }

    private String string() {
        int n = random.nextInt(10);
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < n; i++) {
            s.appendCodePoint(CODE_POINTS[random.nextInt(CODE_POINTS.length)]);
        }
        return s.toString();
    }

    private byte[] bytes(int n) {
        byte[] b = new byte[n];
        random.nextBytes(b);
        return b;
    }
}
