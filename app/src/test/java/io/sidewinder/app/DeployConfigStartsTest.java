package io.sidewinder.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sidewinder.kafka.embedded.EmbeddedKafkaBroker;
import io.sidewinder.processors.SidewinderApp;
import io.sidewinder.processors.SidewinderConfig;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The example deployment config, unchanged but for where the broker and the state live, starts the app. */
class DeployConfigStartsTest {

    @Test
    void theAppStartsWithTheDeployedConfigurationAndReportsHealthy(@TempDir Path dir) throws Exception {
        Path root = Path.of("").toAbsolutePath();
        while (!Files.exists(root.resolve("deploy/sidewinder.properties"))) {
            root = root.getParent();
        }
        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(dir.resolve("kafka"))) {
            SidewinderConfig config = SidewinderConfig.load(root.resolve("deploy/sidewinder.properties"), Map.of(),
                    Map.of(SidewinderConfig.BOOTSTRAP_SERVERS, broker.bootstrapServers(),
                            SidewinderConfig.STATE_DIR, dir.resolve("state").toString(),
                            SidewinderConfig.HTTP_PORT, 0));
            SidewinderApp.createTopics(config);
            try (SidewinderApp app = new SidewinderApp(config).start()) {
                assertTrue(app.awaitRunning(Duration.ofSeconds(60)), "state " + app.streams().state());
                HttpResponse<String> health = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create("http://localhost:" + app.httpPort() + "/health")).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(200, health.statusCode(), health.body());
            }
        }
    }
}
