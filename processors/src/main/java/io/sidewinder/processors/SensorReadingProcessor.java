package io.sidewinder.processors;

import io.sidewinder.schemas.AnomalyScore;
import io.sidewinder.schemas.DeadLetter;
import io.sidewinder.schemas.Forecast;
import io.sidewinder.schemas.SensorReading;
import io.sidewinder.schemas.serde.AvroSerdes;
import io.sidewinder.ssm.ModelConfig;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.errors.StreamsException;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Advances each sensor's state by one continuous-time step per reading and emits its forecast and anomaly
 * score; anything it cannot process goes to the dead-letter sink with the reason, so a bad record never stops
 * the stream thread and is never silently dropped.
 */
public final class SensorReadingProcessor implements Processor<byte[], byte[], byte[], byte[]> {
    private static final Logger LOG = LoggerFactory.getLogger(SensorReadingProcessor.class);
    static final String STAGE = "sensor-step";

    private final ModelRegistry models;
    private final PipelineMetrics metrics;
    private final AnomalyScorer scorer;
    private final BaselineDeviation baseline;
    private final KeyCadence.Mode cadence;
    private SensorDetector detector;
    private ModelRegistry.ServingModel detectorModel;
    private final long graceMs;
    private final long futureToleranceMs;
    private final int ringSize;
    private final int maxStateBytes;
    private final double maxAbsValue;
    private final Deserializer<SensorReading> readings = AvroSerdes.sensorReading().deserializer();
    private final Serializer<Forecast> forecastSer = AvroSerdes.forecast().serializer();
    private final Serializer<AnomalyScore> scoreSer = AvroSerdes.anomalyScore().serializer();
    private final Serializer<DeadLetter> deadLetterSer = AvroSerdes.deadLetter().serializer();

    private ProcessorContext<byte[], byte[]> context;
    private KeyValueStore<String, byte[]> states;
    private KeyValueStore<Bytes, byte[]> reorder;
    /**
     * Decoded states of recently seen keys, so a reading costs one encode (the store put) and no decode. The store
     * stays the truth: the cache is dropped on init (task revival after an aborted transaction) and an entry is
     * evicted when processing its key fails.
     */
    private Map<String, KeyState> decoded;
    private final int cachedKeys;
    private String currentKey;
    /** Wall-clock time of the last input record (the punctuation clock's). */
    private long lastInputWallMs;
    /** Whether the buffer may hold keys of the earlier sensor-major layout (true until a full scan finds none). */
    private boolean legacyKeys = true;
    private final FailureLog failures;
    /** The pending drain of readings buffered under an earlier grace; null when none. */
    private org.apache.kafka.streams.processor.Cancellable drainBuffered;

    public SensorReadingProcessor(SidewinderConfig config, ModelRegistry models, PipelineMetrics metrics) {
        this.models = models;
        this.metrics = metrics;
        this.scorer = AnomalyScorer.from(config);
        this.baseline = BaselineDeviation.from(config);
        this.cadence = KeyCadence.Mode.valueOf(config.getString(SidewinderConfig.GAP_MODE).toUpperCase(java.util.Locale.ROOT));
        this.graceMs = config.getLong(SidewinderConfig.REORDER_GRACE_MS);
        this.futureToleranceMs = config.getLong(SidewinderConfig.FUTURE_TOLERANCE_MS);
        this.ringSize = config.getInt(SidewinderConfig.RING_BUFFER_SIZE);
        this.failures = metrics.failures();
        this.maxStateBytes = config.getInt(SidewinderConfig.MAX_STATE_BYTES);
        this.maxAbsValue = config.getDouble(SidewinderConfig.MAX_ABS_VALUE);
        this.cachedKeys = config.getInt(SidewinderConfig.DECODED_STATE_CACHE_KEYS);
    }

    @Override
    public void init(ProcessorContext<byte[], byte[]> context) {
        widthChanges.clear();   // a revived task replays what it had counted: count afresh
        this.context = context;
        this.decoded = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, KeyState> eldest) {
                return size() > cachedKeys;
            }
        };
        this.states = context.getStateStore(SidewinderTopology.STATE_STORE);
        this.reorder = context.getStateStore(SidewinderTopology.REORDER_STORE);
        // The global store may have been restored without passing through its processor: offer what it holds.
        KeyValueStore<String, byte[]> snapshots = context.getStateStore(SidewinderTopology.MODELS_STORE);
        try (KeyValueIterator<String, byte[]> it = snapshots.all()) {
            while (it.hasNext()) {
                KeyValue<String, byte[]> kv = it.next();
                models.offer(kv.key, kv.value);
            }
        }
        lastInputWallMs = context.currentSystemTimeMs();
        if (graceMs > 0) {
            Duration every = Duration.ofMillis(Math.max(1, Math.min(graceMs, 1_000)));
            context.schedule(every, PunctuationType.STREAM_TIME, streamTime -> flushReorderBuffer(streamTime - graceMs));
            // Stream time stands still while the partition is quiet: after a grace of wall-clock silence the
            // buffered readings are applied rather than held until the next reading arrives.
            context.schedule(every, PunctuationType.WALL_CLOCK_TIME, now -> {
                if (now - lastInputWallMs >= graceMs) {
                    flushReorderBuffer(Long.MAX_VALUE);
                }
            });
        } else if (hasBufferedReadings()) {
            // Readings buffered under an earlier, non-zero grace: applied before anything newer, or soon if
            // nothing newer comes, so that lowering the grace never strands them.
            drainBuffered = context.schedule(Duration.ofMillis(1), PunctuationType.WALL_CLOCK_TIME,
                    now -> drainBufferedReadings());
        }
    }

    private boolean hasBufferedReadings() {
        try (KeyValueIterator<Bytes, byte[]> it = reorder.all()) {
            return it.hasNext();
        }
    }

    private void drainBufferedReadings() {
        if (drainBuffered != null) {
            drainBuffered.cancel();
            drainBuffered = null;
            flushReorderBuffer(Long.MAX_VALUE);
        }
    }

    @Override
    public void process(org.apache.kafka.streams.processor.api.Record<byte[], byte[]> record) {
        metrics.recordIn();
        Source source = Source.of(context.recordMetadata().orElse(null), record.key(), record.value(), record.headers(),
                record.timestamp());
        lastInputWallMs = context.currentSystemTimeMs();
        drainBufferedReadings();   // timed per reading as buffered applies, not as this record's latency
        long start = System.nanoTime();
        PipelineMetrics.LatencyPath path = graceMs > 0 ? PipelineMetrics.LatencyPath.BUFFER_INSERT
                : PipelineMetrics.LatencyPath.DIRECT;
        try {
            SensorReading reading = validate(source);
            if (reading == null) {
                return;
            }
            if (graceMs > 0) {
                KeyState ks = load(reading.getSensorId());
                if (ks != null && reading.getEventTime().toEpochMilli() <= ks.lastEventTime) {
                    deadLetter(source, DeadLetterReason.OUT_OF_ORDER, outOfOrderMessage(reading, ks));
                    return;
                }
                reorder.put(bufferKey(reading, source), source.toBytes());
                metrics.buffered();
            } else {
                apply(reading, source);
            }
        } catch (StreamsException e) {
            // Streams' own failures (a send that failed, a store that cannot write, a migrated task) must reach
            // Streams, which aborts or retries the task; as dead letters they would hide a lost output.
            forgetCurrentKey();
            throw e;
        } catch (RuntimeException e) {
            failures.warn("unexpected failure on " + source, e);
            forgetCurrentKey();
            deadLetter(source, DeadLetterReason.INTERNAL_ERROR, e.toString());
        } finally {
            currentKey = null;
            metrics.latencyNanos(path, System.nanoTime() - start);
        }
    }

    /** Decodes and checks a record; dead-letters it and returns null when it cannot be applied. */
    private SensorReading validate(Source source) {
        SensorReading reading;
        try {
            reading = readings.deserialize(source.topic, source.value);
        } catch (RuntimeException e) {
            deadLetter(source, DeadLetterReason.UNDECODABLE, e.getMessage());
            return null;
        }
        if (reading == null) {
            deadLetter(source, DeadLetterReason.UNDECODABLE, "null value (tombstone) on a readings topic");
            return null;
        }
        String id = reading.getSensorId();
        if (id == null || id.isBlank()) {
            deadLetter(source, DeadLetterReason.MISSING_SENSOR_ID, "reading has an empty sensor id");
            return null;
        }
        String idProblem = sensorIdProblem(id);
        if (idProblem != null) {
            deadLetter(source, DeadLetterReason.INVALID_SENSOR_ID, idProblem);
            return null;
        }
        if (source.key == null || !id.equals(new String(source.key, StandardCharsets.UTF_8))) {
            deadLetter(source, DeadLetterReason.KEY_MISMATCH, "record key "
                    + (source.key == null ? "is null" : "'" + new String(source.key, StandardCharsets.UTF_8) + "'")
                    + " is not the sensor id '" + id + "'");
            return null;
        }
        List<Float> values = reading.getValues();
        for (int i = 0; i < values.size(); i++) {
            if (!Float.isFinite(values.get(i))) {
                deadLetter(source, DeadLetterReason.NON_FINITE, "channel " + i + " is " + values.get(i));
                return null;
            }
            if (Math.abs(values.get(i)) > maxAbsValue) {
                deadLetter(source, DeadLetterReason.OUT_OF_RANGE, "channel " + i + " is " + values.get(i) + ", beyond "
                        + SidewinderConfig.MAX_ABS_VALUE + " = " + maxAbsValue);
                return null;
            }
        }
        ModelRegistry.ServingModel serving = models.current();
        if (serving == null) {
            noModel(source);
            return null;
        }
        if (!detectorFor(serving).serves(values.size())) {
            deadLetter(source, DeadLetterReason.WRONG_CHANNEL_COUNT, channelMismatch(values.size(), serving));
            return null;
        }
        String tooLarge = stateTooLarge(reading, detectorFor(serving));
        if (tooLarge != null) {
            deadLetter(source, DeadLetterReason.STATE_TOO_LARGE, tooLarge);
            return null;
        }
        long now = System.currentTimeMillis();
        long eventTime = reading.getEventTime().toEpochMilli();
        if (eventTime < 0) {   // gaps are differences of event times: a far-past one would overflow them
            deadLetter(source, DeadLetterReason.INVALID_TIMESTAMP, "event time " + reading.getEventTime()
                    + " is before 1970");
            return null;
        }
        if (eventTime > now && eventTime - now > futureToleranceMs) {   // no now + tolerance: it overflows
            deadLetter(source, DeadLetterReason.FUTURE_TIMESTAMP, "event time " + reading.getEventTime()
                    + " is more than " + futureToleranceMs + " ms ahead of the clock (" + Instant.ofEpochMilli(now) + ")");
            return null;
        }
        return reading;
    }

    private void noModel(Source source) {
        String error = "no valid model '" + models.modelId() + "' published yet";
        if (models.firstNoModel()) {
            java.util.Set<String> others = models.otherModelIds();
            LOG.warn("readings are dead-lettered as NO_MODEL: no valid snapshot of model '{}' on the models topic{}",
                    models.modelId(), others.isEmpty() ? " yet" : "; it has snapshots of " + others
                            + " (is " + SidewinderConfig.MODEL_ID + " right?)");
        }
        deadLetter(source, DeadLetterReason.NO_MODEL, error);
    }

    /**
     * Why the reading's sensor could not keep a state under {@link SidewinderConfig#MAX_STATE_BYTES} whatever its
     * history (its model states alone are too large), or null. Checked before any state is allocated: a univariate
     * model serves any channel count with one model state per channel, and a record of a million channels would
     * otherwise allocate gigabytes before the size is known.
     */
    private String stateTooLarge(SensorReading reading, SensorDetector detector) {
        int channels = reading.getValues().size();
        long least = detector.modelStateBytes(channels);
        if (least <= maxStateBytes) {
            return null;
        }
        return "the state of sensor '" + reading.getSensorId() + "' with " + channels + " channels would take at least "
                + least + " bytes, over " + SidewinderConfig.MAX_STATE_BYTES + " = " + maxStateBytes;
    }

    /** Why a sensor id cannot be served (control characters break logs, URLs and store keys), or null. */
    static String sensorIdProblem(String id) {
        for (int i = 0; i < id.length(); i++) {
            if (Character.isISOControl(id.charAt(i))) {
                return "sensor id has a control character (U+" + String.format("%04X", (int) id.charAt(i))
                        + ") at index " + i;
            }
        }
        int bytes = id.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > DeadLetterReason.MAX_SENSOR_ID_BYTES) {
            return "sensor id is " + bytes + " bytes of UTF-8, more than " + DeadLetterReason.MAX_SENSOR_ID_BYTES;
        }
        return null;
    }

    /** Readings of a new channel count in a row, from one sensor, after which its state restarts at that width. */
    static final int WIDTH_CHANGE_READINGS = 10;

    /** A run of readings of a new width: the width, how many, and the last one's event time. */
    private static final class WidthRun {
        final int channels;
        int count;
        long lastEventTime = Long.MIN_VALUE;

        WidthRun(int channels) { this.channels = channels; }
    }

    /**
     * Per sensor, its run of readings of a new width (bounded: ids are not ours to trust). Not persisted, and
     * cleared when the task starts again (after an aborted transaction its readings are replayed: counted twice,
     * they could restart a sensor early): a restart, a rebalance or an abort starts the count again.
     */
    private final Map<String, WidthRun> widthChanges = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, WidthRun> eldest) {
            return size() > 10_000;
        }
    };

    /**
     * Counts a reading of another width than the sensor's; true once {@link #WIDTH_CHANGE_READINGS} came in a row,
     * each later than the one before (a duplicate or a late copy is not a new reading).
     */
    private boolean widthChanged(String id, int channels, long eventTime) {
        WidthRun run = widthChanges.get(id);
        if (run == null || run.channels != channels) {
            run = new WidthRun(channels);
            widthChanges.put(id, run);
        }
        if (eventTime <= run.lastEventTime) {
            return false;
        }
        run.lastEventTime = eventTime;
        if (++run.count < WIDTH_CHANGE_READINGS) {
            return false;
        }
        widthChanges.remove(id);
        return true;
    }

    /** Applies a validated reading to its sensor's state and emits the score and the forecast. */
    private void apply(SensorReading reading, Source source) {
        String id = reading.getSensorId();
        long eventTime = reading.getEventTime().toEpochMilli();
        KeyState ks = load(id);
        if (ks == null) {
            ks = new KeyState();
        } else if (eventTime <= ks.lastEventTime) {
            deadLetter(source, DeadLetterReason.OUT_OF_ORDER, outOfOrderMessage(reading, ks));
            return;
        }
        ModelRegistry.ServingModel serving = models.current();
        if (serving == null) {   // retracted while the reading was buffered
            noModel(source);
            return;
        }
        SensorDetector detector = detectorFor(serving);
        int channels = reading.getValues().size();
        if (!detector.serves(channels)) { // the model may have changed while the reading was buffered
            deadLetter(source, DeadLetterReason.WRONG_CHANNEL_COUNT, channelMismatch(channels, serving));
            return;
        }
        String tooLarge = stateTooLarge(reading, detector);
        if (tooLarge != null) {
            deadLetter(source, DeadLetterReason.STATE_TOO_LARGE, tooLarge);
            return;
        }
        if (ks.detector != null && ks.detector.channels() != channels) {
            if (!widthChanged(id, channels, eventTime)) {
                WidthRun run = widthChanges.get(id);
                deadLetter(source, DeadLetterReason.WRONG_CHANNEL_COUNT, "reading has " + channels
                        + " channels, sensor '" + id + "' has sent " + ks.detector.channels() + " so far ("
                        + WIDTH_CHANGE_READINGS + " readings in a row of the new width restart the sensor: "
                        + (run == null ? 0 : run.count) + " so far)");
                return;
            }
            // Not a stray record: the sensor changed (new hardware, a firmware update). Its statistics, baseline and
            // model state are of the old width; dead-lettering every reading from now on would lose it for good.
            failures.warn("channels-changed", "sensor '" + LogText.key(id.getBytes(StandardCharsets.UTF_8)) + "' sent "
                    + WIDTH_CHANGE_READINGS + " readings of " + channels + " channels in a row after "
                    + ks.detector.channels() + "; its state restarts at the new width", null);
            metrics.rebuilt(PipelineMetrics.RebuildCause.CHANNELS_CHANGED);
            ks = new KeyState();
        } else if (!widthChanges.isEmpty()) {
            widthChanges.remove(id);   // a reading of the known width: a run of another one is broken
        }
        restoreState(ks, serving, detector, channels);
        decoded.put(id, ks);
        float[] values = toArray(reading.getValues());
        // The one-step forecast the reading is scored against (after a swap, the warmed model's, not the last
        // emitted one): kept before the step replaces it, so the score's record agrees with its own surprise.
        float[] expected = ks.detector.mean.clone(), expectedStd = ks.detector.std.clone();
        SensorDetector.Observation o = detector.observe(ks.detector, eventTime, values);
        if (o.score() != null) {
            ks.recordScore(o.score(), o.deviation());
        }
        ks.modelVersion = serving.version();
        ks.modelTag = serving.tag();
        ks.lastEventTime = eventTime;
        ks.forecastMean = o.forecastMean();
        ks.forecastStd = o.forecastStd();
        ks.remember(eventTime, values, ringSize);
        byte[] bytes = ks.toBytes();
        while (bytes.length > maxStateBytes && !ks.recent.isEmpty()) {
            // The ring buffer grows the state reading by reading: give up its oldest readings (they only warm a
            // model swap) before refusing the sensor, or it would be refused from here on.
            ks.dropOldestReading();
            bytes = ks.toBytes();
        }
        if (bytes.length > maxStateBytes) {
            // The changelog would refuse the write and fail the task on every retry: refuse the reading instead.
            decoded.remove(id);
            deadLetter(source, DeadLetterReason.STATE_TOO_LARGE, "the state of sensor '" + id + "' with " + channels
                    + " channels would take " + bytes.length + " bytes, over " + SidewinderConfig.MAX_STATE_BYTES
                    + " = " + maxStateBytes);
            return;
        }
        // Both outputs are built before the state is written: a failure in between would otherwise commit the
        // advanced state with a dead letter and no forecast (or a score without one).
        byte[] scoreBytes = o.score() == null ? null
                : scoreRecord(id, eventTime, values, expected, expectedStd, serving, o.score(), o.deviation());
        ModelConfig config = serving.model().config();
        Forecast forecast = Forecast.newBuilder()
                .setSensorId(id)
                .setEventTime(reading.getEventTime())
                .setModelId(serving.modelId())
                .setModelVersion(serving.version())
                .setHorizonSteps(config.horizon())
                .setStepMillis(config.gap().referenceMillis())
                .setMean(boxed(o.forecastMean()))
                .setStddev(boxed(o.forecastStd()))
                .build();
        byte[] forecastBytes = forecastSer.serialize(null, forecast);
        states.put(id, bytes);
        metrics.stateBytes(bytes.length);
        metrics.reading();
        if (scoreBytes != null) {
            if (o.score().flagged()) metrics.flagged();
            if (o.deviation().deviating()) metrics.deviating();
            context.forward(new org.apache.kafka.streams.processor.api.Record<>(source.key, scoreBytes, eventTime,
                    source.headers()), SidewinderTopology.ANOMALIES_SINK);
        }
        context.forward(new org.apache.kafka.streams.processor.api.Record<>(source.key, forecastBytes, eventTime,
                source.headers()), SidewinderTopology.FORECASTS_SINK);
        metrics.forecast();
    }

    /** The detector for the serving model, made once per model version. */
    private SensorDetector detectorFor(ModelRegistry.ServingModel serving) {
        if (detectorModel != serving) {
            detector = new SensorDetector(serving.forecaster(), scorer, baseline, cadence);
            detectorModel = serving;
        }
        return detector;
    }

    private static String channelMismatch(int channels, ModelRegistry.ServingModel serving) {
        int modelChannels = serving.model().config().channels();
        return "reading has " + channels + " channels, model v" + serving.version() + " expects " + modelChannels
                + (modelChannels == 1 ? " or more" : "");
    }

    /**
     * Makes the key's detector state ready for the serving model: decoded from the store when it belongs to this
     * model version, otherwise rebuilt warm from the key's ring buffer.
     */
    private void restoreState(KeyState ks, ModelRegistry.ServingModel serving, SensorDetector detector, int channels) {
        if (ks.detector == null) {
            ks.detector = detector.newState(channels);
            ks.encodedStreams = null;
            return;
        }
        // The same version number is not enough: another model id, or a version republished after a retraction,
        // has other weights (a v3 state, tag 0, is matched by version as before).
        boolean sameModel = ks.modelVersion == serving.version() && (ks.modelTag == 0 || ks.modelTag == serving.tag());
        if (sameModel) {
            if (detector.fits(ks.detector)) {
                return;
            }
            if (ks.encodedStreams != null) {
                try {
                    detector.attach(ks.detector, ks.encodedStreams);
                    ks.encodedStreams = null;
                    return;
                } catch (IllegalArgumentException e) {
                    failures.warn("undecodable-model-state", "model state of sensor '" + currentKey
                            + "' could not be decoded (" + e.getMessage() + "); rebuilding it from its recent readings",
                            null);
                    detector.warm(ks.detector, ks.recent);
                    ks.encodedStreams = null;
                    metrics.rebuilt(PipelineMetrics.RebuildCause.STATE_UNDECODABLE);
                    return;
                }
            }
        }
        detector.warm(ks.detector, ks.recent);
        ks.encodedStreams = null;
        metrics.rebuilt(PipelineMetrics.RebuildCause.MODEL_SWAP);
    }

    private byte[] scoreRecord(String id, long eventTime, float[] values, float[] mean, float[] std,
                               ModelRegistry.ServingModel serving, AnomalyScorer.Score score,
                               BaselineDeviation.Deviation deviation) {
        AnomalyScore record = AnomalyScore.newBuilder()
                .setSensorId(id)
                .setEventTime(Instant.ofEpochMilli(eventTime))
                .setObserved(boxed(values))
                .setExpected(boxed(mean))
                .setStddev(boxed(std))
                .setRawSurprise(score.surprise())
                .setLikelihood(score.likelihood())
                .setFlagged(score.flagged())
                .setDeviation(deviation.score())
                .setDeviating(deviation.deviating())
                .setModelVersion(serving.version())
                .build();
        return scoreSer.serialize(null, record);
    }

    /**
     * Applies the buffered readings whose event time is at or before the cutoff, in event-time order. The buffer is
     * keyed by event time first, so a flush reads only what it applies, not every buffered reading.
     */
    private void flushReorderBuffer(long cutoff) {
        List<KeyValue<Bytes, byte[]>> ready = new ArrayList<>();
        boolean sawLegacy = false;
        try (KeyValueIterator<Bytes, byte[]> it = reorder.all()) {
            while (it.hasNext()) {
                KeyValue<Bytes, byte[]> kv = it.next();
                byte[] k = kv.key.get();
                if (isTimeMajor(k)) {
                    if (eventTimeOf(k) <= cutoff) {
                        ready.add(kv);
                    } else if (!legacyKeys) {
                        break;   // time-major keys come first and in order: nothing later is due
                    }
                } else {
                    sawLegacy = true;
                    if (eventTimeOf(k) <= cutoff) ready.add(kv);
                }
            }
        }
        legacyKeys = sawLegacy;
        // Keys of both layouts (during an upgrade) merge into one event-time order; the sort is stable.
        ready.sort(java.util.Comparator.comparingLong(kv -> eventTimeOf(kv.key.get())));
        for (KeyValue<Bytes, byte[]> kv : ready) {
            long start = System.nanoTime();
            Source source;
            try {
                source = Source.fromBytes(kv.value);
            } catch (RuntimeException e) {
                // A damaged entry must not fail every punctuation: its bytes go to the dead letters, it leaves.
                source = new Source(null, -1, -1, 0, null, kv.value, new org.apache.kafka.common.header.internals.RecordHeaders());
                deadLetter(source, DeadLetterReason.INTERNAL_ERROR, "unreadable reorder-buffer entry: " + e);
                reorder.delete(kv.key);
                metrics.released();
                continue;
            }
            try {
                SensorReading reading = readings.deserialize(source.topic, source.value);
                apply(reading, source);
            } catch (StreamsException e) {
                forgetCurrentKey();   // the reading stays buffered for the task's retry
                throw e;
            } catch (RuntimeException e) {
                failures.warn("unexpected failure applying buffered " + source, e);
                forgetCurrentKey();
                deadLetter(source, DeadLetterReason.INTERNAL_ERROR, e.toString());
            } finally {
                currentKey = null;
            }
            reorder.delete(kv.key);
            metrics.released();
            metrics.latencyNanos(PipelineMetrics.LatencyPath.BUFFERED_APPLY, System.nanoTime() - start);
        }
    }

    /** First byte of a buffer key in the time-major layout; earlier versions began with the sensor id. */
    static final byte TIME_MAJOR = 0;

    /**
     * Buffer key: 0, event time (order-preserving), offset, partition, source topic (length-prefixed), sensor id —
     * sorts by time, then input order. The source makes it unique: two input topics may hold the same sensor at the
     * same event time and offset, and neither may overwrite the other; the same record processed again (a retry)
     * lands on its own key.
     */
    static Bytes bufferKey(SensorReading r, Source s) {
        byte[] id = r.getSensorId().getBytes(StandardCharsets.UTF_8);
        byte[] topic = s.topic == null ? new byte[0] : s.topic.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(1 + 16 + 4 + 2 + topic.length + id.length);
        b.put(TIME_MAJOR).putLong(r.getEventTime().toEpochMilli() ^ Long.MIN_VALUE).putLong(s.offset)
                .putInt(s.partition).putShort((short) topic.length).put(topic).put(id);
        return Bytes.wrap(b.array());
    }

    /** The sensor-major key of earlier versions: sensor id, 0, event time, offset (still read, never written). */
    static Bytes legacyBufferKey(SensorReading r, Source s) {
        byte[] id = r.getSensorId().getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(id.length + 1 + 16);
        b.put(id).put((byte) 0).putLong(r.getEventTime().toEpochMilli() ^ Long.MIN_VALUE).putLong(s.offset);
        return Bytes.wrap(b.array());
    }

    private static boolean isTimeMajor(byte[] key) {
        return key.length >= 17 && key[0] == TIME_MAJOR;   // a sensor id never starts with NUL (INVALID_SENSOR_ID)
    }

    static long eventTimeOf(byte[] bufferKey) {
        int at = isTimeMajor(bufferKey) ? 1 : bufferKey.length - 16;
        return ByteBuffer.wrap(bufferKey, at, 8).getLong() ^ Long.MIN_VALUE;
    }

    private KeyState load(String id) {
        currentKey = id;
        KeyState ks = decoded.get(id);
        if (ks != null) {
            return ks;
        }
        byte[] b = states.get(id);
        if (b == null) {
            return null;
        }
        try {
            return KeyState.fromBytes(b);
        } catch (IllegalArgumentException e) {
            // An older format or damaged bytes: starting the key afresh beats dead-lettering all its readings.
            failures.warn("unreadable-key-state", "state of sensor '" + id + "' could not be read (" + e.getMessage()
                    + "); starting it afresh", null);
            metrics.rebuilt(PipelineMetrics.RebuildCause.STATE_UNREADABLE);
            return null;
        }
    }

    private void forgetCurrentKey() {
        if (currentKey != null) {
            decoded.remove(currentKey);
        }
    }

    @Override
    public void close() {
        decoded.clear();
    }

    private static String outOfOrderMessage(SensorReading r, KeyState ks) {
        return "event time " + r.getEventTime() + " is not after the sensor's last applied reading at "
                + Instant.ofEpochMilli(ks.lastEventTime);
    }

    /** Raw value bytes a dead letter keeps; the rest stays at its source offset (1 MiB is the producer's limit). */
    static final int MAX_DEAD_LETTER_VALUE = 512 * 1024;
    /** Raw key bytes a dead letter keeps (twice: its own key and the record's). */
    static final int MAX_DEAD_LETTER_KEY = 64 * 1024;

    private void deadLetter(Source source, DeadLetterReason reason, String error) {
        byte[] key = cap(source.key, MAX_DEAD_LETTER_KEY), value = cap(source.value, MAX_DEAD_LETTER_VALUE);
        String message = error == null ? reason.name() : error;
        if (key != source.key || value != source.value) {
            message += " (raw bytes truncated: key " + length(source.key) + ", value " + length(source.value)
                    + " bytes; the whole record is at " + source + ")";
        }
        DeadLetter dl = DeadLetter.newBuilder()
                .setSourceTopic(source.topic)
                .setSourcePartition(source.partition)
                .setSourceOffset(source.offset)
                .setKey(key == null ? null : ByteBuffer.wrap(key))
                .setValue(value == null ? null : ByteBuffer.wrap(value))
                .setReason(reason.name())
                .setError(message)
                .setStage(STAGE)
                .setFailedAt(Instant.now())
                .build();
        // Stamped when it failed, not with the input's (event) time: a replay of old readings must not write dead
        // letters that the topic's retention deletes at once.
        context.forward(new org.apache.kafka.streams.processor.api.Record<>(key, deadLetterSer.serialize(null, dl),
                context.currentSystemTimeMs(), source.headers()), SidewinderTopology.DEAD_LETTER_SINK);
        metrics.deadLetter(reason);
    }

    private static byte[] cap(byte[] bytes, int max) {
        return bytes == null || bytes.length <= max ? bytes : java.util.Arrays.copyOf(bytes, max);
    }

    private static int length(byte[] bytes) {
        return bytes == null ? 0 : bytes.length;
    }

    static float[] toArray(List<Float> values) {
        float[] v = new float[values.size()];
        for (int i = 0; i < v.length; i++) v[i] = values.get(i);
        return v;
    }

    static List<Float> boxed(float[] v) {
        List<Float> out = new ArrayList<>(v.length);
        for (float f : v) out.add(f);
        return out;
    }

    /** Where a record came from, kept with buffered readings so their dead letters still name their source. */
    record Source(String topic, int partition, long offset, long timestamp, byte[] key, byte[] value,
                  org.apache.kafka.common.header.Headers headers) {
        static Source of(RecordMetadata m, byte[] key, byte[] value, org.apache.kafka.common.header.Headers headers,
                         long timestamp) {
            return m == null ? new Source(null, -1, -1, timestamp, key, value, headers)
                    : new Source(m.topic(), m.partition(), m.offset(), timestamp, key, value, headers);
        }

        /** Where the record came from and whose it is, for log lines: {@code topic-partition@offset key 'id'}. */
        @Override
        public String toString() {
            String where = topic == null ? "(no source)" : topic + "-" + partition + "@" + offset;
            return key == null ? where + " (no key)" : where + " key '" + LogText.key(key) + "'";
        }

        byte[] toBytes() {
            byte[] t = topic == null ? new byte[0] : topic.getBytes(StandardCharsets.UTF_8);
            int kl = key == null ? -1 : key.length, vl = value == null ? -1 : value.length;
            ByteBuffer b = ByteBuffer.allocate(4 + t.length + 4 + 8 + 8 + 4 + Math.max(0, kl) + 4 + Math.max(0, vl));
            b.putInt(t.length).put(t).putInt(partition).putLong(offset).putLong(timestamp);
            b.putInt(kl);
            if (key != null) b.put(key);
            b.putInt(vl);
            if (value != null) b.put(value);
            return b.array();
        }

        static Source fromBytes(byte[] bytes) {
            ByteBuffer b = ByteBuffer.wrap(bytes);
            byte[] t = new byte[length(b, b.getInt(), false)];
            b.get(t);
            int partition = b.getInt();
            long offset = b.getLong(), ts = b.getLong();
            int kl = length(b, b.getInt(), true);
            byte[] key = kl < 0 ? null : new byte[kl];
            if (key != null) b.get(key);
            int vl = length(b, b.getInt(), true);
            byte[] value = vl < 0 ? null : new byte[vl];
            if (value != null) b.get(value);
            // Input headers (e.g. tracing) are not kept across the reorder buffer.
            return new Source(t.length == 0 ? null : new String(t, StandardCharsets.UTF_8), partition, offset, ts, key, value,
                    new org.apache.kafka.common.header.internals.RecordHeaders());
        }

        /** A stored length checked against what is left, before anything that size is allocated. */
        private static int length(ByteBuffer b, int n, boolean nullable) {
            if ((n < 0 && !(nullable && n == -1)) || n > b.remaining()) {
                throw new IllegalArgumentException("damaged entry: length " + n + " with " + b.remaining() + " bytes left");
            }
            return n;
        }

    }
}
