package io.sidewinder.processors;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** One running Sidewinder instance: Kafka Streams, the model registry, metrics and the HTTP API. */
public final class SidewinderApp implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SidewinderApp.class);

    private final SidewinderConfig config;
    private final ModelRegistry models;
    private final PrometheusMeterRegistry registry;
    private final PipelineMetrics metrics;
    private final KafkaStreams streams;
    private final QueryServer http;
    private final ThreadFailurePolicy threadFailures;
    private final java.util.List<AutoCloseable> binders = new ArrayList<>();

    /** Builds the instance and binds its HTTP port (so that other instances are told the port really bound). */
    public SidewinderApp(SidewinderConfig config) {
        this.config = config;
        this.models = new ModelRegistry(config.getString(SidewinderConfig.MODEL_ID), config.modelSignature());
        this.registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        this.metrics = new PipelineMetrics(registry, models);
        int port = config.getInt(SidewinderConfig.HTTP_PORT);
        try {
            this.http = port >= 0 ? QueryServer.bind(config.getString(SidewinderConfig.HTTP_BIND_ADDRESS), port, this) : null;
        } catch (IOException e) {
            registry.close();
            throw new java.io.UncheckedIOException("cannot serve the HTTP API on port " + port + ": " + e.getMessage(), e);
        }
        try {
            this.streams = new KafkaStreams(SidewinderTopology.build(config, models, metrics),
                    config.streamsProperties(http == null ? -1 : http.port()));
        } catch (RuntimeException e) {
            if (http != null) http.stop();
            registry.close();
            throw e;
        }
        // A thread that dies on an unexpected exception is replaced; an Error, or failures that keep coming back,
        // shut the client down so that /health fails and the orchestrator restarts the instance.
        this.threadFailures = new ThreadFailurePolicy(ThreadFailurePolicy.MAX_REPLACEMENTS, ThreadFailurePolicy.WINDOW,
                System::nanoTime, registry);
        streams.setUncaughtExceptionHandler(threadFailures::handle);
        try {
            bindMeters();
        } catch (RuntimeException e) {
            close();   // Streams' clients, the bound port and any binder made so far
            throw e;
        }
    }

    /** Kafka Streams' own meters (lag, commit rate, restore progress, …) and the JVM's, beside Sidewinder's. */
    private void bindMeters() {
        io.micrometer.core.instrument.binder.kafka.KafkaStreamsMetrics kafkaMetrics =
                new io.micrometer.core.instrument.binder.kafka.KafkaStreamsMetrics(streams);
        binders.add(kafkaMetrics);
        kafkaMetrics.bindTo(registry);
        io.micrometer.core.instrument.binder.jvm.JvmGcMetrics gc = new io.micrometer.core.instrument.binder.jvm.JvmGcMetrics();
        binders.add(gc);
        gc.bindTo(registry);
        new io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics().bindTo(registry);
        new io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics().bindTo(registry);
        new io.micrometer.core.instrument.binder.system.ProcessorMetrics().bindTo(registry);
        // disk_free_bytes of the state directory: RocksDB fails every write of a full disk.
        new io.micrometer.core.instrument.binder.system.DiskSpaceMetrics(
                new java.io.File(config.getString(SidewinderConfig.STATE_DIR))).bindTo(registry);
    }

    /**
     * An admin client of the configured cluster, with the admin settings Streams' own would get (TLS, SASL and any
     * other pass-through key), that gives up on a call after {@code timeoutMs} with the reason; {@code clientId}
     * tells concurrent ones apart (the same id twice in a JVM clashes in JMX).
     */
    public static Admin admin(SidewinderConfig config, int timeoutMs, String clientId) {
        Map<String, Object> p = new java.util.HashMap<>(
                new StreamsConfig(config.streamsProperties(-1)).getAdminConfigs(clientId));
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, timeoutMs);
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, Math.min(timeoutMs, 30_000));
        return Admin.create(p);
    }

    private static Admin admin(SidewinderConfig config) {
        return admin(config, 30_000, "sidewinder-create-topics");
    }

    /** Creates any missing topic Sidewinder reads or writes (models topic compacted). */
    public static void createTopics(SidewinderConfig config) throws InterruptedException {
        int partitions = config.getInt(SidewinderConfig.TOPIC_PARTITIONS);
        short rf = config.getShort(SidewinderConfig.TOPIC_REPLICATION);
        Map<String, String> common = createdTopicConfigs(config);
        List<NewTopic> topics = new ArrayList<>();
        for (String t : config.inputTopics()) {
            topics.add(new NewTopic(t, partitions, rf).configs(common));
        }
        for (String key : List.of(SidewinderConfig.FORECASTS_TOPIC, SidewinderConfig.ANOMALIES_TOPIC,
                SidewinderConfig.DEAD_LETTER_TOPIC)) {
            topics.add(new NewTopic(config.getString(key), partitions, rf).configs(common));
        }
        Map<String, String> models = new java.util.HashMap<>(common);
        models.put(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT);
        topics.add(new NewTopic(config.getString(SidewinderConfig.MODELS_TOPIC), 1, rf).configs(models));
        try (Admin admin = admin(config)) {
            Set<String> existing = admin.listTopics().names().get();
            List<NewTopic> missing = topics.stream().filter(t -> !existing.contains(t.name())).toList();
            if (!missing.isEmpty()) {
                List<String> created = new ArrayList<>();
                for (var e : admin.createTopics(missing).values().entrySet()) {
                    try {
                        e.getValue().get();
                        created.add(e.getKey());
                    } catch (ExecutionException failure) {
                        // Several instances (a StatefulSet's init containers) create the same topics at once.
                        if (!(failure.getCause() instanceof org.apache.kafka.common.errors.TopicExistsException)) {
                            throw failure;
                        }
                    }
                }
                LOG.info("created topics {}", created);
            }
        } catch (ExecutionException e) {
            throw new IllegalStateException("could not create topics: " + e.getCause().getMessage(), e.getCause());
        }
    }

    /**
     * Settings of the topics {@link #createTopics} makes: min.insync.replicas as the internal topics get it
     * ({@code topic.min.insync.replicas}), else 2 once there are 3 replicas, so that acks=all means two copies.
     */
    static Map<String, String> createdTopicConfigs(SidewinderConfig config) {
        Object own = config.originals().get(StreamsConfig.topicPrefix(TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG));
        if (own != null) {
            return Map.of(TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG, own.toString().trim());
        }
        return config.getShort(SidewinderConfig.TOPIC_REPLICATION) >= 3
                ? Map.of(TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG, "2") : Map.of();
    }

    public SidewinderApp start() throws IOException {
        try {
            checkTopics(config);
            LOG.info(startupSummary(config));
            if (http != null) {
                http.start();
                LOG.info("HTTP API on port {} (/sensors/{id}, /metrics, /health, /ready); other instances reach it as {}:{}",
                        http.port(), config.getString(SidewinderConfig.HTTP_HOST), http.port());
            }
            streams.start();
        } catch (RuntimeException e) {
            close();   // the HTTP server and Streams' clients would outlive an instance nobody holds
            throw e;
        }
        return this;
    }

    /** How long each start-up check may wait for the cluster before it is left to Streams. */
    static final int CHECK_TIMEOUT_MS = 10_000;

    /**
     * Checks the topics before Streams starts, where a problem still has one clear message:
     * <ul>
     * <li>every input, output and dead-letter topic must exist: Streams would replace its threads on a missing input
     *     until the instance stops, and retry a send to a missing output forever;</li>
     * <li>several inputs must have one partition count: Streams does not check it for one source reading several
     *     topics, and a sensor's readings would reach two tasks and keep two states;</li>
     * <li>the models topic must exist, and should be compacted (a warning): else its models expire with its
     *     retention, and an instance started after that serves none.</li>
     * </ul>
     * A check the cluster does not answer (a timeout, no Describe rights) is logged and left to Streams.
     */
    static void checkTopics(SidewinderConfig config) {
        List<String> inputs = config.inputTopics();
        List<String> outputs = List.of(config.getString(SidewinderConfig.FORECASTS_TOPIC),
                config.getString(SidewinderConfig.ANOMALIES_TOPIC), config.getString(SidewinderConfig.DEAD_LETTER_TOPIC));
        String modelsTopic = config.getString(SidewinderConfig.MODELS_TOPIC);
        List<String> all = new ArrayList<>(inputs);
        all.addAll(outputs);
        all.add(modelsTopic);
        Map<String, Integer> partitions = new java.util.TreeMap<>();
        List<String> missing = new ArrayList<>();
        boolean answered = true;
        try (Admin admin = admin(config, CHECK_TIMEOUT_MS, "sidewinder-startup-check")) {
            for (var e : admin.describeTopics(all.stream().distinct().toList()).topicNameValues().entrySet()) {
                try {
                    partitions.put(e.getKey(), e.getValue().get().partitions().size());
                } catch (ExecutionException failure) {
                    if (failure.getCause() instanceof org.apache.kafka.common.errors.UnknownTopicOrPartitionException) {
                        missing.add(e.getKey());
                    } else {
                        answered = false;
                        LOG.warn("could not describe topic '{}' ({}); Kafka Streams will check it", e.getKey(),
                                failure.getCause().toString());
                    }
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
            if (!missing.isEmpty()) {
                java.util.Collections.sort(missing);
                throw new IllegalStateException((missing.size() == 1 ? "topic " : "topics ") + missing + " do"
                        + (missing.size() == 1 ? "es" : "") + " not exist: create " + (missing.size() == 1 ? "it" : "them")
                        + (missing.contains(modelsTopic) ? " (the models topic with cleanup.policy=compact)" : "")
                        + "; `sidewinder run --create-topics` does");
            }
            Map<String, Integer> inputPartitions = new java.util.TreeMap<>(partitions);
            inputPartitions.keySet().retainAll(inputs);
            if (new java.util.HashSet<>(inputPartitions.values()).size() > 1) {
                throw new IllegalStateException("the input topics have different partition counts " + inputPartitions
                        + ": a sensor's readings would reach two tasks and keep two states; give them one count");
            }
            if (answered) {
                warnUnlessCompacted(admin, modelsTopic);
            }
        }
    }

    /**
     * The models topic's cleanup.policy when it is not exactly compact ("?" when unset), or null when it is: the
     * stream's start-up check and the trainer's publisher both ask, and "compact,delete" still expires models.
     */
    public static String notCompacted(Admin admin, String topic) throws ExecutionException, InterruptedException {
        var resource = new org.apache.kafka.common.config.ConfigResource(
                org.apache.kafka.common.config.ConfigResource.Type.TOPIC, topic);
        var policy = admin.describeConfigs(List.of(resource)).all().get().get(resource)
                .get(TopicConfig.CLEANUP_POLICY_CONFIG);
        if (policy == null) return "?";
        return policy.value().trim().equals(TopicConfig.CLEANUP_POLICY_COMPACT) ? null : policy.value();
    }

    private static void warnUnlessCompacted(Admin admin, String topic) {
        try {
            String policy = notCompacted(admin, topic);
            if (policy != null) {
                LOG.warn("models topic '{}' has cleanup.policy={}: its models expire with the topic's retention, and "
                        + "an instance started after that serves none (every reading dead-lettered as NO_MODEL); set "
                        + "cleanup.policy=compact", topic, policy);
            }
        } catch (ExecutionException e) {
            LOG.warn("could not read the models topic '{}''s cleanup.policy ({})", topic, e.getCause().toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * One line of what this instance does, from Sidewinder's own keys and the few Streams keys that shape it; never
     * the pass-through client keys, which may hold credentials (sasl.jaas.config, ssl passwords).
     */
    static String startupSummary(SidewinderConfig config) {
        return String.format("starting %s: inputs %s, model '%s' from %s, outputs %s / %s, dead letters %s, "
                        + "guarantee %s, reorder grace %d ms, gap mode %s, state dir %s, bootstrap %s, signed models %s",
                config.getString(SidewinderConfig.APPLICATION_ID), config.inputTopics(),
                config.getString(SidewinderConfig.MODEL_ID), config.getString(SidewinderConfig.MODELS_TOPIC),
                config.getString(SidewinderConfig.FORECASTS_TOPIC), config.getString(SidewinderConfig.ANOMALIES_TOPIC),
                config.getString(SidewinderConfig.DEAD_LETTER_TOPIC), config.getString(SidewinderConfig.PROCESSING_GUARANTEE),
                config.getLong(SidewinderConfig.REORDER_GRACE_MS), config.getString(SidewinderConfig.GAP_MODE),
                config.getString(SidewinderConfig.STATE_DIR), config.getList(SidewinderConfig.BOOTSTRAP_SERVERS),
                config.modelSignature() != null ? "required" : "not required");
    }

    /** Waits until Kafka Streams is RUNNING; false on timeout or when it failed or stopped first. */
    public boolean awaitRunning(Duration timeout) throws InterruptedException {
        return awaitRunning(streams, timeout);
    }

    /** The same for any KafkaStreams instance (benchmarks use it for their reference topologies). */
    public static boolean awaitRunning(KafkaStreams streams, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            KafkaStreams.State s = streams.state();
            if (s == KafkaStreams.State.RUNNING) {
                return true;
            }
            if (s == KafkaStreams.State.ERROR || s == KafkaStreams.State.NOT_RUNNING || System.nanoTime() > deadline) {
                return false;
            }
            // KafkaStreams has no blocking wait for a state, and its single state listener belongs to users.
            Thread.sleep(20);
        }
    }

    public KafkaStreams streams() { return streams; }

    public ModelRegistry models() { return models; }

    public PipelineMetrics metrics() { return metrics; }

    public PrometheusMeterRegistry registry() { return registry; }

    public SidewinderConfig config() { return config; }

    public int httpPort() {
        return http == null ? -1 : http.port();
    }

    @Override
    public void close() {
        if (!streams.close(Duration.ofSeconds(30))) {
            // Under exactly-once no checkpoint is written then: the next start restores the stores from the changelog.
            LOG.warn("Kafka Streams did not close within 30 s (state {}); the next start may restore its state stores "
                    + "from the changelogs", streams.state());
        }
        if (http != null) {
            http.stop();
        }
        for (AutoCloseable b : binders) {
            try {
                b.close();
            } catch (Exception e) {
                LOG.debug("closing a metrics binder: {}", e.toString());
            }
        }
        registry.close();
    }
}
