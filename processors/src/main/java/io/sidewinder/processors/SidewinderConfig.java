package io.sidewinder.processors;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.streams.StreamsConfig;

/**
 * Typed settings of the Sidewinder pipeline, with defaults and documentation (in the style of StreamsConfig).
 * Sources, later ones winning: defaults, a properties file, environment variables
 * ({@code SIDEWINDER_FORECASTS_TOPIC} sets {@code sidewinder.forecasts.topic}; {@code KAFKA_BOOTSTRAP_SERVERS}
 * sets {@code bootstrap.servers}), then explicit overrides (command-line flags). Any other key (Kafka Streams,
 * producer, consumer settings) is passed through to Kafka Streams.
 */
public final class SidewinderConfig extends AbstractConfig {
    public static final String BOOTSTRAP_SERVERS = "bootstrap.servers";
    public static final String APPLICATION_ID = "application.id";
    public static final String STATE_DIR = "state.dir";
    public static final String PROCESSING_GUARANTEE = "processing.guarantee";
    public static final String INPUT_TOPICS = "sidewinder.input.topics";
    public static final String FORECASTS_TOPIC = "sidewinder.forecasts.topic";
    public static final String ANOMALIES_TOPIC = "sidewinder.anomalies.topic";
    public static final String DEAD_LETTER_TOPIC = "sidewinder.dead.letter.topic";
    public static final String MODELS_TOPIC = "sidewinder.models.topic";
    public static final String MODEL_ID = "sidewinder.model.id";
    public static final String TOPIC_PARTITIONS = "sidewinder.topic.partitions";
    public static final String TOPIC_REPLICATION = "sidewinder.topic.replication.factor";
    public static final String REORDER_GRACE_MS = "sidewinder.reorder.grace.ms";
    public static final String FUTURE_TOLERANCE_MS = "sidewinder.future.tolerance.ms";
    public static final String RING_BUFFER_SIZE = "sidewinder.ring.buffer.size";
    public static final String ANOMALY_WARMUP = "sidewinder.anomaly.warmup.readings";
    public static final String ANOMALY_THRESHOLD = "sidewinder.anomaly.threshold";
    public static final String ANOMALY_SHORT_WINDOW = "sidewinder.anomaly.short.window";
    public static final String ANOMALY_LONG_WINDOW = "sidewinder.anomaly.long.window";
    public static final String ANOMALY_EXTREME_WEIGHT = "sidewinder.anomaly.extreme.weight";
    public static final String DEVIATION_REFERENCE = "sidewinder.deviation.reference.readings";
    public static final String DEVIATION_SMOOTHING = "sidewinder.deviation.smoothing.readings";
    public static final String DEVIATION_ADAPT = "sidewinder.deviation.adapt.readings";
    public static final String DEVIATION_GATE = "sidewinder.deviation.gate";
    public static final String DEVIATION_RELEARN = "sidewinder.deviation.relearn.readings";
    public static final String GAP_MODE = "sidewinder.gap.mode";
    public static final String DECODED_STATE_CACHE_KEYS = "sidewinder.state.cache.keys";
    public static final String MAX_STATE_BYTES = "sidewinder.max.state.bytes";
    public static final String ROCKSDB_MEMORY_BYTES = "sidewinder.rocksdb.memory.bytes";
    static final long DEFAULT_ROCKSDB_MEMORY_BYTES = 128L * 1024 * 1024;
    public static final String MAX_ABS_VALUE = "sidewinder.max.abs.value";
    public static final String MODEL_SIGNING_KEY = "sidewinder.model.signing.key";
    public static final String MODEL_SIGNING_REQUIRED = "sidewinder.model.signing.required";
    public static final String HTTP_PORT = "sidewinder.http.port";
    public static final String HTTP_HOST = "sidewinder.http.host";
    public static final String HTTP_BIND_ADDRESS = "sidewinder.http.bind.address";

    private static final ConfigDef DEF = new ConfigDef()
            .define(BOOTSTRAP_SERVERS, Type.LIST, "localhost:9092", Importance.HIGH,
                    "Kafka brokers to connect to.")
            .define(APPLICATION_ID, Type.STRING, "sidewinder", Importance.HIGH,
                    "Kafka Streams application id: consumer group, state directory and internal topic prefix.")
            .define(STATE_DIR, Type.STRING, System.getProperty("java.io.tmpdir") + "/sidewinder-state", Importance.HIGH,
                    "Directory of the RocksDB state stores (a persistent volume in production).")
            .define(PROCESSING_GUARANTEE, Type.STRING, StreamsConfig.EXACTLY_ONCE_V2,
                    ConfigDef.ValidString.in(StreamsConfig.EXACTLY_ONCE_V2, StreamsConfig.AT_LEAST_ONCE), Importance.MEDIUM,
                    "exactly_once_v2 (default: outputs and state commit atomically) or at_least_once (lower latency, "
                            + "duplicates after a crash; not with a reorder grace).")
            .define(INPUT_TOPICS, Type.LIST, "sensor-readings", Importance.HIGH,
                    "Topics of SensorReading records (Avro single-object encoding), keyed by sensor id.")
            .define(FORECASTS_TOPIC, Type.STRING, "sensor-forecasts", Importance.HIGH, "Topic of Forecast records.")
            .define(ANOMALIES_TOPIC, Type.STRING, "sensor-anomalies", Importance.HIGH,
                    "Topic of AnomalyScore records (every scored reading; 'flagged' marks anomalies).")
            .define(DEAD_LETTER_TOPIC, Type.STRING, "sensor-dead-letters", Importance.HIGH,
                    "Topic of DeadLetter records: every input that could not be processed, with the reason.")
            .define(MODELS_TOPIC, Type.STRING, "sidewinder-models", Importance.HIGH,
                    "Compacted topic of ModelSnapshot records, keyed by '<model id>/<version>'.")
            .define(MODEL_ID, Type.STRING, "default", Importance.HIGH, "Which model id on the models topic to serve.")
            .define(TOPIC_PARTITIONS, Type.INT, 3, Range.atLeast(1), Importance.MEDIUM,
                    "Partitions of the topics Sidewinder creates (demo, `run --create-topics`; the models topic always gets 1).")
            .define(TOPIC_REPLICATION, Type.SHORT, (short) 1, Range.between(1, Short.MAX_VALUE), Importance.MEDIUM,
                    "Replication factor of topics Sidewinder creates, and of internal topics.")
            .define(REORDER_GRACE_MS, Type.LONG, 0L, Range.atLeast(0), Importance.MEDIUM,
                    "Event-time grace for out-of-order readings: readings are held until stream time passes their "
                            + "event time plus this, then applied in order; anything older than the last applied "
                            + "reading of its sensor is dead-lettered. 0 applies readings at once. Needs "
                            + "processing.guarantee=exactly_once_v2.")
            .define(FUTURE_TOLERANCE_MS, Type.LONG, 300_000L, Range.atLeast(0), Importance.MEDIUM,
                    "Readings whose event time is further than this ahead of the wall clock are dead-lettered "
                            + "(9223372036854775807: never).")
            .define(RING_BUFFER_SIZE, Type.INT, 64, Range.between(0, 100_000), Importance.MEDIUM,
                    "Recent readings kept per sensor; on a model swap they are replayed through the new model so "
                            + "forecasts stay warm.")
            .define(ANOMALY_WARMUP, Type.INT, 100, Range.atLeast(0), Importance.MEDIUM,
                    "Readings per sensor before anything is flagged.")
            .define(ANOMALY_THRESHOLD, Type.DOUBLE, 0.999, Range.between(0.0, 1.0), Importance.MEDIUM,
                    "Likelihood at or above which a reading is flagged.")
            .define(ANOMALY_SHORT_WINDOW, Type.INT, 1, Range.atLeast(1), Importance.LOW,
                    "Readings averaged for the recent surprise.")
            .define(ANOMALY_LONG_WINDOW, Type.INT, 1000, Range.atLeast(2), Importance.LOW,
                    "Readings over which the sensor's usual surprise, and its long-run values, are learned.")
            .define(ANOMALY_EXTREME_WEIGHT, Type.DOUBLE, 0.1, Range.between(0.0, 1.0), Importance.LOW,
                    "Weight of extreme-value evidence in the likelihood: a reading far outside the sensor's long-run "
                            + "values raises it as much as a forecast miss 1/weight times more probable. 0 = the "
                            + "forecast surprise alone.")
            .define(DEVIATION_REFERENCE, Type.INT, 400, Range.atLeast(2), Importance.MEDIUM,
                    "Readings per sensor that define its normal baseline (mean and covariance of the smoothed "
                            + "readings); the deviation score is 0 until they are in.")
            .define(DEVIATION_SMOOTHING, Type.INT, 10, Range.atLeast(1), Importance.LOW,
                    "Readings averaged (exponentially) before the distance to the baseline is measured.")
            .define(DEVIATION_ADAPT, Type.INT, 3000, Range.atLeast(1), Importance.LOW,
                    "Readings over which the baseline follows slow drift; only readings that are not deviating move it.")
            .define(DEVIATION_GATE, Type.DOUBLE, 6.25, Range.atLeast(1.0), Importance.MEDIUM,
                    "Distance to the baseline (mean squared standardised distance per channel, about 1 for normal "
                            + "readings) at or above which a reading is 'deviating'.")
            .define(DEVIATION_RELEARN, Type.LONG, 3600L, Range.atLeast(1), Importance.MEDIUM,
                    "Consecutive deviating readings after which the deviation is taken as the new normal and the "
                            + "baseline is learned again.")
            .define(GAP_MODE, Type.STRING, "model", ConfigDef.CaseInsensitiveValidString.in("model", "key"), Importance.MEDIUM,
                    "How the time between two readings scales the model's step: 'model' = the real gap over the model's "
                            + "training interval; 'key' = the gap over the sensor's own typical interval (for a general "
                            + "model serving sensors of any cadence).")
            .define(DECODED_STATE_CACHE_KEYS, Type.INT, 2_000, Range.atLeast(0), Importance.LOW,
                    "Sensors per stream task whose decoded state is kept in memory (about 12 KB each with the "
                            + "default model), saving a decode per reading; the state store remains the source of truth.")
            .define(MAX_ABS_VALUE, Type.DOUBLE, io.sidewinder.ssm.CausalNormalizer.MAX_ABS_READING,
                    Range.atLeast(0.0), Importance.LOW,
                    "Largest magnitude a reading's value may have; beyond it the reading is dead-lettered as "
                            + "OUT_OF_RANGE (a device's sentinel or error code such as 3.4e38 would otherwise inflate the "
                            + "sensor's running statistics for days). Set it to your sensors' physical range.")
            .define(MAX_STATE_BYTES, Type.INT, 1_000_000, Range.between(1_024, Integer.MAX_VALUE), Importance.LOW,
                    "Largest encoded state of one sensor (it grows with the channel count, the model and the ring "
                            + "buffer). A reading that would make it larger is dead-lettered as STATE_TOO_LARGE instead "
                            + "of failing the changelog write; raise it together with the changelog topic's "
                            + "max.message.bytes and the producer's max.request.size.")
            .define(ROCKSDB_MEMORY_BYTES, Type.LONG, DEFAULT_ROCKSDB_MEMORY_BYTES, Range.atLeast(16L * 1024 * 1024),
                    Importance.MEDIUM, "Off-heap memory all RocksDB state stores of the JVM share (block cache and "
                            + "memtables, BoundedMemoryRocksDBConfig); without a bound each store takes RocksDB's own "
                            + "defaults and the total grows with the partitions an instance owns. Size the container's "
                            + "memory limit as heap + this + ~300 MB. A rocksdb.config.setter you set replaces it.")
            .define(MODEL_SIGNING_KEY, Type.PASSWORD, "", Importance.MEDIUM,
                    "Shared key (at least 32 bytes) that model snapshots must be signed with (HMAC-SHA256, train "
                            + "--signing-key-file) to serve; empty: any valid snapshot on the models topic serves. "
                            + "Set it from a secret (SIDEWINDER_MODEL_SIGNING_KEY), never in a file others read.")
            .define(MODEL_SIGNING_REQUIRED, Type.BOOLEAN, false, Importance.MEDIUM,
                    "Refuse to start without a sidewinder.model.signing.key: a Secret that failed to mount must not "
                            + "quietly let unsigned models serve.")
            .define(HTTP_PORT, Type.INT, 8080, Range.between(-1, 65535), Importance.MEDIUM,
                    "Port of the read-only HTTP API (/sensors/{id}, /metrics, /health, /ready); -1 disables it, 0 picks one.")
            .define(HTTP_BIND_ADDRESS, Type.STRING, "", Importance.LOW,
                    "Address the HTTP API listens on; empty: every interface (a container, a pod). The demo listens "
                    + "on 127.0.0.1.")
            .define(HTTP_HOST, Type.STRING, "localhost", Importance.MEDIUM,
                    "Host name other instances use to reach this one's HTTP API (application.server).");

    public SidewinderConfig(Map<?, ?> props) {
        super(DEF, props, false);
        for (Object key : props.keySet()) {
            String k = String.valueOf(key);
            if (k.startsWith("sidewinder.") && !DEF.names().contains(k)) {
                // Other keys pass through to Kafka; a misspelt one of ours would be ignored without a word.
                throw new ConfigException("unknown setting " + k + (nearest(k) == null ? "" : " (did you mean "
                        + nearest(k) + "?)") + "; `sidewinder run --list-config` lists them");
            }
        }
        if (getBoolean(MODEL_SIGNING_REQUIRED) && getPassword(MODEL_SIGNING_KEY).value().isBlank()) {
            throw new ConfigException(MODEL_SIGNING_REQUIRED + " is true but " + MODEL_SIGNING_KEY + " is empty: set it "
                    + "(SIDEWINDER_MODEL_SIGNING_KEY from a secret), or unsigned models would serve");
        }
        if (getLong(REORDER_GRACE_MS) > 0 && StreamsConfig.AT_LEAST_ONCE.equals(getString(PROCESSING_GUARANTEE))) {
            // The buffer's delete and the sensor's new state reach their changelogs separately: a crash between
            // them, after the reading's input offset was committed, would lose the reading for good.
            throw new ConfigException(REORDER_GRACE_MS + " > 0 needs " + PROCESSING_GUARANTEE + "="
                    + StreamsConfig.EXACTLY_ONCE_V2 + ": under " + StreamsConfig.AT_LEAST_ONCE
                    + " a crash can lose readings held in the reorder buffer");
        }
    }

    /** The known key closest to a misspelt one (edit distance at most a third of its length), or null. */
    static String nearest(String key) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String name : DEF.names()) {
            int d = editDistance(key, name);
            if (d < bestDistance) {
                bestDistance = d;
                best = name;
            }
        }
        return bestDistance <= key.length() / 3 ? best : null;
    }

    private static int editDistance(String a, String b) {
        int[] prev = new int[b.length() + 1], cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) prev[j] = j;
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                cur[j] = Math.min(Math.min(cur[j - 1], prev[j]) + 1, prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1));
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }

    public static ConfigDef definition() {
        return DEF;
    }

    /** Defaults ← file ← environment ← overrides. */
    public static SidewinderConfig load(Path propertiesFile, Map<String, String> env, Map<String, ?> overrides)
            throws IOException {
        Map<String, Object> props = new HashMap<>();
        if (propertiesFile != null) {
            Properties p = new Properties();
            try (InputStream in = Files.newInputStream(propertiesFile)) {
                p.load(in);
            }
            p.forEach((k, v) -> props.put(k.toString(), v));
        }
        props.putAll(fromEnvironment(env));
        props.putAll(overrides);
        return new SidewinderConfig(props);
    }

    /**
     * Variables the launcher, logback and the CLI read (JVM options, log level, stack traces on errors): not settings,
     * so not handed to Kafka Streams as unknown keys.
     */
    public static final java.util.Set<String> LAUNCHER_VARIABLES =
            java.util.Set.of("SIDEWINDER_JAVA_OPTS", "SIDEWINDER_LOG_LEVEL", "SIDEWINDER_DEBUG");

    /**
     * SIDEWINDER_X_Y → sidewinder.x.y; KAFKA_X_Y → x.y (Kafka settings). A SIDEWINDER_ variable that names no setting
     * is left out with a warning, not refused: the environment holds variables nobody set for Sidewinder (Kubernetes
     * service links of a Service named sidewinder: SIDEWINDER_SERVICE_HOST, SIDEWINDER_PORT_8080_TCP, …).
     */
    static Map<String, String> fromEnvironment(Map<String, String> env) {
        Map<String, String> out = new HashMap<>();
        env.forEach((k, v) -> {
            if (k.startsWith("SIDEWINDER_") && !LAUNCHER_VARIABLES.contains(k)) {
                String key = k.toLowerCase(Locale.ROOT).replace('_', '.');
                if (DEF.names().contains(key)) {
                    out.put(key, v);
                } else {
                    org.slf4j.LoggerFactory.getLogger(SidewinderConfig.class).warn(
                            "environment variable {} names no setting ({}); ignored", k, key);
                }
            }
        });
        out.putAll(kafkaSettingsFromEnvironment(env));
        return out;
    }

    /** Variables Kafka's own scripts read (JVM options of kafka-*.sh): set in many shells, never client settings. */
    static final java.util.Set<String> KAFKA_SCRIPT_VARIABLES = java.util.Set.of("KAFKA_HEAP_OPTS", "KAFKA_OPTS",
            "KAFKA_JVM_PERFORMANCE_OPTS", "KAFKA_LOG4J_OPTS", "KAFKA_GC_LOG_OPTS", "KAFKA_JMX_OPTS", "KAFKA_DEBUG",
            "KAFKA_HOME");

    /** KAFKA_X_Y → x.y: the Kafka client settings the environment holds (the CLI's other Kafka clients read them too). */
    public static Map<String, String> kafkaSettingsFromEnvironment(Map<String, String> env) {
        Map<String, String> out = new HashMap<>();
        env.forEach((k, v) -> {
            if (k.startsWith("KAFKA_") && k.length() > "KAFKA_".length() && !KAFKA_SCRIPT_VARIABLES.contains(k)) {
                out.put(k.substring(6).toLowerCase(Locale.ROOT).replace('_', '.'), v);
            }
        });
        return out;
    }

    /** The signature model snapshots must carry to serve, or null when no key is set. */
    public io.sidewinder.ssm.SnapshotSignature modelSignature() {
        var key = getPassword(MODEL_SIGNING_KEY);
        if (key == null || key.value().isBlank()) return null;
        try {
            return io.sidewinder.ssm.SnapshotSignature.ofText(key.value());
        } catch (IllegalArgumentException e) {
            throw new org.apache.kafka.common.config.ConfigException(MODEL_SIGNING_KEY + ": " + e.getMessage());
        }
    }

    public List<String> inputTopics() {
        return getList(INPUT_TOPICS);
    }

    /** Kafka Streams properties: our defaults for Streams, then every pass-through key. */
    public Properties streamsProperties() {
        return streamsProperties(getInt(HTTP_PORT));
    }

    /** The same, with the HTTP API's port as bound (sidewinder.http.port 0 binds any free one). */
    public Properties streamsProperties(int boundHttpPort) {
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, getString(APPLICATION_ID));
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, String.join(",", getList(BOOTSTRAP_SERVERS)));
        p.put(StreamsConfig.STATE_DIR_CONFIG, getString(STATE_DIR));
        p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, getString(PROCESSING_GUARANTEE));
        p.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, (int) getShort(TOPIC_REPLICATION));
        p.put(StreamsConfig.NUM_STANDBY_REPLICAS_CONFIG, 0);
        p.put(StreamsConfig.TOPOLOGY_OPTIMIZATION_CONFIG, StreamsConfig.NO_OPTIMIZATION);
        // Our global-store processor never throws on bad snapshots (the registry rejects them); opting in now
        // is Kafka 5.0's default and silences Streams' start-up warning. The partition assignor builds a second
        // StreamsConfig from the main consumer's settings alone, which warns again unless they carry it too.
        p.put(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_GLOBAL_ENABLED_CONFIG, true);
        p.put(StreamsConfig.mainConsumerPrefix(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_GLOBAL_ENABLED_CONFIG), true);
        p.put(StreamsConfig.PRODUCTION_EXCEPTION_HANDLER_CLASS_CONFIG, OversizedRecordHandler.class.getName());
        p.put(StreamsConfig.ROCKSDB_CONFIG_SETTER_CLASS_CONFIG, BoundedMemoryRocksDBConfig.class.getName());
        p.put(ROCKSDB_MEMORY_BYTES, getLong(ROCKSDB_MEMORY_BYTES));   // the setter reads it from Streams' configs
        if (boundHttpPort > 0) {
            p.put(StreamsConfig.APPLICATION_SERVER_CONFIG, getString(HTTP_HOST) + ":" + boundHttpPort);
        }
        originals().forEach((k, v) -> {
            if (!DEF.names().contains(k)) {
                p.put(k, v);
            }
        });
        return p;
    }

    /** A markdown table of every setting (for the README and `sidewinder run --list-config`). */
    public static String documentation() {
        StringBuilder sb = new StringBuilder("| key | type | default | description |\n|---|---|---|---|\n");
        for (ConfigDef.ConfigKey k : DEF.configKeys().values()) {
            sb.append("| `").append(k.name).append("` | ").append(k.type.toString().toLowerCase(Locale.ROOT))
                    .append(" | `").append(!k.hasDefault() || k.type == Type.PASSWORD ? "" : String.valueOf(k.defaultValue))
                    .append("` | ")
                    .append(k.documentation).append(" |\n");
        }
        return sb.toString();
    }
}
