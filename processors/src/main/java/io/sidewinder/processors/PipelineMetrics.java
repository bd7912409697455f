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
    private final Counter swaps;
    private final Map<DeadLetterReason, Counter> deadLetters = new EnumMap<>(DeadLetterReason.class);
    private final Timer latency;
    private final DistributionSummary stateBytes;

    public PipelineMetrics(MeterRegistry registry, ModelRegistry models) {
        this.registry = registry;
        readings = Counter.builder("sidewinder.readings").description("Readings applied to sensor state").register(registry);
        forecasts = Counter.builder("sidewinder.forecasts").description("Forecasts emitted").register(registry);
        flagged = Counter.builder("sidewinder.anomalies.flagged").description("Readings flagged as anomalies").register(registry);
        deviating = Counter.builder("sidewinder.anomalies.deviating").description("Readings away from their sensor's baseline").register(registry);
        swaps = Counter.builder("sidewinder.state.rebuilds").description("Sensor states rebuilt warm after a model swap")
                .register(registry);
        for (DeadLetterReason r : DeadLetterReason.values()) {
            deadLetters.put(r, Counter.builder("sidewinder.dead.letters").tag("reason", r.name())
                    .description("Inputs sent to the dead-letter topic").register(registry));
        }
        latency = Timer.builder("sidewinder.record.latency")
                .description("Processing time of one input record in the stream thread")
                .publishPercentiles(0.5, 0.99).publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofNanos(1_000)).maximumExpectedValue(Duration.ofSeconds(1))
                .register(registry);
        stateBytes = DistributionSummary.builder("sidewinder.state.bytes").baseUnit("bytes")
                .description("Serialized per-sensor state written to the store").register(registry);
        Gauge.builder("sidewinder.model.version", models, m -> m.current() == null ? -1 : m.current().version())
                .description("Version of the model being served").register(registry);
        FunctionCounter.builder("sidewinder.models.rejected", models, ModelRegistry::rejectedCount)
                .description("Model snapshots rejected by validation").register(registry);
    }

    public MeterRegistry registry() { return registry; }

    void reading() { readings.increment(); }

    void forecast() { forecasts.increment(); }

    void flagged() { flagged.increment(); }

    void deviating() { deviating.increment(); }

    void rebuilt() { swaps.increment(); }

    void deadLetter(DeadLetterReason reason) { deadLetters.get(reason).increment(); }

    void latencyNanos(long nanos) { latency.record(nanos, java.util.concurrent.TimeUnit.NANOSECONDS); }

    void stateBytes(int bytes) { stateBytes.record(bytes); }

    public double readings() { return readings.count(); }

    public double forecasts() { return forecasts.count(); }

    public double flaggedCount() { return flagged.count(); }

    public double rebuilds() { return swaps.count(); }

    public double deadLetters() {
        return deadLetters.values().stream().mapToDouble(Counter::count).sum();
    }

    public double deadLetters(DeadLetterReason r) { return deadLetters.get(r).count(); }

    public Timer latency() { return latency; }

    public double meanStateBytes() { return stateBytes.mean(); }
}
