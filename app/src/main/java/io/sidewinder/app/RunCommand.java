package io.sidewinder.app;

import io.sidewinder.processors.SidewinderApp;
import io.sidewinder.processors.SidewinderConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Runs the stream processors alone against an existing Kafka cluster. */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = "Run the stream processors against a Kafka cluster (settings: file, then SIDEWINDER_*/KAFKA_* "
                + "environment variables, then flags).")
final class RunCommand implements Callable<Integer> {

    @Option(names = "--config", description = "A properties file of settings (see --list-config).")
    Path config;

    @Option(names = "--bootstrap-servers", description = "Kafka brokers, host:port[,host:port...].")
    String bootstrapServers;

    @Option(names = "--create-topics", description = "Create missing input, output and models topics first.")
    boolean createTopics;

    @Option(names = "--create-topics-only", description = "Create missing input, output and models topics, then exit "
            + "without running (a deployment's one-off job).")
    boolean createTopicsOnly;

    @Option(names = "--list-config", description = "Print every setting with its default and documentation, then exit.")
    boolean listConfig;

    @Override
    public Integer call() throws Exception {
        if (listConfig) {
            System.out.print(SidewinderConfig.documentation());
            return 0;
        }
        Map<String, Object> overrides = new HashMap<>();
        if (bootstrapServers != null) {
            overrides.put(SidewinderConfig.BOOTSTRAP_SERVERS, bootstrapServers);
        }
        SidewinderConfig cfg = SidewinderConfig.load(config, System.getenv(), overrides);
        String brokers = String.join(",", cfg.getList(SidewinderConfig.BOOTSTRAP_SERVERS));
        if (createTopics || createTopicsOnly) {
            System.err.println("run: creating missing topics on " + brokers);
            SidewinderApp.createTopics(cfg);
            if (createTopicsOnly) {
                System.err.println("run: topics ready");
                return 0;
            }
        }
        CountDownLatch stop = new CountDownLatch(1), closed = new CountDownLatch(1);
        java.util.concurrent.atomic.AtomicBoolean signalled = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.concurrent.atomic.AtomicReference<SidewinderApp> starting = new java.util.concurrent.atomic.AtomicReference<>();
        // The JVM halts once its hooks return: on SIGTERM wait for Streams to close (commit or abort its transaction,
        // flush the stores, write its checkpoints), or a restart restores state from the changelog. Closing does not
        // leave the group (Streams' default): the group rebalances once the session of the closed member expires.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            signalled.set(true);
            stop.countDown();
            if (starting.get() != null) {
                // start() holds Streams' lock while the global models store restores: a close from here would wait
                // on it for good. No stream thread has processed anything yet, so there is nothing to commit.
                return;
            }
            try {
                closed.await(60, java.util.concurrent.TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }));
        try (SidewinderApp app = new SidewinderApp(cfg)) {
            app.streams().setStateListener((now, before) -> {
                if (now == org.apache.kafka.streams.KafkaStreams.State.ERROR
                        || now == org.apache.kafka.streams.KafkaStreams.State.NOT_RUNNING) {
                    stop.countDown();   // nothing left to run: end instead of waiting for a signal
                }
            });
            // Streams retries an unreachable cluster silently (and start() itself waits for the global models
            // store): say what it waits for while it does.
            Thread reporter = Thread.ofVirtual().start(() -> {
                try {
                    while (!app.awaitRunning(WAIT_REPORT)) {
                        var state = app.streams().state();
                        if (state == org.apache.kafka.streams.KafkaStreams.State.ERROR
                                || state == org.apache.kafka.streams.KafkaStreams.State.NOT_RUNNING) {
                            return;
                        }
                        System.err.println("run: waiting for Kafka Streams (" + app.streams().state() + "); brokers "
                                + brokers + ": " + reachability(cfg));
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            try {
                starting.set(app);   // first, then the check: a signal in between is seen by one side or the other
                if (stop.getCount() == 0) {   // signalled while the app was being built: do not start it
                    starting.set(null);
                    System.err.println("run: stopped before starting");
                    return 0;
                }
                try {
                    app.start();
                } catch (RuntimeException e) {
                    if (signalled.get()) {   // closed by a signal while starting
                        System.err.println("run: stopped while starting (" + e.getMessage() + ")");
                        return 0;
                    }
                    throw e;   // a start that failed on its own: Main prints the causes and exits 1
                } finally {
                    starting.set(null);
                }
                // Until RUNNING (a restore may take long: the reporter says what it waits for), a signal, or a failure;
                // a SIGTERM while restoring closes Streams cleanly like one while running.
                while (app.streams().state() != org.apache.kafka.streams.KafkaStreams.State.RUNNING) {
                    if (stop.await(100, java.util.concurrent.TimeUnit.MILLISECONDS)) {
                        var state = app.streams().state();
                        if (state == org.apache.kafka.streams.KafkaStreams.State.ERROR
                                || state == org.apache.kafka.streams.KafkaStreams.State.NOT_RUNNING) {
                            System.err.println("run: Kafka Streams did not reach RUNNING: " + state);
                            return 1;
                        }
                        System.err.println("run: stopping before Kafka Streams was RUNNING (" + state + ")");
                        return 0;
                    }
                }
            } finally {
                reporter.interrupt();
            }
            System.err.println("run: RUNNING against " + brokers);
            stop.await();
            var state = app.streams().state();
            if (state == org.apache.kafka.streams.KafkaStreams.State.ERROR) {
                System.err.println("run: Kafka Streams failed (" + state + "); see the log above");
                return 1;
            }
            if (signalled.get()) {
                System.err.println("run: signal received; closing Kafka Streams (commit, flush the state stores)");
            }
        } finally {
            closed.countDown();
        }
        return 0;
    }

    static final Duration WAIT_REPORT = Duration.ofSeconds(15);

    /** Whether the cluster answers a metadata request within 10 s, in words. */
    static String reachability(SidewinderConfig cfg) {
        // The settings Streams' clients use (TLS, SASL): a plaintext probe of a secured cluster says nothing.
        try (org.apache.kafka.clients.admin.Admin admin = SidewinderApp.admin(cfg, 10_000, "sidewinder-reachability-probe")) {
            int nodes = admin.describeCluster().nodes().get(10, java.util.concurrent.TimeUnit.SECONDS).size();
            return "reachable, " + nodes + (nodes == 1 ? " broker" : " brokers");
        } catch (java.util.concurrent.TimeoutException e) {
            return "no answer within 10 s (wrong address, or the cluster is down?)";
        } catch (java.util.concurrent.ExecutionException e) {
            return "unreachable: " + e.getCause().getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }
}
