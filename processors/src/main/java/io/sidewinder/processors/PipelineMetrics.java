package io.sidewinder.processors;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;

/** The pipeline's meters (Micrometer; scraped as Prometheus text from /metrics). */
public final class PipelineMetrics {
    private final MeterRegistry registry;
    private final Counter readings;
    private final Counter forecasts;
    private final Counter flagged;
    private final Counter deviating;
    private final Map<RebuildCause, Counter> rebuilds = new EnumMap<>(RebuildCause.class);
    private final Map<DeadLetterReason, Counter> deadLetters = new EnumMap<>(DeadLetterReason.class);
    private final Map<LatencyPath, Timer> latency = new EnumMap<>(LatencyPath.class);
    private final Counter recordsIn;
    private final Counter buffered;
    private final Counter released;
    private final DistributionSummary stateBytes;

    public PipelineMetrics(MeterRegistry registry, ModelRegistry models) {
        this.registry = registry;
        readings = Counter.builder("sidewinder.readings").description("Readings applied to sensor state").register(registry);
        forecasts = Counter.builder("sidewinder.forecasts").description("Forecasts emitted").register(registry);
        flagged = Counter.builder("sidewinder.anomalies.flagged").description("Readings flagged as anomalies").register(registry);
        deviating = Counter.builder("sidewinder.anomalies.deviating").description("Readings away from their sensor's baseline").register(registry);
        for (RebuildCause c : RebuildCause.values()) {
            rebuilds.put(c, Counter.builder("sidewinder.state.rebuilds").tag("cause", c.tag)
                    .description("Sensor states rebuilt: warm from recent readings after a model swap or an undecodable "
                            + "model state, or started afresh from a stored state that could not be read")
                    .register(registry));
        }
        recordsIn = Counter.builder("sidewinder.records.in").description("Input records received from the readings topics")
                .register(registry);
        buffered = Counter.builder("sidewinder.reorder.buffered").description("Readings put into the reorder buffer")
                .register(registry);
        released = Counter.builder("sidewinder.reorder.released")
                .description("Readings taken out of the reorder buffer (applied or dead-lettered)").register(registry);
        for (DeadLetterReason r : DeadLetterReason.values()) {
            deadLetters.put(r, Counter.builder("sidewinder.dead.letters").tag("reason", r.name())
                    .description("Inputs sent to the dead-letter topic").register(registry));
        }
        for (LatencyPath path : LatencyPath.values()) {
            latency.put(path, Timer.builder("sidewinder.record.latency").tag("path", path.tag)
                    .description("Processing time in the stream thread: of a record applied on arrival (direct), of "
                            + "putting a record into the reorder buffer (buffer_insert), of applying a buffered reading "
                            + "when its grace has passed (buffered_apply)")
                    .publishPercentiles(0.5, 0.99).publishPercentileHistogram()
                    .minimumExpectedValue(Duration.ofNanos(1_000)).maximumExpectedValue(Duration.ofSeconds(1))
                    .register(registry));
        }
        stateBytes = DistributionSummary.builder("sidewinder.state.bytes").baseUnit("bytes")
                .description("Serialized per-sensor state written to the store").register(registry);
        Gauge.builder("sidewinder.model.version", models, m -> {
                    var serving = m.current();   // once: a retraction may clear it between two reads
                    return serving == null ? -1 : serving.version();
                })
                .description("Version of the model being served").register(registry);
        FunctionCounter.builder("sidewinder.models.rejected", models, ModelRegistry::rejectedCount)
                .description("Model snapshots rejected by validation").register(registry);
    }

    /** One per instance, shared by its stream tasks, so that its limit holds for the instance. */
    private final FailureLog failures = FailureLog.perMinute(org.slf4j.LoggerFactory.getLogger(SensorReadingProcessor.class));

    FailureLog failures() { return failures; }

    public MeterRegistry registry() { return registry; }

    void reading() { readings.increment(); }

    void forecast() { forecasts.increment(); }

    void flagged() { flagged.increment(); }

    void deviating() { deviating.increment(); }

    void rebuilt(RebuildCause cause) { rebuilds.get(cause).increment(); }

    void recordIn() { recordsIn.increment(); }

    void buffered() { buffered.increment(); }

    void released() { released.increment(); }

    void deadLetter(DeadLetterReason reason) { deadLetters.get(reason).increment(); }

    void latencyNanos(LatencyPath path, long nanos) {
        latency.get(path).record(nanos, java.util.concurrent.TimeUnit.NANOSECONDS);
    }

    void stateBytes(int bytes) { stateBytes.record(bytes); }

    public double readings() { return readings.count(); }

    public double forecasts() { return forecasts.count(); }

    public double flaggedCount() { return flagged.count(); }

    /** Rebuilds of every cause. */
    public double rebuilds() { return rebuilds.values().stream().mapToDouble(Counter::count).sum(); }

    public double rebuilds(RebuildCause cause) { return rebuilds.get(cause).count(); }

    public double recordsIn() { return recordsIn.count(); }

    /** Readings in the reorder buffers of this instance's tasks, as counted since it started. */
    public double bufferedNow() { return buffered.count() - released.count(); }

    public double deadLetters() {
        return deadLetters.values().stream().mapToDouble(Counter::count).sum();
    }

    public double deadLetters(DeadLetterReason r) { return deadLetters.get(r).count(); }

    public Timer latency(LatencyPath path) { return latency.get(path); }

    public double meanStateBytes() { return stateBytes.mean(); }

    /** Which part of a record's processing a latency sample measures (the timer's {@code path} tag). */
    public enum LatencyPath {
        /** Validated and applied on arrival (no reorder grace). */
        DIRECT("direct"),
        /** Validated and put into the reorder buffer. */
        BUFFER_INSERT("buffer_insert"),
        /** A buffered reading applied once its grace has passed. */
        BUFFERED_APPLY("buffered_apply");

        final String tag;

        LatencyPath(String tag) { this.tag = tag; }
    }

    /** Why a sensor's model state was rebuilt (the rebuild counter's {@code cause} tag). */
    public enum RebuildCause {
        /** Another model now serves: rebuilt warm from the sensor's recent readings. */
        MODEL_SWAP("model_swap"),
        /** The stored model states did not decode against the serving model: rebuilt warm. */
        STATE_UNDECODABLE("state_undecodable"),
        /** The stored key state could not be read at all (damaged, or a format this version does not know). */
        STATE_UNREADABLE("state_unreadable"),
        /** The sensor sent readings of another channel count in a row: started afresh at the new width. */
        CHANNELS_CHANGED("channels_changed");

        final String tag;

        RebuildCause(String tag) { this.tag = tag; }
    }
}
