package io.sidewinder.processors;

import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;

/**
 * The pipeline's topology:
 * <pre>
 *   readings-source (input topics, raw bytes) → sensor-step ─┬→ forecasts-sink
 *                                   [sensor-state, reorder-buffer] ├→ anomalies-sink
 *                                                                  └→ dead-letters-sink
 *   models topic → models-updater → sidewinder-models (global store) → ModelRegistry
 * </pre>
 * Readings are read as bytes so that undecodable input reaches the processor and its dead-letter sink instead
 * of a deserialization handler; stream time follows their event times ({@link EventTimeExtractor}).
 */
public final class SidewinderTopology {
    public static final String STATE_STORE = "sensor-state";
    public static final String REORDER_STORE = "reorder-buffer";
    public static final String MODELS_STORE = "sidewinder-models";
    public static final String READINGS_SOURCE = "readings-source";
    public static final String MODELS_SOURCE = "models-source";
    public static final String STEP_PROCESSOR = "sensor-step";
    public static final String MODELS_PROCESSOR = "models-updater";
    public static final String FORECASTS_SINK = "forecasts-sink";
    public static final String ANOMALIES_SINK = "anomalies-sink";
    public static final String DEAD_LETTER_SINK = "dead-letters-sink";

    private SidewinderTopology() {}

    public static Topology build(SidewinderConfig config, ModelRegistry models, PipelineMetrics metrics) {
        Topology t = new Topology();
        t.addGlobalStore(
                Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(MODELS_STORE), Serdes.String(), Serdes.ByteArray())
                        .withLoggingDisabled(),
                MODELS_SOURCE, new StringDeserializer(), new ByteArrayDeserializer(),
                config.getString(SidewinderConfig.MODELS_TOPIC), MODELS_PROCESSOR, () -> new ModelStoreUpdater(models));
        // No per-source offset reset (null): the consumer's auto.offset.reset applies, as for the models source.
        t.addSource((org.apache.kafka.streams.AutoOffsetReset) null, READINGS_SOURCE,
                new EventTimeExtractor(config.getLong(SidewinderConfig.FUTURE_TOLERANCE_MS)),
                new ByteArrayDeserializer(), new ByteArrayDeserializer(), config.inputTopics().toArray(String[]::new));
        t.addProcessor(STEP_PROCESSOR, () -> new SensorReadingProcessor(config, models, metrics), READINGS_SOURCE);
        // Caching collapses the many updates of a busy key between commits into one changelog write.
        t.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(STATE_STORE), Serdes.String(),
                Serdes.ByteArray()).withCachingEnabled(), STEP_PROCESSOR);
        t.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(REORDER_STORE), Serdes.Bytes(),
                Serdes.ByteArray()), STEP_PROCESSOR);
        t.addSink(FORECASTS_SINK, config.getString(SidewinderConfig.FORECASTS_TOPIC), new ByteArraySerializer(),
                new ByteArraySerializer(), STEP_PROCESSOR);
        t.addSink(ANOMALIES_SINK, config.getString(SidewinderConfig.ANOMALIES_TOPIC), new ByteArraySerializer(),
                new ByteArraySerializer(), STEP_PROCESSOR);
        t.addSink(DEAD_LETTER_SINK, config.getString(SidewinderConfig.DEAD_LETTER_TOPIC), new ByteArraySerializer(),
                new ByteArraySerializer(), STEP_PROCESSOR);
        return t;
    }

    /** Keeps the global models store and hands every snapshot to the registry for validation. */
    static final class ModelStoreUpdater implements Processor<String, byte[], Void, Void> {
        private final ModelRegistry models;
        private KeyValueStore<String, byte[]> store;

        ModelStoreUpdater(ModelRegistry models) {
            this.models = models;
        }

        @Override
        public void init(ProcessorContext<Void, Void> context) {
            store = context.getStateStore(MODELS_STORE);
        }

        /** The snapshots the store holds, by key: what a fallback may choose from. */
        private java.util.Map<String, byte[]> remaining() {
            java.util.Map<String, byte[]> remaining = new java.util.HashMap<>();
            try (var it = store.all()) {
                it.forEachRemaining(kv -> remaining.put(kv.key, kv.value));
            }
            return remaining;
        }

        @Override
        public void process(org.apache.kafka.streams.processor.api.Record<String, byte[]> record) {
            if (record.key() == null) {
                return;
            }
            if (record.value() == null) {
                store.delete(record.key());
                models.retract(record.key(), remaining());
            } else {
                store.put(record.key(), record.value());
                models.reinstate(record.key());
                if (!models.offerLatest(record.key(), record.value()) && models.servesReplacedBytes(record.key())) {
                    // The serving version was republished with bytes that cannot serve: fall back as on a tombstone,
                    // so that running and restarted instances serve alike.
                    models.retract(record.key(), remaining());
                }
            }
        }
    }
}
