package io.sidewinder.app.demo;

import io.sidewinder.kafka.embedded.EmbeddedKafkaBroker;
import io.sidewinder.processors.ModelRegistry;
import io.sidewinder.processors.SidewinderApp;
import io.sidewinder.processors.SidewinderConfig;
import io.sidewinder.schemas.AnomalyScore;
import io.sidewinder.schemas.ModelSnapshot;
import io.sidewinder.schemas.serde.AvroSerdes;
import io.sidewinder.ssm.ModelConfig;
import io.sidewinder.ssm.ModelParameters;
import io.sidewinder.ssm.ModelSnapshots;
import io.sidewinder.trainer.HeadFit;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.HdrHistogram.Recorder;
import org.HdrHistogram.Histogram;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.StreamsConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The one-command demo: an in-process KRaft broker, the topics, a quickly fitted model published to the models
 * topic, a generated multi-sensor stream (irregular gaps, injected anomalies, bad records) and the pipeline,
 * with a live console summary.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Run the whole pipeline on an embedded Kafka broker with a generated multi-sensor stream.")
public final class DemoCommand implements Callable<Integer> {
    static final String SENT_HEADER = "sw-sent-ns";

    @Option(names = "--records", defaultValue = "0",
            description = "Stop after this many readings were processed end to end (0: run until interrupted).")
    long records;

    @Option(names = "--sensors", defaultValue = "8", description = "Number of simulated sensors (default: ${DEFAULT-VALUE}).")
    int sensors;

    @Option(names = "--rate", defaultValue = "0", description = "Readings per second to produce (0: as fast as possible).")
    double rate;

    @Option(names = "--anomaly-rate", defaultValue = "0.002",
            description = "Chance per reading that an anomaly starts (default: ${DEFAULT-VALUE}).")
    double anomalyRate;

    @Option(names = "--bad-rate", defaultValue = "0.005",
            description = "Share of bad records: undecodable, NaN, wrong channel count, future, out of order (default: ${DEFAULT-VALUE}).")
    double badRate;

    @Option(names = "--reorder-grace-ms", defaultValue = "0",
            description = "Event-time grace for out-of-order readings (default: ${DEFAULT-VALUE}).")
    long graceMs;

    @Option(names = "--http-port", defaultValue = "8080", description = "HTTP API port, -1 to disable (default: ${DEFAULT-VALUE}).")
    int httpPort;

    @Option(names = "--seed", defaultValue = "42", description = "Seed of the generated data and model.")
    long seed;

    @Option(names = "--timeout", defaultValue = "PT10M", description = "With --records: give up after this long "
            + "(ISO-8601, default: ${DEFAULT-VALUE}). Without --records the demo runs until interrupted.")
    Duration timeout;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    private void checkOptions() {
        String bad = records < 0 ? "--records must be at least 0, got " + records
                : sensors < 1 ? "--sensors must be at least 1, got " + sensors
                : !(rate >= 0) || Double.isInfinite(rate) ? "--rate must be a number >= 0, got " + rate
                : !(anomalyRate >= 0 && anomalyRate <= 1) ? "--anomaly-rate must be within [0, 1], got " + anomalyRate
                : !(badRate >= 0 && badRate <= 1) ? "--bad-rate must be within [0, 1], got " + badRate
                : graceMs < 0 ? "--reorder-grace-ms must be at least 0, got " + graceMs
                : httpPort < -1 || httpPort > 65_535 ? "--http-port must be -1 (off), 0 (any) or a port, got " + httpPort
                : timeout.isNegative() || timeout.isZero() ? "--timeout must be positive, got " + timeout : null;
        if (bad != null) {
            throw io.sidewinder.app.OptionChecks.usage(spec, bad);
        }
    }

    private final AtomicLong produced = new AtomicLong();
    private final AtomicLong forecasts = new AtomicLong();
    private final AtomicLong flagged = new AtomicLong();
    private final AtomicLong deviating = new AtomicLong();
    private final AtomicLong deadLetters = new AtomicLong();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final Recorder latency = new Recorder(3);
    private final Histogram allLatency = new Histogram(3);
    /** Printed after everything has shut down, so that it is the command's last line. */
    private String finalLine;

    @Override
    public Integer call() throws Exception {
        checkOptions();
        Path dir = Files.createTempDirectory("sidewinder-demo");
        AtomicBoolean running = new AtomicBoolean(true);
        java.util.concurrent.CountDownLatch finished = new java.util.concurrent.CountDownLatch(1);
        // The JVM halts once its hooks return: wait for the pipeline and broker to close and the summary to print.
        Thread hook = new Thread(() -> {
            running.set(false);
            try {
                finished.await(60, java.util.concurrent.TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        Runtime.getRuntime().addShutdownHook(hook);
        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(dir.resolve("kafka"))) {
            SidewinderConfig config = config(broker.bootstrapServers(), dir);
            SidewinderApp.createTopics(config);
            publishModel(config);
            try (SidewinderApp app = new SidewinderApp(config).start()) {
                if (!app.awaitRunning(Duration.ofSeconds(60))) {
                    System.err.println("demo: the pipeline did not reach RUNNING: " + app.streams().state());
                    return 1;
                }
                if (app.httpPort() > 0) {
                    System.err.printf("demo: try http://localhost:%d/sensors/pump-01 and /metrics%n", app.httpPort());
                }
                return runStream(config, broker.bootstrapServers(), running);
            }
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // the JVM is already exiting
            }
            deleteRecursively(dir);
            if (finalLine != null) {
                System.err.flush();
                System.out.println(finalLine);
            }
            finished.countDown();
        }
    }

    /** Readings produced but not yet processed, beyond which the producer waits for the pipeline. */
    static final long MAX_AHEAD = 20_000;

    private SidewinderConfig config(String bootstrap, Path dir) {
        Map<String, Object> p = new HashMap<>();
        p.put(SidewinderConfig.BOOTSTRAP_SERVERS, bootstrap);
        p.put(SidewinderConfig.APPLICATION_ID, "sidewinder-demo");
        p.put(SidewinderConfig.STATE_DIR, dir.resolve("state").toString());
        p.put(SidewinderConfig.HTTP_PORT, httpPort);
        p.put(SidewinderConfig.HTTP_BIND_ADDRESS, "127.0.0.1");   // a laptop demo: not on the network
        p.put(SidewinderConfig.REORDER_GRACE_MS, graceMs);
        p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, 1);
        return new SidewinderConfig(p);
    }

    private void publishModel(SidewinderConfig config) throws Exception {
        publishModel(config, seed);
    }

    /** Fits the demo model's head on clean generated history and publishes it as version 1. */
    public static void publishModel(SidewinderConfig config, long seed) throws Exception {
        long t0 = System.nanoTime();
        ModelConfig mc = ModelConfig.defaults(DemoData.CHANNELS);
        ModelParameters params = ModelParameters.initialise(mc, seed);
        List<HeadFit.Sequence> history = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            history.add(DemoData.history(3_000, seed + 100 + i));
        }
        double mse = HeadFit.fit(params, history, 1e-3);
        ModelSnapshot snapshot = ModelSnapshots.toSnapshot(params, config.getString(SidewinderConfig.MODEL_ID), 1,
                Map.of("trainer", "HeadFit (ridge head on frozen SSM features)", "data", "generated demo history",
                        "seed", Long.toString(seed)), Map.of("train_mse", mse));
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(producerProps(config.getList(
                SidewinderConfig.BOOTSTRAP_SERVERS).getFirst()))) {
            producer.send(new ProducerRecord<>(config.getString(SidewinderConfig.MODELS_TOPIC),
                    ModelRegistry.key(snapshot.getModelId(), snapshot.getVersion()),
                    AvroSerdes.modelSnapshot().serialize(null, snapshot))).get();
        }
        System.err.printf("demo: model %s v1 fitted in %.1f s (train mse %.3f, normalised) and published%n",
                snapshot.getModelId(), (System.nanoTime() - t0) / 1e9, mse);
    }

    private int runStream(SidewinderConfig config, String bootstrap, AtomicBoolean running) throws Exception {
        Thread monitor = Thread.ofPlatform().name("demo-monitor").daemon().start(() -> monitor(config, bootstrap, running));
        // Generated time starts far enough back that it stays behind the clock (readings ahead of it are
        // dead-lettered as FUTURE_TIMESTAMP): each sensor's readings come about 1.8 s apart.
        long span = Math.max(Duration.ofDays(7).toMillis(),
                records > 0 ? records / sensors * 3_000L : Duration.ofDays(365).toMillis());
        DemoData data = new DemoData(sensors, System.currentTimeMillis() - span, anomalyRate, badRate, seed);
        String topic = config.inputTopics().getFirst();
        long start = System.nanoTime(), lastPrint = start, deadline = start + timeout.toNanos();
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(producerProps(bootstrap))) {
            while (running.get() && failure.get() == null) {
                long now = System.nanoTime();
                boolean done = records > 0 && forecasts.get() + deadLetters.get() >= records;
                if (done || (records > 0 && now > deadline)) {   // without --records: until Ctrl-C
                    break;
                }
                boolean wantMore = records == 0 || produced.get() < records;
                boolean paced = rate > 0 && produced.get() >= (now - start) / 1e9 * rate;
                boolean ahead = produced.get() - (forecasts.get() + deadLetters.get()) >= MAX_AHEAD;
                // Generated time runs far faster than the clock: once it catches up (a demo left running for hours),
                // readings follow the clock instead of being dead-lettered as FUTURE_TIMESTAMP.
                boolean caughtUp = data.nextEventTime() > System.currentTimeMillis();
                if (wantMore && !paced && !ahead && !caughtUp) {
                    DemoData.Item item = data.next();
                    ProducerRecord<String, byte[]> r = new ProducerRecord<>(topic, null, item.eventTime(), item.key(), item.value());
                    r.headers().add(SENT_HEADER, ByteBuffer.allocate(8).putLong(System.nanoTime()).array());
                    producer.send(r, (meta, e) -> {
                        if (e != null) {
                            failure.compareAndSet(null, e);
                        }
                    });
                    produced.incrementAndGet();
                } else {
                    producer.flush();
                    synchronized (this) {
                        wait(5);
                    }
                }
                if (now - lastPrint > 1_000_000_000L) {
                    lastPrint = now;
                    printSummary(start, now);
                }
            }
            producer.flush();
        }
        running.set(false);
        monitor.join(5_000);
        if (failure.get() != null) {
            System.err.println("demo: failed: " + failure.get());
            return 1;
        }
        long elapsed = System.nanoTime() - start;
        long processed = forecasts.get() + deadLetters.get();
        Histogram h = latency.getIntervalHistogram();
        allLatency.add(h);
        finalLine = String.format(java.util.Locale.ROOT,
                "demo: in=%d forecasts=%d anomalies=%d dead-letters=%d rate=%.0f/s p99-ms=%.1f",
                produced.get(), forecasts.get(), flagged.get(), deadLetters.get(), processed / (elapsed / 1e9),
                allLatency.getValueAtPercentile(99) / 1000.0);
        if (records > 0 && processed < records) {
            System.err.printf("demo: timed out after %s with %d of %d readings processed%n", timeout, processed, records);
            return 1;
        }
        return 0;
    }

    private void printSummary(long start, long now) {
        Histogram h = latency.getIntervalHistogram();
        allLatency.add(h);
        long processed = forecasts.get() + deadLetters.get();
        System.err.printf("demo: %5.0fs  in=%d  processed=%d  lag=%d  rate=%.0f/s  forecasts=%d  anomalies=%d  "
                        + "deviating=%d  dead-letters=%d  p99=%.1fms%n", (now - start) / 1e9, produced.get(), processed,
                produced.get() - processed, processed / ((now - start) / 1e9), forecasts.get(), flagged.get(),
                deviating.get(), deadLetters.get(), h.getTotalCount() == 0 ? 0.0 : h.getValueAtPercentile(99) / 1000.0);
    }

    /** Counts what the pipeline committed, as a read_committed consumer sees it, and the end-to-end latency. */
    private void monitor(SidewinderConfig config, String bootstrap, AtomicBoolean running) {
        Map<String, Object> p = new HashMap<>();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "sidewinder-demo-monitor");
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        String forecastsTopic = config.getString(SidewinderConfig.FORECASTS_TOPIC);
        String anomaliesTopic = config.getString(SidewinderConfig.ANOMALIES_TOPIC);
        String deadTopic = config.getString(SidewinderConfig.DEAD_LETTER_TOPIC);
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            c.subscribe(List.of(forecastsTopic, anomaliesTopic, deadTopic));
            var scores = AvroSerdes.anomalyScore().deserializer();
            while (running.get()) {
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(100))) {
                    if (r.topic().equals(anomaliesTopic)) {
                        AnomalyScore s = scores.deserialize(r.topic(), r.value());
                        if (s.getFlagged()) {
                            flagged.incrementAndGet();
                        }
                        if (s.getDeviating()) {
                            deviating.incrementAndGet();
                        }
                        continue;
                    }
                    if (r.topic().equals(forecastsTopic)) {
                        forecasts.incrementAndGet();
                    } else {
                        deadLetters.incrementAndGet();
                    }
                    Header sent = r.headers().lastHeader(SENT_HEADER);
                    if (sent != null) {
                        long micros = (System.nanoTime() - ByteBuffer.wrap(sent.value()).getLong()) / 1_000;
                        latency.recordValue(Math.max(0, micros));
                    }
                }
            }
        } catch (RuntimeException e) {
            failure.compareAndSet(null, e);
        }
    }

    public static Map<String, Object> producerProps(String bootstrap) {
        Map<String, Object> p = new HashMap<>();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        return p;
    }

    /** Deletes a temporary directory tree, quietly (what cannot be deleted stays). */
    public static void deleteRecursively(Path dir) {
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (java.io.IOException e) {
            System.err.println("demo: could not delete " + dir + ": " + e.getMessage());
        }
    }
}
