package io.sidewinder.app.bench;

import io.sidewinder.app.demo.DemoCommand;
import io.sidewinder.kafka.embedded.EmbeddedKafkaBroker;
import io.sidewinder.processors.SidewinderApp;
import io.sidewinder.processors.SidewinderConfig;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.streams.StreamsConfig;

/** The pipeline the bench commands measure: on an embedded broker, one stream thread, no HTTP, the demo's model. */
final class EmbeddedPipeline {
    private EmbeddedPipeline() {}

    /**
     * The configuration for a pipeline on {@code broker} with its state under {@code dir}: the bench defaults, then
     * the command's own {@code overrides}, then the user's {@code --set} settings. Creates the topics and publishes
     * the demo model (seed 42) before returning.
     */
    static SidewinderConfig start(EmbeddedKafkaBroker broker, Path dir, Map<String, Object> overrides,
                                  Map<String, String> settings) throws Exception {
        Map<String, Object> p = new HashMap<>();
        p.put(SidewinderConfig.BOOTSTRAP_SERVERS, broker.bootstrapServers());
        p.put(SidewinderConfig.STATE_DIR, dir.resolve("state").toString());
        p.put(SidewinderConfig.HTTP_PORT, -1);
        p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, 1);
        p.putAll(overrides);
        p.putAll(settings);
        SidewinderConfig config = new SidewinderConfig(p);
        SidewinderApp.createTopics(config);
        DemoCommand.publishModel(config, 42);
        return config;
    }
}
