package io.sidewinder.schemas;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.specific.SpecificRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class SchemaHistoryTest {

    static Stream<Class<? extends SpecificRecord>> recordTypes() {
        return SchemaHistory.recordTypes().stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("recordTypes")
    void generated_class_schema_is_its_newest_released_version(Class<? extends SpecificRecord> type) {
        SchemaHistory.Release latest = SchemaHistory.latest(type);
        Schema current = SidewinderSchemas.currentSchema(type);
        String name = type.getSimpleName();
        String howToRelease = "The schema of " + name + " (src/main/avro/" + name + ".avsc) differs from its newest"
                + " release " + latest.resourcePath() + ". Released schemas never change. If the change is meant,"
                + " keep it backward compatible (a new field needs a default) and release it: copy"
                + " src/main/avro/" + name + ".avsc to src/main/resources/"
                + SchemaHistory.resourcePath(name, latest.version() + 1) + " and raise " + name + " to "
                + (latest.version() + 1) + " in SchemaHistory.";
        // Wire format: the fingerprint readers look up.
        assertEquals(SchemaNormalization.toParsingForm(latest.schema()),
                SchemaNormalization.toParsingForm(current), howToRelease);
        // Everything else resolution depends on: defaults, logical types, sort order.
        assertTrue(sameAsGenerated(latest.schema(), current), howToRelease);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("recordTypes")
    void every_release_file_is_listed_in_schema_history(Class<? extends SpecificRecord> type) {
        String next = SchemaHistory.resourcePath(type.getSimpleName(), SchemaHistory.latest(type).version() + 1);
        assertNull(getClass().getClassLoader().getResource(next),
                next + " exists but SchemaHistory does not list it: raise " + type.getSimpleName()
                        + " to its version in SchemaHistory");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("recordTypes")
    void releases_are_numbered_from_one_and_describe_their_type(Class<? extends SpecificRecord> type) {
        List<SchemaHistory.Release> releases = SchemaHistory.releases(type);
        assertFalse(releases.isEmpty());
        for (int i = 0; i < releases.size(); i++) {
            assertEquals(i + 1, releases.get(i).version());
            assertEquals(type.getName(), releases.get(i).schema().getFullName(), releases.get(i).resourcePath());
        }
    }

    @Test
    void fingerprints_of_different_types_never_collide() {
        Map<Long, SchemaHistory.Release> seen = new HashMap<>();
        for (SchemaHistory.Release release : SchemaHistory.all()) {
            SchemaHistory.Release other = seen.put(release.fingerprint(), release);
            assertTrue(other == null || other.type() == release.type(), release + " vs " + other);
            assertEquals(release.type(), SidewinderSchemas.release(release.fingerprint()).orElseThrow().type());
            assertEquals(SchemaNormalization.toParsingForm(release.schema()), SchemaNormalization.toParsingForm(
                    SidewinderSchemas.schemaStore().findByFingerprint(release.fingerprint())));
        }
    }

    @Test
    void guard_notices_an_unreleased_change() {
        Schema released = SchemaHistory.latest(SensorReading.class).schema();
        Schema current = SidewinderSchemas.currentSchema(SensorReading.class);
        assumeTrue(sameAsGenerated(released, current), "SensorReading has an unreleased change");

        String withNewField = released.toString().replace("\"fields\":[",
                "\"fields\":[{\"name\":\"guardProbe\",\"type\":[\"null\",\"string\"],\"default\":null},");
        assertFalse(sameAsGenerated(new Schema.Parser().parse(withNewField), current), "added field");

        // Changes the fingerprint cannot see, but schema resolution can: a logical type, a default.
        String withoutLogicalType = released.toString().replace(",\"logicalType\":\"timestamp-millis\"", "");
        assertNotEquals(released.toString(), withoutLogicalType);
        assertFalse(sameAsGenerated(new Schema.Parser().parse(withoutLogicalType), current), "logical type");

        Schema deadLetter = SchemaHistory.latest(DeadLetter.class).schema();
        String withOtherDefault = deadLetter.toString().replace("\"default\":-1", "\"default\":-2");
        assertNotEquals(deadLetter.toString(), withOtherDefault);
        assertEquals(SchemaNormalization.toParsingForm(deadLetter),
                SchemaNormalization.toParsingForm(new Schema.Parser().parse(withOtherDefault)));
        assertFalse(sameAsGenerated(new Schema.Parser().parse(withOtherDefault),
                SidewinderSchemas.currentSchema(DeadLetter.class)), "changed default");
    }

    @Test
    void unknown_types_are_rejected() {
        assertThrows(IllegalArgumentException.class, () -> SchemaHistory.releases(Tensor.class));
        assertThrows(IllegalArgumentException.class, () -> SidewinderSchemas.encoder(Tensor.class));
        assertThrows(IllegalArgumentException.class, () -> SidewinderSchemas.decoder(Tensor.class));
    }

    /**
     * Whether a released schema is the one the generated class was built from. The avro-maven-plugin
     * (stringType String) adds "avro.java.string" properties to string and map schemas; they are not part
     * of the released schema, so strip them, then compare with Schema.equals (docs ignored, all else
     * compared: fields, types, defaults, logical types, order; not aliases or docs).
     */
    static boolean sameAsGenerated(Schema released, Schema generated) {
        try {
            JsonNode json = new ObjectMapper().readTree(generated.toString());
            stripJavaStringType(json);
            return released.equals(new Schema.Parser().parse(json.toString()));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void stripJavaStringType(JsonNode node) {
        if (node instanceof ObjectNode object) {
            object.remove("avro.java.string");
        }
        node.forEach(SchemaHistoryTest::stripJavaStringType);
    }
}
