package io.sidewinder.processors;

import io.sidewinder.schemas.ModelSnapshot;
import io.sidewinder.schemas.serde.AvroSerdes;
import io.sidewinder.ssm.Forecaster;
import io.sidewinder.ssm.InvalidModelException;
import io.sidewinder.ssm.MambaModel;
import io.sidewinder.ssm.ModelConfig;
import io.sidewinder.ssm.ModelSnapshots;
import java.util.List;
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
            rejectOnce(key, java.util.Arrays.hashCode(bytes), "undecodable snapshot: " + e.getMessage());
            return false;
        }
        return offer(snapshot, key, latestOnTopic);
    }

    /**
     * The records already rejected, by key and tag: every task's init re-offers the whole store (after a restart the
     * global store is restored without its processor), and a snapshot rejected long ago must not count again.
     */
    private final java.util.Map<String, Long> rejectedRecords = new java.util.concurrent.ConcurrentHashMap<>();

    private void rejectOnce(String key, long tag, String why) {
        Long before = rejectedRecords.put(key, tag);
        if (before == null || before != tag) {
            reject(key, why);
        }
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
        long snapshotTag = tag(snapshot);
        String refused = refusal(snapshot, source);   // the cheap checks first: no model is built for what cannot serve
        if (!latestOnTopic) {
            Long newest = newestOnTopic.get(source);
            if (newest != null && newest != snapshotTag) {
                return false;   // a stale view: the topic has had a tombstone or other bytes under this key since
            }
        }
        ServingModel now = current.get();
        // Built only when it could serve, or when the topic puts new bytes under the serving key: whether those can
        // serve decides whether running instances fall back as restarted ones would (servesReplacedBytes).
        boolean servingKey = latestOnTopic && now != null && isKeyOf(source, now);
        if (refused == null && now != null && !servingKey
                && !supersedes(snapshot.getVersion(), snapshotTag, source, now, latestOnTopic)) {
            if (latestOnTopic) newestOnTopic.put(source, snapshotTag);
            return false;
        }
        ServingModel next = null;
        MambaModel model = null;
        try {
            if (refused != null) throw new IllegalArgumentException(refused);
            model = ModelSnapshots.toModel(snapshot);
            next = new ServingModel(snapshot.getModelId(), snapshot.getVersion(), snapshotTag, new Forecaster(model));
        } catch (RuntimeException e) {   // bytes from a topic: refuse, never throw
            refused = e.getMessage() == null ? e.toString() : e.getMessage();
        }
        if (latestOnTopic) {
            newestOnTopic.put(source, refused == null ? snapshotTag : UNSERVABLE);
        }
        if (refused != null) {
            rejectOnce(source, snapshotTag, refused);
            return false;
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
     * Why a snapshot cannot serve from {@code key} before any model is built, or null. Every way to serving (an
     * offer, the fallback after a deletion) checks alike: the model id, the key naming the snapshot's own version (a
     * copy under another key could outrank what serves, or come back after its key was deleted) and the signature
     * where one is required; then {@link #servable} adds the snapshot's own validation.
     */
    private String refusal(ModelSnapshot s, String key) {
        if (!modelId.equals(s.getModelId())) {
            return "model id " + s.getModelId() + " under the key of " + modelId;
        }
        if (key == null || !isKeyOf(key, s.getModelId(), s.getVersion())) {
            return "version " + s.getVersion() + " published under another version's key";
        }
        return signature == null ? null : signature.problem(s);
    }

    /** The model of a snapshot that may serve from {@code key}, or an exception saying why not. */
    private MambaModel servable(ModelSnapshot s, String key) {
        String refused = refusal(s, key);
        if (refused != null) {
            throw new IllegalArgumentException(refused);
        }
        return ModelSnapshots.toModel(s);   // checksum, config, shapes, values
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
        // Highest version first, and the first that passes an offer's checks serves: what was rejected when offered
        // (unsigned, under a foreign key, invalid) cannot serve now either. One model is built in the usual case.
        List<java.util.Map.Entry<String, ModelSnapshot>> candidates = new java.util.ArrayList<>();
        for (var e : remaining.entrySet()) {
            try {
                ModelSnapshot s = decoder.deserialize(null, e.getValue());
                if (s != null) candidates.add(java.util.Map.entry(e.getKey(), s));
            } catch (RuntimeException undecodable) {
                // rejected when it was offered
            }
        }
        candidates.sort(java.util.Comparator.comparingLong(
                (java.util.Map.Entry<String, ModelSnapshot> e) -> e.getValue().getVersion()).reversed());
        ServingModel best = null;
        for (var e : candidates) {
            try {
                ModelSnapshot s = e.getValue();
                best = new ServingModel(s.getModelId(), s.getVersion(), tag(s), new Forecaster(servable(s, e.getKey())));
                break;
            } catch (RuntimeException rejected) {
                // cannot serve: try the next version down
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
        String digits = key.substring(modelId.length() + 1);
        // ASCII digits only: Long.parseLong also takes "+5" and other scripts' digits, more keys for one version.
        if (!digits.matches("-?[0-9]{1,40}")) return false;
        try {
            return Long.parseLong(digits) == version;
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
