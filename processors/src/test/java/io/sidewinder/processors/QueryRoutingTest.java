package io.sidewinder.processors;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sidewinder.kafka.embedded.EmbeddedKafkaBroker;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Two instances of one application: a sensor's state is served by whichever instance is asked. */
class QueryRoutingTest {
    @TempDir
    Path dir;

    /** Ids that a second decoding or form encoding would change: '+', '%', a space, a slash. */
    static final List<String> SENSORS = List.of("s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "a+b", "100% c", "x/y", "z");

    @Test
    void aQueryToEitherInstanceIsAnsweredByTheInstanceThatOwnsTheSensor() throws Exception {
        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(dir.resolve("kafka"));
             PipelineHarness h = new PipelineHarness(broker, "routing")) {
            // Port 0 on both: each binds a free port, and Streams must advertise the port really bound.
            SidewinderConfig a = h.config(dir.resolve("a"), Map.of(SidewinderConfig.HTTP_PORT, 0,
                    SidewinderConfig.TOPIC_PARTITIONS, 4));
            SidewinderConfig b = h.config(dir.resolve("b"), Map.of(SidewinderConfig.HTTP_PORT, 0,
                    SidewinderConfig.TOPIC_PARTITIONS, 4));
            SidewinderApp.createTopics(a);
            h.publish(a, PipelineHarness.params(1), 1);
            try (SidewinderApp appA = new SidewinderApp(a).start(); SidewinderApp appB = new SidewinderApp(b).start()) {
                // Both RUNNING, both known, and both owning partitions: else B may join after the readings are in.
                await().atMost(Duration.ofSeconds(60)).until(() -> appA.streams().state() == KafkaStreams.State.RUNNING
                        && appB.streams().state() == KafkaStreams.State.RUNNING
                        && appA.streams().metadataForAllStreamsClients().size() == 2
                        && appA.streams().metadataForAllStreamsClients().stream().allMatch(m -> !m.topicPartitions().isEmpty()));
                int portA = appA.httpPort(), portB = appB.httpPort();
                long now = System.currentTimeMillis();
                int sensors = SENSORS.size();
                for (String id : SENSORS) {
                    h.send(a, id, PipelineHarness.reading(id, now - 1000, 1f, 2f), now);
                }
                await().atMost(Duration.ofSeconds(60))
                        .until(() -> appA.metrics().readings() + appB.metrics().readings() == sensors);
                assertTrue(appA.metrics().readings() > 0 && appB.metrics().readings() > 0,
                        "both instances own some sensors (A " + appA.metrics().readings() + ", B " + appB.metrics().readings() + ")");
                HttpClient client = HttpClient.newHttpClient();
                for (String id : SENSORS) {
                    int owner = appA.streams().queryMetadataForKey(SidewinderTopology.STATE_STORE, id, new StringSerializer())
                            .activeHost().port();
                    for (int port : new int[] {portA, portB}) {
                        URI uri = new URI("http", null, "localhost", port, "/sensors/" + id, null, null);
                        HttpResponse<String> r = client.send(HttpRequest.newBuilder(uri).build(),
                                HttpResponse.BodyHandlers.ofString());
                        assertEquals(200, r.statusCode(), "asked " + port + " for " + id + " (owner " + owner + "): " + r.body());
                        assertTrue(r.body().contains("\"sensorId\":\"" + id + "\""), r.body());
                    }
                }
            }
        }
    }
}
