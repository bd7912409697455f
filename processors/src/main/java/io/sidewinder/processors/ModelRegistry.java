package io.sidewinder.processors;

import io.sidewinder.schemas.ModelSnapshot;
import io.sidewinder.schemas.serde.AvroSerdes;
import io.sidewinder.ssm.Forecaster;
import io.sidewinder.ssm.InvalidModelException;
import io.sidewinder.ssm.MambaModel;
import io.sidewinder.ssm.ModelConfig;
import io.sidewinder.ssm.ModelSnapshots;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.common.serialization.Deserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The model this instance serves, shared by all stream threads. Snapshots from the models topic are offered
 * here; a snapshot is decoded and fully validated (checksum, config, shapes, finite values) before it can
 * replace the current one, and only a higher version of the configured model id replaces it. A bad snapshot is
 * rejected with a log line and a metric while the current model keeps serving.
 */
public final class ModelRegistry {
    private static final Logger LOG = LoggerFactory.getLogger(ModelRegistry.class);

    /**
     * A validated model ready to serve; {@code tag} identifies its config and weights (the snapshot checksum's
     * first 64 bits), so that stored model states are reused only by the very model that wrote them.
     */
    public record ServingModel(String modelId, long version, long tag, Forecaster forecaster) {
        public ServingModel(String modelId, long version, Forecaster forecaster) {
            this(modelId, version, 0, forecaster);
        }

        public MambaModel model() {
            return forecaster.model();
        }
    }

    /** A snapshot's tag: the first 64 bits of its checksum (never 0, which means unknown). */
    static long tag(ModelSnapshot s) {
        String checksum = s.getChecksum();
        long t;
        try {
            t = checksum.length() >= 16 ? Long.parseUnsignedLong(checksum.substring(0, 16), 16) : checksum.hashCode();
        } catch (NumberFormatException e) {   // not hex: bytes from the topic must never throw here
            t = checksum.hashCode();
        }
        return t == 0 || t == UNSERVABLE ? 1 : t;
    }

    private final String modelId;
    private final AtomicReference<ServingModel> current = new AtomicReference<>();
    private final AtomicLong rejected = new AtomicLong();
    private final Deserializer<ModelSnapshot> decoder = AvroSerdes.modelSnapshot().deserializer();

    /** Null: any valid snapshot serves; else only those signed with its key. */
    private final io.sidewinder.ssm.SnapshotSignature signature;

    public ModelRegistry(String modelId) {
        this(modelId, null);
    }

    public ModelRegistry(String modelId, io.sidewinder.ssm.SnapshotSignature signature) {
        this.modelId = modelId;
        this.signature = signature;
    }

    /** Topic key of a snapshot: '<model id>/<version, zero-padded>' so a compacted topic keeps every version. */
    public static String key(String modelId, long version) {
        return modelId + "/" + String.format("%019d", version);
    }

    public ServingModel current() {
        return current.get();
    }

    public long rejectedCount() {
        return rejected.get();
    }

    public String modelId() {
        return modelId;
    }

    /** Model ids of snapshots on the models topic that this instance does not serve (the first 16 seen). */
    private final java.util.Set<String> otherModelIds = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private final java.util.concurrent.atomic.AtomicBoolean noModelReported = new java.util.concurrent.atomic.AtomicBoolean();

    public java.util.Set<String> otherModelIds() {
        return java.util.Set.copyOf(otherModelIds);
    }

    /**
     * True once per registry, for the first reading refused for want of a model: a mistyped model id otherwise shows
     * only as NO_MODEL dead letters.
     */
    boolean firstNoModel() {
        return noModelReported.compareAndSet(false, true);
    }

    /** Offers raw snapshot bytes from the models topic. Returns true when the model now serving changed. */
    public boolean offer(String key, byte[] bytes) {
        return offer(key, bytes, false);
    }

    /**
     * Offers the latest record of the models topic (the global processor, in topic order). Two trainers racing to
     * publish the same version put two snapshots under one key; compaction keeps the later one, which is what a
     * restarted instance serves: so here too the later one replaces the earlier one of the same key. A stream
     * thread's re-offer of its store view ({@link #offer(String, byte[])}) never does, as its view may be stale.
     */
    public boolean offerLatest(String key, byte[] bytes) {
        return offer(key, bytes, true);
    }

    private boolean offer(String key, byte[] bytes, boolean latestOnTopic) {
        if (key != null && bytes != null && !key.startsWith(modelId + "/") && otherModelIds.size() < 16) {
            otherModelIds.add(key.indexOf('/') < 0 ? key : key.substring(0, key.indexOf('/')));
        }
        if (bytes == null || key == null || !key.startsWith(modelId + "/")) {
            return false; // tombstones and other models' snapshots
        }
        if (retracted.contains(key)) {
            return false; // a stream thread's snapshot of the global store from before the tombstone
        }
        ModelSnapshot snapshot;
        try {
            snapshot = decoder.deserialize(null, bytes);
            if (snapshot == null) throw new IllegalArgumentException("empty snapshot");
        } catch (RuntimeException e) {
            if (latestOnTopic) {
                synchronized (this) {
                    newestOnTopic.put(key, UNSERVABLE);   // an older view of this key is stale now
                }
            }
            reject(key, "undecodable snapshot: " + e.getMessage());
            return false;
        }
        return offer(snapshot, key, latestOnTopic);
    }

    /**
     * The tag of the newest record the global thread has seen under each key (UNSERVABLE after a tombstone or
     * undecodable bytes). A stream thread re-offering its view of the store (an iterator opened earlier) is
     * accepted only for those same bytes: its view may hold a snapshot deleted or replaced since.
     */
    private final java.util.Map<String, Long> newestOnTopic = new java.util.concurrent.ConcurrentHashMap<>();
    private static final long UNSERVABLE = Long.MIN_VALUE;

    /** Keys tombstoned on the models topic, refused until a snapshot is put under the key again. */
    private final java.util.Set<String> retracted = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /** A snapshot put on the models topic again under a retracted key may serve again (the global processor says). */
    public void reinstate(String key) {
        retracted.remove(key);
    }

    public boolean offer(ModelSnapshot snapshot, String source) {
        return offer(snapshot, source, false);
    }

    private synchronized boolean offer(ModelSnapshot snapshot, String source, boolean latestOnTopic) {
        if (retracted.contains(source)) {
            return false;   // checked again under the lock: a tombstone may have landed while this one decoded
        }
        ServingModel next;
        MambaModel model;
        try {
            model = servable(snapshot, source);
            next = new ServingModel(snapshot.getModelId(), snapshot.getVersion(), tag(snapshot), new Forecaster(model));
        } catch (RuntimeException e) {   // bytes from a topic: refuse, never throw
            if (latestOnTopic) {
                newestOnTopic.put(source, UNSERVABLE);   // so a serving copy of this key is seen as replaced
            } else if (newestOnTopic.containsKey(source)) {
                return false;   // the global thread has judged this key already: a stream thread's view adds nothing
            }
            reject(source, e.getMessage() == null ? e.toString() : e.getMessage());
            return false;
        }
        if (latestOnTopic) {
            newestOnTopic.put(source, next.tag());
        } else {
            Long newest = newestOnTopic.get(source);
            if (newest != null && newest != next.tag()) {
                return false;   // a stale view: the topic has had a tombstone or other bytes under this key since
            }
        }
        while (true) {
            ServingModel prev = current.get();
            if (prev != null && !supersedes(next.version(), next.tag(), source, prev, latestOnTopic)) {
                return false;
            }
            if (current.compareAndSet(prev, next)) {
                LOG.info("serving model {} v{} ({} channels, {} layers{}, {} parameters){}", next.modelId(), next.version(),
                        model.config().channels(), model.config().layers(),
                        model.config().members() > 1 ? " in each of " + model.config().members() + " members" : "",
                        model.parameters().count(),
                        prev == null ? "" : ", replacing v" + prev.version());
                if (prev != null) warnIfServedDifferently(prev.forecaster().model().config(), model.config(), next);
                return true;
            }
        }
    }

    /**
     * A swap that changes what the stream emits or accepts is said once, at WARN: another horizon changes every
     * forecast's length for consumers; another channel count dead-letters sensors of the old width
     * (WRONG_CHANNEL_COUNT) unless the model is univariate (served channel by channel to any width).
     */
    private static void warnIfServedDifferently(ModelConfig before, ModelConfig after, ServingModel next) {
        if (before.horizon() != after.horizon()) {
            LOG.warn("model {} v{} forecasts {} steps, the model it replaces {}: forecast records change length",
                    next.modelId(), next.version(), after.horizon(), before.horizon());
        }
        if (before.channels() != after.channels() && after.channels() > 1) {
            LOG.warn("model {} v{} reads {} channels, the model it replaces {}: sensors of another width are "
                    + "dead-lettered as WRONG_CHANNEL_COUNT from now on", next.modelId(), next.version(), after.channels(),
                    before.channels());
        }
    }

    /**
     * The model of a snapshot that may serve from {@code key}, or an exception saying why not. Every way to serving
     * (an offer, the fallback after a deletion) checks alike: the model id, the key naming the snapshot's own
     * version (a copy under another key could outrank what serves, or come back after its key was deleted), the
     * signature where one is required, and the snapshot's own validation (checksum, config, shapes, values).
     */
    private MambaModel servable(ModelSnapshot s, String key) {
        if (!modelId.equals(s.getModelId())) {
            throw new IllegalArgumentException("model id " + s.getModelId() + " under the key of " + modelId);
        }
        if (key == null || !isKeyOf(key, s.getModelId(), s.getVersion())) {
            throw new IllegalArgumentException("version " + s.getVersion() + " published under another version's key");
        }
        String unsigned = signature == null ? null : signature.problem(s);
        if (unsigned != null) {
            throw new IllegalArgumentException(unsigned);
        }
        return ModelSnapshots.toModel(s);
    }

    /** A higher version, or (from the topic, in order) other weights put under the serving version's own key. */
    private static boolean supersedes(long version, long tag, String source, ServingModel now, boolean latestOnTopic) {
        if (version != now.version()) {
            return version > now.version();
        }
        return latestOnTopic && tag != now.tag() && isKeyOf(source, now);
    }

    /**
     * A tombstone on the models topic. Deleting the version being served retracts it: the highest valid version
     * left ({@code remaining}: the global store's snapshots after the delete) serves instead, or nothing. Every
     * instance sees the same store, so they all fall back alike. Returns true when the model serving changed.
     */
    public synchronized boolean retract(String key, java.util.Map<String, byte[]> remaining) {
        if (key != null && key.startsWith(modelId + "/")) {
            retracted.add(key);
            newestOnTopic.put(key, UNSERVABLE);
        }
        ServingModel now = current.get();
        if (now == null || !isKeyOf(key, now)) {
            return false;   // an older version, or another model's: nothing serving changes
        }
        ServingModel best = null;
        for (var e : remaining.entrySet()) {
            try {
                ModelSnapshot s = decoder.deserialize(null, e.getValue());
                if (s != null && (best == null || s.getVersion() > best.version())) {
                    // The same checks as an offer: what was rejected then (unsigned, under a foreign key) cannot
                    // serve now either.
                    best = new ServingModel(s.getModelId(), s.getVersion(), tag(s), new Forecaster(servable(s, e.getKey())));
                }
            } catch (RuntimeException rejected) {
                // rejected when it was offered; it cannot serve now either
            }
        }
        current.set(best);
        LOG.warn("model {} v{} was deleted from the models topic; {}", now.modelId(), now.version(),
                best == null ? "no valid version is left to serve" : "serving v" + best.version() + " again");
        return true;
    }

    /**
     * True when the model serving was published under {@code key} and the topic's newest record there is other bytes
     * that could not serve (undecodable or invalid): the serving copy is then a stale view, as a restarted instance
     * would not have it, and the caller falls back ({@link #retract}) like every instance does.
     */
    public synchronized boolean servesReplacedBytes(String key) {
        ServingModel now = current.get();
        Long newest = newestOnTopic.get(key);
        return now != null && isKeyOf(key, now) && newest != null && newest != now.tag();
    }

    /** Whether a topic key names this serving model: its id and version, zero-padded (as published) or not. */
    private static boolean isKeyOf(String key, ServingModel m) {
        return isKeyOf(key, m.modelId(), m.version());
    }

    private static boolean isKeyOf(String key, String modelId, long version) {
        if (key == null || !key.startsWith(modelId + "/")) return false;
        try {
            return Long.parseLong(key.substring(modelId.length() + 1)) == version;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    private void reject(String source, String why) {
        rejected.incrementAndGet();
        ServingModel serving = current.get();   // once: a retraction on the global thread may clear it meanwhile
        LOG.warn("rejected model snapshot {}: {}; still serving {}",
                LogText.key(source == null ? null : source.getBytes(java.nio.charset.StandardCharsets.UTF_8)), why,
                serving == null ? "nothing" : "v" + serving.version());
    }
}
