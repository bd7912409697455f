package io.sidewinder.kafka.embedded;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.CreateTopicsResult;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.common.utils.internals.Exit;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.MetadataVersion;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;

/**
 * A single-node Kafka broker (KRaft, combined broker + controller) running inside this JVM, for the demo and
 * for integration tests. Not for production.
 *
 * <p>This is the only class in Sidewinder that touches Kafka's internal server API ({@code KafkaConfig},
 * {@code Formatter}, {@code KafkaRaftServer}, {@code Exit}); those classes are not a public contract, so the
 * Kafka version is pinned (4.4.0) and an upgrade should start by re-running this module's tests.
 *
 * <p>Usage:
 * <pre>{@code
 * try (EmbeddedKafkaBroker kafka = EmbeddedKafkaBroker.start(Path.of("target/kafka"))) {
 *     kafka.createTopic("readings", 3, Map.of());
 *     ... clients use kafka.bootstrapServers() ...
 * }
 * }</pre>
 *
 * <p><b>Log directory.</b> The directory is formatted (given a fresh cluster id) only when it holds no
 * {@code meta.properties}; starting again on the same directory keeps topics, data and the cluster id.
 *
 * <p><b>The JVM is not halted.</b> Kafka's server answers a fatal fault (for example a metadata log it cannot
 * apply, or every log directory failing) with {@code Exit.halt(1)}, i.e. {@code Runtime.halt}, which would kill
 * a test JVM or the demo without a trace, and {@code KafkaRaftServer} offers no way to plug in other fault
 * handlers. While at least one embedded broker is open, this class therefore replaces Kafka's process-wide
 * exit and halt procedures ({@code org.apache.kafka.common.utils.internals.Exit}) with ones that log the
 * request at ERROR and throw an {@link EmbeddedKafkaException} in the calling Kafka thread instead; the broker
 * is then in a failed state and should be closed. Closing the last open broker restores Kafka's defaults
 * ({@code Exit.resetExitProcedure()/resetHaltProcedure()}); a procedure that other code had installed before
 * is not brought back, because {@code Exit} has no getter.
 */
public final class EmbeddedKafkaBroker implements AutoCloseable {
    /** Size retention of a non-compacted partition's log: a long demo keeps its last readings, not the disk full. */
    static final long RETENTION_BYTES_PER_PARTITION = 256L * 1024 * 1024;
    /** Settings the broker's own addressing and roles depend on: not overridable. */
    private static final java.util.Set<String> FIXED_KEYS = java.util.Set.of("listeners", "advertised.listeners",
            "listener.security.protocol.map", "inter.broker.listener.name", "controller.listener.names",
            "controller.quorum.voters", "controller.quorum.bootstrap.servers", "node.id", "broker.id", "process.roles",
            "log.dirs", "log.dir", "metadata.log.dir");


    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedKafkaBroker.class);

    /** Host the listeners bind to and advertise. Loopback only: this broker is for this machine. */
    public static final String HOST = "127.0.0.1";

    /** How long {@link #createTopics(List)} waits for topics to be created and every partition to have a leader. */
    public static final Duration DEFAULT_TOPIC_TIMEOUT = Duration.ofSeconds(30);

    private static final int NODE_ID = 1;
    private static final String CONTROLLER_LISTENER = "CONTROLLER";
    private static final String BROKER_LISTENER = "PLAINTEXT";
    private static final int MAX_START_ATTEMPTS = 3;
    private static final long LEADER_POLL_MS = 50;
    private static final Duration ADMIN_CLOSE_TIMEOUT = Duration.ofSeconds(5);

    private static final Object EXIT_GUARD_LOCK = new Object();
    private static int openBrokers;

    private final KafkaRaftServer server;
    private final Path logDir;
    private final int brokerPort;
    private final int controllerPort;
    private final String bootstrapServers;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final Object adminLock = new Object();
    private Admin internalAdmin;

    private EmbeddedKafkaBroker(KafkaRaftServer server, Path logDir, int brokerPort, int controllerPort) {
        this.server = server;
        this.logDir = logDir;
        this.brokerPort = brokerPort;
        this.controllerPort = controllerPort;
        this.bootstrapServers = HOST + ":" + brokerPort;
    }

    /** Starts a broker on {@code logDir} with free ports for the broker and controller listeners. */
    public static EmbeddedKafkaBroker start(Path logDir) {
        return start(logDir, 0);
    }

    /**
     * Starts a broker on {@code logDir}, its client listener on {@code brokerPort} (0 = a free port). The
     * controller listener always gets a free port.
     */
    public static EmbeddedKafkaBroker start(Path logDir, int brokerPort) {
        return start(logDir, brokerPort, Map.of());
    }

    /**
     * Starts a broker on {@code logDir}, its client listener on {@code brokerPort} (0 = a free port), with
     * {@code overrides} applied last on top of this class's broker settings (for example
     * {@code log.retention.bytes}). Listeners, node id, roles and log directories are refused: the broker reports its
     * own addresses.
     *
     * <p>Formats {@code logDir} only if it holds no {@code meta.properties}. If a listener cannot bind (a
     * free port was taken between picking and binding), the start is retried with new ports, up to
     * {@value #MAX_START_ATTEMPTS} attempts; a fixed {@code brokerPort} that is in use fails at once.
     *
     * @throws EmbeddedKafkaException if the broker does not start
     */
    public static EmbeddedKafkaBroker start(Path logDir, int brokerPort, Map<String, String> overrides) {
        Objects.requireNonNull(logDir, "logDir");
        Objects.requireNonNull(overrides, "overrides");
        for (String key : overrides.keySet()) {
            if (FIXED_KEYS.contains(key)) {
                // bootstrapServers() and the exit guard rely on these: an override would, e.g., bind every interface
                // while the broker still reports 127.0.0.1.
                throw new IllegalArgumentException("the embedded broker does not take an override of " + key);
            }
        }
        if (brokerPort < 0 || brokerPort > 65_535) {
            throw new IllegalArgumentException("brokerPort must be 0 (free port) or 1..65535, was " + brokerPort);
        }
        Path dir = logDir.toAbsolutePath().normalize();
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot create Kafka log directory " + dir, e);
        }

        long startNanos = System.nanoTime();
        installExitGuard();
        try {
            for (int attempt = 1; ; attempt++) {
                int bport = brokerPort != 0 ? brokerPort : freePort();
                int cport = freePort();
                while (cport == bport) {
                    cport = freePort();
                }
                KafkaConfig config = KafkaConfig.fromProps(brokerProperties(dir, bport, cport, overrides), false);
                boolean formatted = formatIfNeeded(dir);
                KafkaRaftServer server = new KafkaRaftServer(config, Time.SYSTEM);
                try {
                    server.startup();
                } catch (Throwable t) {
                    shutdownQuietly(server);
                    BindException bind = findCause(t, BindException.class);
                    String reason = describe(t);
                    boolean fixedPortBusy = bind != null && brokerPort != 0 && reason.contains(HOST + ":" + brokerPort);
                    if (bind != null && !fixedPortBusy && attempt < MAX_START_ATTEMPTS) {
                        LOG.warn("Embedded Kafka could not bind (attempt {} of {}): {}; retrying with new ports",
                                attempt, MAX_START_ATTEMPTS, reason);
                        continue;
                    }
                    throw new EmbeddedKafkaException("Embedded Kafka broker did not start on " + HOST + ":" + bport
                            + " (controller port " + cport + ", log dir " + dir + ", attempt " + attempt + "): " + reason, t);
                }
                EmbeddedKafkaBroker broker = new EmbeddedKafkaBroker(server, dir, bport, cport);
                LOG.info("Embedded Kafka broker started: bootstrap servers {} (controller port {}, log dir {}{}) in {} ms",
                        broker.bootstrapServers, cport, dir, formatted ? ", freshly formatted" : ", existing data",
                        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos));
                return broker;
            }
        } catch (RuntimeException | Error e) {
            removeExitGuard();
            throw e;
        }
    }

    /** {@code host:port} of the client listener, for {@code bootstrap.servers}. */
    public String bootstrapServers() {
        return bootstrapServers;
    }

    /** Port of the client (PLAINTEXT) listener. */
    public int brokerPort() {
        return brokerPort;
    }

    /** Port of the KRaft controller listener (clients never need it). */
    public int controllerPort() {
        return controllerPort;
    }

    /** The (absolute) data and metadata log directory. */
    public Path logDir() {
        return logDir;
    }

    /** A fresh, mutable admin client configuration pointing at this broker. */
    public Map<String, Object> adminConfig() {
        Map<String, Object> config = new HashMap<>();
        config.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        return config;
    }

    /** A new admin client for this broker; the caller closes it. */
    public Admin admin() {
        requireOpen();
        return Admin.create(adminConfig());
    }

    /** Creates a topic (replication factor 1) and waits until every partition has a leader. See {@link #createTopics(List)}. */
    public void createTopic(String name, int partitions, Map<String, String> configs) {
        Objects.requireNonNull(configs, "configs");
        if (partitions < 1) {
            throw new IllegalArgumentException("partitions must be >= 1, was " + partitions);
        }
        createTopics(List.of(new NewTopic(name, partitions, (short) 1).configs(configs)));
    }

    /** {@link #createTopics(List, Duration)} with {@link #DEFAULT_TOPIC_TIMEOUT}. */
    public void createTopics(List<NewTopic> topics) {
        createTopics(topics, DEFAULT_TOPIC_TIMEOUT);
    }

    /**
     * Creates the topics and waits until every partition of each has a leader, so producers can write at once.
     * A topic that already exists is accepted (so a restart on the same log directory can run the same setup),
     * provided its partition count matches the requested one; its configs are left as they are.
     *
     * @throws EmbeddedKafkaException if a topic cannot be created, exists with another partition count, or
     *                                 not every partition has a leader within {@code timeout}
     */
    public void createTopics(List<NewTopic> topics, Duration timeout) {
        Objects.requireNonNull(topics, "topics");
        Objects.requireNonNull(timeout, "timeout");
        requireOpen();
        if (topics.isEmpty()) {
            return;
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        Admin admin = internalAdmin();
        CreateTopicsResult result = admin.createTopics(topics);
        Map<String, Integer> expectedPartitions = new LinkedHashMap<>();
        for (NewTopic topic : topics) {
            try {
                result.values().get(topic.name()).get(remainingNanos(deadline), TimeUnit.NANOSECONDS);
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof TopicExistsException)) {
                    throw new EmbeddedKafkaException("Could not create topic '" + topic.name() + "': " + e.getCause(), e.getCause());
                }
                LOG.debug("Topic {} already exists", topic.name());
            } catch (TimeoutException e) {
                throw new EmbeddedKafkaException("Timed out after " + timeout.toMillis() + " ms creating topic '" + topic.name() + "'", e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new EmbeddedKafkaException("Interrupted while creating topic '" + topic.name() + "'", e);
            }
            expectedPartitions.put(topic.name(), topic.numPartitions());
        }
        awaitLeaders(admin, expectedPartitions, deadline, timeout);
    }

    /**
     * Shuts the broker down and waits until it has stopped. Idempotent; later calls return at once. The
     * log directory is kept.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        long startNanos = System.nanoTime();
        try {
            synchronized (adminLock) {
                if (internalAdmin != null) {
                    internalAdmin.close(ADMIN_CLOSE_TIMEOUT);
                    internalAdmin = null;
                }
            }
            server.shutdown();   // if it throws, awaiting would wait for good on a controller never told to stop
            server.awaitShutdown();
            LOG.info("Embedded Kafka broker {} stopped in {} ms", bootstrapServers,
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos));
        } finally {
            removeExitGuard();
        }
    }

    @Override
    public String toString() {
        return "EmbeddedKafkaBroker[" + bootstrapServers + ", " + logDir + (closed.get() ? ", closed]" : "]");
    }

    // ---------------------------------------------------------------------------------------------------------

    private void awaitLeaders(Admin admin, Map<String, Integer> expectedPartitions, long deadline, Duration timeout) {
        Set<String> waitingFor = new TreeSet<>(expectedPartitions.keySet());
        Throwable lastError = null;
        while (true) {
            try {
                Map<String, TopicDescription> descriptions = admin.describeTopics(expectedPartitions.keySet())
                        .allTopicNames().get(Math.max(1, remainingNanos(deadline)), TimeUnit.NANOSECONDS);
                waitingFor.clear();
                for (TopicDescription description : descriptions.values()) {
                    int expected = expectedPartitions.get(description.name());
                    if (expected > 0 && description.partitions().size() != expected) {
                        throw new EmbeddedKafkaException("Topic '" + description.name() + "' already exists with "
                                + description.partitions().size() + " partitions, not the " + expected + " requested");
                    }
                    for (TopicPartitionInfo partition : description.partitions()) {
                        if (partition.leader() == null || partition.leader().isEmpty()) {
                            waitingFor.add(description.name() + "-" + partition.partition());
                        }
                    }
                }
                if (waitingFor.isEmpty()) {
                    return;
                }
                lastError = null;
            } catch (ExecutionException e) {
                // Right after creation the broker's metadata cache can lag the controller by a moment.
                if (!(e.getCause() instanceof UnknownTopicOrPartitionException)) {
                    throw new EmbeddedKafkaException("Could not describe topics " + expectedPartitions.keySet() + ": " + e.getCause(), e.getCause());
                }
                lastError = e.getCause();
            } catch (TimeoutException e) {
                lastError = e;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new EmbeddedKafkaException("Interrupted while waiting for partition leaders of " + expectedPartitions.keySet(), e);
            }
            if (remainingNanos(deadline) <= 0) {
                throw new EmbeddedKafkaException("Timed out after " + timeout.toMillis()
                        + " ms waiting for every partition to have a leader; still without one: " + waitingFor, lastError);
            }
            try {
                Thread.sleep(Math.min(LEADER_POLL_MS, Math.max(1, TimeUnit.NANOSECONDS.toMillis(remainingNanos(deadline)))));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new EmbeddedKafkaException("Interrupted while waiting for partition leaders of " + expectedPartitions.keySet(), e);
            }
        }
    }

    private Admin internalAdmin() {
        synchronized (adminLock) {
            requireOpen();
            if (internalAdmin == null) {
                Map<String, Object> config = adminConfig();
                config.put(AdminClientConfig.CLIENT_ID_CONFIG, "embedded-kafka-" + brokerPort);
                internalAdmin = Admin.create(config);
            }
            return internalAdmin;
        }
    }

    private void requireOpen() {
        if (closed.get()) {
            throw new IllegalStateException("Embedded Kafka broker " + bootstrapServers + " is closed");
        }
    }

    private static Properties brokerProperties(Path dir, int brokerPort, int controllerPort, Map<String, String> overrides) {
        Properties p = new Properties();
        // Single node, combined KRaft broker + controller.
        p.put("process.roles", "broker,controller");
        p.put("node.id", String.valueOf(NODE_ID));
        p.put("controller.quorum.voters", NODE_ID + "@" + HOST + ":" + controllerPort);
        p.put("listeners", BROKER_LISTENER + "://" + HOST + ":" + brokerPort + "," + CONTROLLER_LISTENER + "://" + HOST + ":" + controllerPort);
        p.put("advertised.listeners", BROKER_LISTENER + "://" + HOST + ":" + brokerPort);
        p.put("controller.listener.names", CONTROLLER_LISTENER);
        p.put("inter.broker.listener.name", BROKER_LISTENER);
        p.put("listener.security.protocol.map", BROKER_LISTENER + ":PLAINTEXT," + CONTROLLER_LISTENER + ":PLAINTEXT");
        p.put("log.dirs", dir.toString());
        // Internal topics on one node (EOS needs the transaction state ones).
        p.put("offsets.topic.replication.factor", "1");
        p.put("offsets.topic.num.partitions", "4");
        p.put("transaction.state.log.replication.factor", "1");
        p.put("transaction.state.log.min.isr", "1");
        p.put("transaction.state.log.num.partitions", "4");
        p.put("share.coordinator.state.topic.replication.factor", "1");
        p.put("share.coordinator.state.topic.min.isr", "1");
        p.put("share.coordinator.state.topic.num.partitions", "1");
        p.put("default.replication.factor", "1");
        p.put("min.insync.replicas", "1");
        p.put("num.partitions", "1");
        p.put("auto.create.topics.enable", "false");
        p.put("group.initial.rebalance.delay.ms", "0");
        // Small footprint.
        p.put("log.segment.bytes", String.valueOf(16 * 1024 * 1024));
        // Keep every record by time: demos and benchmarks replay readings stamped days or months ago, and with small
        // segments time-based retention would delete them before they are read. Bound by size instead, so that a
        // demo left running for hours does not fill the disk (compacted topics, the changelogs, are not affected).
        p.put("log.retention.ms", "-1");
        p.put("log.retention.bytes", String.valueOf(RETENTION_BYTES_PER_PARTITION));
        p.put("log.cleaner.dedupe.buffer.size", String.valueOf(8 * 1024 * 1024));
        p.put("num.network.threads", "2");
        p.put("num.io.threads", "2");
        p.put("background.threads", "2");
        p.put("num.recovery.threads.per.data.dir", "1");
        p.put("server.max.startup.time.ms", "60000");
        p.putAll(overrides);
        return p;
    }

    /** Formats {@code dir} for node 1 with a new cluster id unless it already holds meta.properties. */
    private static boolean formatIfNeeded(Path dir) {
        if (Files.exists(dir.resolve("meta.properties"))) {
            return false;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (PrintStream print = new PrintStream(out, true, StandardCharsets.UTF_8)) {
            new Formatter()
                    .setPrintStream(print)
                    .setNodeId(NODE_ID)
                    .setClusterId(Uuid.randomUuid().toString())
                    .setControllerListenerName(CONTROLLER_LISTENER)
                    .setMetadataLogDirectory(dir.toString())
                    .addDirectory(dir.toString())
                    .setReleaseVersion(MetadataVersion.LATEST_PRODUCTION)
                    .run();
        } catch (Exception e) {
            throw new EmbeddedKafkaException("Could not format Kafka log directory " + dir + ": " + e, e);
        }
        LOG.debug("Formatter: {}", out.toString(StandardCharsets.UTF_8).strip());
        return true;
    }

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket(0, 0, InetAddress.getByName(HOST))) {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot find a free port on " + HOST, e);
        }
    }

    private static void shutdownQuietly(KafkaRaftServer server) {
        try {
            server.shutdown();
            server.awaitShutdown();
        } catch (Throwable t) {
            LOG.debug("Ignoring error while shutting down a broker that failed to start", t);
        }
    }

    private static <T extends Throwable> T findCause(Throwable t, Class<T> type) {
        List<Throwable> seen = new ArrayList<>();
        for (Throwable c = t; c != null && !seen.contains(c); c = c.getCause()) {
            if (type.isInstance(c)) {
                return type.cast(c);
            }
            seen.add(c);
        }
        return null;
    }

    /** The distinct messages along the cause chain, outermost first, e.g. "... <- Socket server failed to bind to ...". */
    private static String describe(Throwable t) {
        List<Throwable> seen = new ArrayList<>();
        List<String> messages = new ArrayList<>();
        for (Throwable c = t; c != null && !seen.contains(c); c = c.getCause()) {
            seen.add(c);
            String message = c.getMessage() == null ? c.getClass().getName() : c.getMessage();
            if (!messages.contains(message)) {
                messages.add(message);
            }
        }
        return String.join(" <- ", messages);
    }

    private static long remainingNanos(long deadline) {
        return deadline - System.nanoTime();
    }

    /** Replaces Kafka's exit/halt procedures while at least one embedded broker is open (see class comment). */
    private static void installExitGuard() {
        synchronized (EXIT_GUARD_LOCK) {
            if (openBrokers++ == 0) {
                Exit.setHaltProcedure((status, message) -> refuse("halt", status, message));
                Exit.setExitProcedure((status, message) -> refuse("exit", status, message));
            }
        }
    }

    private static void removeExitGuard() {
        synchronized (EXIT_GUARD_LOCK) {
            if (openBrokers > 0 && --openBrokers == 0) {
                Exit.resetHaltProcedure();
                Exit.resetExitProcedure();
            }
        }
    }

    private static void refuse(String what, int status, String message) {
        String text = "Kafka asked to " + what + " the JVM with status " + status
                + (message == null ? "" : " (" + message + ")")
                + "; refused by the embedded broker, which is now in a failed state and should be closed";
        EmbeddedKafkaException e = new EmbeddedKafkaException(text);
        LOG.error(text, e);
        throw e;
    }
}
