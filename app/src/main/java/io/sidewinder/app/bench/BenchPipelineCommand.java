package io.sidewinder.app.bench;

import io.sidewinder.app.demo.DemoCommand;
import io.sidewinder.app.demo.DemoData;
import io.sidewinder.kafka.embedded.EmbeddedKafkaBroker;
import io.sidewinder.processors.SidewinderApp;
import io.sidewinder.processors.SidewinderConfig;
import io.sidewinder.schemas.SensorReading;
import io.sidewinder.schemas.serde.AvroSerdes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Throughput of the full pipeline against a passthrough topology with the same serdes, in the same run, on the
 * embedded broker: both read the same pre-loaded readings with exactly-once processing and one stream thread;
 * the clock runs from RUNNING until a read_committed consumer has seen every output.
 */
@Command(name = "pipeline", mixinStandardHelpOptions = true,
        description = "Records/s of the full pipeline vs a passthrough topology with the same serdes (embedded broker).")
public final class BenchPipelineCommand implements Callable<Integer> {

    @Option(names = "--records", defaultValue = "100000", description = "Readings to push through (default: ${DEFAULT-VALUE}).")
    int records;

    @Option(names = "--sensors", defaultValue = "100", description = "Distinct sensor keys (default: ${DEFAULT-VALUE}).")
    int sensors;

    @Option(names = "--set", description = "Extra setting for the pipeline (any Sidewinder or Kafka Streams key), "
            + "e.g. --set statestore.cache.max.bytes=0; repeatable.")
    Map<String, String> settings = new HashMap<>();

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        // Checked before the broker starts and a model is fitted: a bad value is a usage error, not a figure.
        io.sidewinder.app.OptionChecks.requireAtLeast(spec, "--records", records, 1);
        io.sidewinder.app.OptionChecks.requireAtLeast(spec, "--sensors", sensors, 1);
        io.sidewinder.app.OptionChecks.settings(spec, settings);
        Path dir = Files.createTempDirectory("sidewinder-bench");
        try {
            return measure(dir);
        } finally {
            DemoCommand.deleteRecursively(dir);
        }
    }

    private int measure(Path dir) throws Exception {
        // Every preloaded reading must stay until the pipeline has read it: no size retention for a benchmark run.
        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(dir.resolve("kafka"), 0,
                Map.of("log.retention.bytes", "-1"))) {
            SidewinderConfig config = EmbeddedPipeline.start(broker, dir, Map.of(SidewinderConfig.TOPIC_PARTITIONS, 1),
                    settings);
            broker.createTopic("bench-passthrough-out", 1, Map.of());
            preload(config, broker.bootstrapServers());

            double passthrough = passthrough(config, broker.bootstrapServers());
            double pipeline;
            try (SidewinderApp app = new SidewinderApp(config).start()) {
                if (!app.awaitRunning(Duration.ofSeconds(60))) {
                    throw new IllegalStateException("pipeline did not start");
                }
                pipeline = records / drain(broker.bootstrapServers(), config.getString(SidewinderConfig.FORECASTS_TOPIC));
            }
            System.out.printf(java.util.Locale.ROOT, "pipeline=%.0f/s passthrough=%.0f/s ratio=%.2f records=%d sensors=%d%n",
                    pipeline, passthrough, pipeline / passthrough, records, sensors);
            return 0;
        }
    }

    private void preload(SidewinderConfig config, String bootstrap) throws Exception {
        DemoData data = new DemoData(sensors, System.currentTimeMillis() - Duration.ofDays(30).toMillis(), 0.002, 0, 7);
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(DemoCommand.producerProps(bootstrap))) {
            for (int i = 0; i < records; i++) {
                DemoData.Item item = data.next();
                producer.send(new ProducerRecord<>(config.inputTopics().getFirst(), null, item.eventTime(), item.key(),
                        item.value()));
            }
            producer.flush();
        }
    }

    private double passthrough(SidewinderConfig config, String bootstrap) throws Exception {
        Topology t = new Topology();
        t.addSource("in", new ByteArrayDeserializer(), new ByteArrayDeserializer(), config.inputTopics().getFirst());
        t.addProcessor("decode-encode", Passthrough::new, "in");
        t.addSink("out", "bench-passthrough-out", new ByteArraySerializer(), new ByteArraySerializer(), "decode-encode");
        Properties props = config.streamsProperties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "bench-passthrough");
        try (KafkaStreams streams = new KafkaStreams(t, props)) {
            streams.start();
            if (!SidewinderApp.awaitRunning(streams, Duration.ofSeconds(60))) {
                throw new IllegalStateException("passthrough topology did not start: " + streams.state());
            }
            return records / drain(bootstrap, "bench-passthrough-out");
        }
    }

    /** Seconds until a read_committed consumer has seen {@code records} records of a topic. */
    private double drain(String bootstrap, String topic) {
        Map<String, Object> p = new HashMap<>();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "bench-" + topic);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        long start = System.nanoTime();
        long seen = 0;
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            c.subscribe(List.of(topic));
            while (seen < records) {
                seen += c.poll(Duration.ofMillis(100)).count();
                if (System.nanoTime() - start > Duration.ofMinutes(10).toNanos()) {
                    throw new IllegalStateException("timed out with " + seen + " of " + records + " on " + topic);
                }
            }
        }
        return (System.nanoTime() - start) / 1e9;
    }

    /** Same serdes as the pipeline: decode the SensorReading, encode it again. */
    static final class Passthrough implements Processor<byte[], byte[], byte[], byte[]> {
        private final Deserializer<SensorReading> in = AvroSerdes.sensorReading().deserializer();
        private final Serializer<SensorReading> out = AvroSerdes.sensorReading().serializer();
        private ProcessorContext<byte[], byte[]> context;

        @Override
        public void init(ProcessorContext<byte[], byte[]> context) {
            this.context = context;
        }

        @Override
        public void process(org.apache.kafka.streams.processor.api.Record<byte[], byte[]> record) {
            context.forward(record.withValue(out.serialize(null, in.deserialize(null, record.value()))));
        }
    }
}
