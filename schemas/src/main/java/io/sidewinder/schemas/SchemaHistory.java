package io.sidewinder.schemas;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.specific.SpecificRecord;

/**
 * Every released writer schema of every Sidewinder record type.
 *
 * <p>Release v{@code N} of record type {@code Name} is the classpath resource
 * {@code io/sidewinder/schemas/history/Name/vN.avsc}. Released files are never edited: bytes written
 * under them may still sit in Kafka topics and snapshot files. The newest released version of each type
 * must equal the schema the generated class was built from (a test enforces this).
 *
 * <p>To release a changed schema: copy {@code src/main/avro/Name.avsc} to
 * {@code history/Name/v(N+1).avsc} and bump {@code Name} to {@code N+1} in the {@code LATEST} list of this class.
 */
public final class SchemaHistory {

    /** Resource folder holding the released schemas. */
    public static final String RESOURCE_ROOT = "io/sidewinder/schemas/history";

    /**
     * The newest released version of each record type; versions 1..N are all loaded. Explicit on purpose:
     * releasing a schema is a reviewed one-line change here plus one new file.
     */
    private static final List<Latest> LATEST = List.of(
            new Latest(SensorReading.class, 1),
            new Latest(Forecast.class, 1),
            new Latest(AnomalyScore.class, 2),
            new Latest(ModelSnapshot.class, 1),
            new Latest(DeadLetter.class, 1));

    private record Latest(Class<? extends SpecificRecord> type, int version) {
    }

    /** One released writer schema. */
    public record Release(Class<? extends SpecificRecord> type, int version, Schema schema) {

        /** Simple name of the record type, e.g. {@code SensorReading}. */
        public String recordName() {
            return type.getSimpleName();
        }

        /** CRC-64-AVRO fingerprint of the parsing canonical form, as written in single-object headers. */
        public long fingerprint() {
            return SchemaNormalization.parsingFingerprint64(schema);
        }

        /** Classpath resource the schema was loaded from. */
        public String resourcePath() {
            return SchemaHistory.resourcePath(recordName(), version);
        }

        @Override
        public String toString() {
            return recordName() + " v" + version;
        }
    }

    private static final Map<Class<? extends SpecificRecord>, List<Release>> RELEASES = loadAll();

    private SchemaHistory() {
    }

    /** The record types with a released history, in a fixed order. */
    public static List<Class<? extends SpecificRecord>> recordTypes() {
        return List.copyOf(RELEASES.keySet());
    }

    /** Every released version of {@code type}, oldest (v1) first. */
    public static List<Release> releases(Class<? extends SpecificRecord> type) {
        List<Release> releases = RELEASES.get(type);
        if (releases == null) {
            throw new IllegalArgumentException(type.getName() + " is not a Sidewinder record type with a released"
                    + " schema history; known types: " + RELEASES.keySet().stream().map(Class::getSimpleName).toList());
        }
        return releases;
    }

    /** The newest released version of {@code type}. */
    public static Release latest(Class<? extends SpecificRecord> type) {
        List<Release> releases = releases(type);
        return releases.get(releases.size() - 1);
    }

    /** Every released version of every record type. */
    public static List<Release> all() {
        return RELEASES.values().stream().flatMap(List::stream).toList();
    }

    /** Classpath resource of release {@code version} of {@code recordName}. */
    public static String resourcePath(String recordName, int version) {
        return RESOURCE_ROOT + "/" + recordName + "/v" + version + ".avsc";
    }

    private static Map<Class<? extends SpecificRecord>, List<Release>> loadAll() {
        Map<Class<? extends SpecificRecord>, List<Release>> all = new LinkedHashMap<>();
        for (Latest latest : LATEST) {
            List<Release> releases = new ArrayList<>(latest.version());
            for (int v = 1; v <= latest.version(); v++) {
                releases.add(new Release(latest.type(), v, load(resourcePath(latest.type().getSimpleName(), v))));
            }
            all.put(latest.type(), List.copyOf(releases));
        }
        return all;
    }

    private static Schema load(String resource) {
        try (InputStream in = SchemaHistory.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("Released schema " + resource + " is missing from the classpath");
            }
            // A fresh parser per file: each release is self-contained (nested types such as Tensor included).
            return new Schema.Parser().parse(in);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read released schema " + resource, e);
        }
    }
}
