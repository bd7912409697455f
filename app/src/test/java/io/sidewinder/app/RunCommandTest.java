package io.sidewinder.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sidewinder.kafka.embedded.EmbeddedKafkaBroker;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunCommandTest {

    @Test
    void createTopicsOnlyCreatesEveryTopicWithACompactedModelsTopicAndExitsWithoutRunning(@TempDir Path dir) throws Exception {
        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(dir.resolve("kafka"))) {
            Path config = Files.writeString(dir.resolve("sidewinder.properties"), String.join("\n",
                    "bootstrap.servers=" + broker.bootstrapServers(), "sidewinder.input.topics=job-readings",
                    "sidewinder.forecasts.topic=job-forecasts", "sidewinder.anomalies.topic=job-anomalies",
                    "sidewinder.dead.letter.topic=job-dead", "sidewinder.models.topic=job-models",
                    "state.dir=" + dir.resolve("state"), "sidewinder.http.port=-1") + "\n");
            var cmd = Main.commandLine();
            cmd.setErr(new PrintWriter(new StringWriter()));
            assertEquals(0, cmd.execute("run", "--config", config.toString(), "--create-topics-only"));
            try (var admin = broker.admin()) {
                Set<String> topics = admin.listTopics().names().get();
                assertTrue(topics.containsAll(List.of("job-readings", "job-forecasts", "job-anomalies", "job-dead",
                        "job-models")), topics.toString());
                var resource = new org.apache.kafka.common.config.ConfigResource(
                        org.apache.kafka.common.config.ConfigResource.Type.TOPIC, "job-models");
                assertEquals("compact", admin.describeConfigs(List.of(resource)).all().get().get(resource)
                        .get("cleanup.policy").value());
            }
            // It did not run: no state directory was made for a Streams instance.
            assertTrue(!Files.exists(dir.resolve("state")), "no instance ran");
        }
    }
}
