package io.sidewinder.app.bench;

import io.sidewinder.app.demo.DemoCommand;
import io.sidewinder.app.demo.DemoData;
import io.sidewinder.kafka.embedded.EmbeddedKafkaBroker;
import io.sidewinder.processors.SidewinderApp;
import io.sidewinder.processors.SidewinderConfig;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.streams.StreamsConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * End-to-end latency at a fixed input rate: from the producer's send to the forecast being visible to a
 * read_committed consumer, on the embedded broker with exactly-once processing. The warm-up is excluded.
 */
@Command(name = "latency", mixinStandardHelpOptions = true,
        description = "Per-reading end-to-end latency (p50/p99) at a fixed input rate on the embedded broker.")
public final class BenchLatencyCommand implements Callable<Integer> {
    static final String SENT = "sw-sent-ns";

    @Option(names = "--rate", defaultValue = "5000", description = "Readings per second (default: ${DEFAULT-VALUE}).")
    int rate;

    @Option(names = "--seconds", defaultValue = "30", description = "Measured duration (default: ${DEFAULT-VALUE}).")
    int seconds;

    @Option(names = "--warmup-seconds", defaultValue = "10", description = "Unmeasured warm-up (default: ${DEFAULT-VALUE}).")
    int warmupSeconds;

    @Option(names = "--sensors", defaultValue = "100", description = "Distinct sensor keys (default: ${DEFAULT-VALUE}).")
    int sensors;

    @Option(names = "--commit-interval-ms", defaultValue = "100",
            description = "Kafka Streams commit.interval.ms; under exactly-once, outputs become visible at commits "
                    + "(default: ${DEFAULT-VALUE}).")
    int commitIntervalMs;

    @Option(names = "--guarantee", defaultValue = "exactly_once_v2",
            description = "processing.guarantee: exactly_once_v2 or at_least_once (default: ${DEFAULT-VALUE}).")
    String guarantee;

    @Option(names = "--linger-ms", defaultValue = "5",
            description = "linger.ms of the Streams producer (Streams' own default is 100) (default: ${DEFAULT-VALUE}).")
    int lingerMs;

    @Option(names = "--set", description = "Extra setting for the pipeline (any Sidewinder or Kafka Streams key), "
            + "e.g. --set statestore.cache.max.bytes=0; repeatable.")
    Map<String, String> settings = new HashMap<>();

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        // Checked before the broker starts and a model is fitted: a bad value is a usage error, not a figure.
        io.sidewinder.app.OptionChecks.requireAtLeast(spec, "--rate", rate, 1);
        io.sidewinder.app.OptionChecks.requireAtLeast(spec, "--seconds", seconds, 1);
        io.sidewinder.app.OptionChecks.requireAtLeast(spec, "--warmup-seconds", warmupSeconds, 0);
        io.sidewinder.app.OptionChecks.requireAtLeast(spec, "--sensors", sensors, 1);
        io.sidewinder.app.OptionChecks.requireAtLeast(spec, "--commit-interval-ms", commitIntervalMs, 1);
        io.sidewinder.app.OptionChecks.requireAtLeast(spec, "--linger-ms", lingerMs, 0);
        if (!guarantee.equals("exactly_once_v2") && !guarantee.equals("at_least_once")) {
            throw io.sidewinder.app.OptionChecks.usage(spec, "--guarantee takes exactly_once_v2 or at_least_once, got " + guarantee);
        }
        io.sidewinder.app.OptionChecks.settings(spec, settings);
        Path dir = Files.createTempDirectory("sidewinder-bench");
        try {
            return measure(dir);
        } finally {
            DemoCommand.deleteRecursively(dir);
        }
    }

    private int measure(Path dir) throws Exception {
        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(dir.resolve("kafka"))) {
            SidewinderConfig config = EmbeddedPipeline.start(broker, dir, Map.of(
                    StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, commitIntervalMs,
                    SidewinderConfig.PROCESSING_GUARANTEE, guarantee,
                    StreamsConfig.producerPrefix(org.apache.kafka.clients.producer.ProducerConfig.LINGER_MS_CONFIG),
                    lingerMs), settings);
            Recorder recorder = new Recorder(3);
            AtomicBoolean running = new AtomicBoolean(true);
            java.util.concurrent.atomic.AtomicLong seen = new java.util.concurrent.atomic.AtomicLong();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            try (SidewinderApp app = new SidewinderApp(config).start()) {
                if (!app.awaitRunning(Duration.ofSeconds(60))) {
                    throw new IllegalStateException("pipeline did not start: " + app.streams().state());
                }
                long start = System.nanoTime(), warmupEnd = start + warmupSeconds * 1_000_000_000L;
                Thread consumer = Thread.ofPlatform().start(() -> consume(broker.bootstrapServers(),
                        config.getString(SidewinderConfig.FORECASTS_TOPIC), recorder, warmupEnd, seen, running, failure));
                Histogram measured = produce(config, broker.bootstrapServers(), recorder, start, warmupEnd, seen, failure);
                running.set(false);
                consumer.join();
                measured.add(recorder.getIntervalHistogram());
                if (failure.get() != null) {
                    throw new IllegalStateException("benchmark failed", failure.get());
                }
                // Processing time of the step itself: on arrival, or when a reorder grace releases the reading.
                var timer = app.metrics().latency(config.getLong(SidewinderConfig.REORDER_GRACE_MS) > 0
                        ? io.sidewinder.processors.PipelineMetrics.LatencyPath.BUFFERED_APPLY
                        : io.sidewinder.processors.PipelineMetrics.LatencyPath.DIRECT).takeSnapshot();
                double processP99 = 0, processP50 = 0;
                for (var v : timer.percentileValues()) {
                    if (v.percentile() == 0.99) processP99 = v.value(java.util.concurrent.TimeUnit.MICROSECONDS);
                    if (v.percentile() == 0.5) processP50 = v.value(java.util.concurrent.TimeUnit.MICROSECONDS);
                }
                System.out.printf(java.util.Locale.ROOT,
                        "latency: rate=%d/s measured=%d/%d end-to-end p50-ms=%.1f p99-ms=%.1f max-ms=%.1f "
                                + "processing p50-us=%.0f p99-us=%.0f commit-interval-ms=%d guarantee=%s linger-ms=%d dead-letters=%.0f%n",
                        rate, measured.getTotalCount(), (long) seconds * rate, measured.getValueAtPercentile(50) / 1000.0,
                        measured.getValueAtPercentile(99) / 1000.0, measured.getMaxValue() / 1000.0,
                        processP50, processP99, commitIntervalMs, guarantee, lingerMs, app.metrics().deadLetters());
            }
            return 0;
        }
    }

    /** Produces at the fixed rate and waits for the forecasts; returns the histogram the caller fills once consuming stops. */
    private Histogram produce(SidewinderConfig config, String bootstrap, Recorder recorder, long start, long warmupEnd,
                              java.util.concurrent.atomic.AtomicLong seen, AtomicReference<Throwable> failure) {
        DemoData data = new DemoData(sensors, System.currentTimeMillis() - Duration.ofDays(30).toMillis(), 0.002, 0, 7);
        Histogram measured = new Histogram(3);
        long periodNs = 1_000_000_000L / rate;
        long end = warmupEnd + seconds * 1_000_000_000L;
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(DemoCommand.producerProps(bootstrap))) {
            for (long i = 0; failure.get() == null; i++) {
                long due = start + i * periodNs;
                long now = System.nanoTime();
                if (due >= end) {
                    break;
                }
                if (due > now) {
                    LockSupport.parkNanos(due - now);
                }
                DemoData.Item item = data.next();
                ProducerRecord<String, byte[]> r = new ProducerRecord<>(config.inputTopics().getFirst(), null,
                        item.eventTime(), item.key(), item.value());
                // Stamped with the schedule, not the send time, so that a stalled producer counts as latency.
                r.headers().add(SENT, ByteBuffer.allocate(8).putLong(due).array());
                producer.send(r, (m, e) -> {
                    if (e != null) failure.compareAndSet(null, e);
                });
            }
        }
        // Wait for the last forecasts (bounded: an overloaded run reports fewer than it sent).
        long expected = (long) seconds * rate, drainUntil = System.nanoTime() + 30_000_000_000L;
        while (seen.get() < expected && System.nanoTime() < drainUntil && failure.get() == null) {
            LockSupport.parkNanos(50_000_000L);
        }
        return measured;   // filled once the consumer has stopped: no sample counted in seen is left out
    }

    /** Records the latency of every forecast whose reading was scheduled after the warm-up. */
    private static void consume(String bootstrap, String topic, Recorder recorder, long warmupEnd,
                                java.util.concurrent.atomic.AtomicLong seen, AtomicBoolean running,
                                AtomicReference<Throwable> failure) {
        Map<String, Object> p = new HashMap<>();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "bench-latency");
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 5);
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            c.subscribe(List.of(topic));
            while (running.get()) {
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(50))) {
                    Header h = r.headers().lastHeader(SENT);
                    long due = h == null ? Long.MIN_VALUE : ByteBuffer.wrap(h.value()).getLong();
                    if (h != null && due >= warmupEnd) {
                        recorder.recordValue(Math.max(0, (System.nanoTime() - due) / 1_000));
                        seen.incrementAndGet();
                    }
                }
            }
        } catch (RuntimeException e) {
            failure.compareAndSet(null, e);
        }
    }
}
