package io.sidewinder.schemas.serde;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import io.sidewinder.schemas.AnomalyScore;
import io.sidewinder.schemas.DeadLetter;
import io.sidewinder.schemas.Forecast;
import io.sidewinder.schemas.ModelSnapshot;
import io.sidewinder.schemas.SensorReading;
import org.apache.avro.specific.SpecificRecord;

/**
 * The serdes of the Sidewinder record types. Each factory returns one shared, thread-safe instance,
 * created on first use (so an unreleased schema of one type breaks only that type's serde).
 */
public final class AvroSerdes {

    private static final Map<Class<?>, AvroSerde<?>> SERDES = new ConcurrentHashMap<>();

    private AvroSerdes() {
    }

    public static AvroSerde<SensorReading> sensorReading() {
        return of(SensorReading.class);
    }

    public static AvroSerde<Forecast> forecast() {
        return of(Forecast.class);
    }

    public static AvroSerde<AnomalyScore> anomalyScore() {
        return of(AnomalyScore.class);
    }

    public static AvroSerde<ModelSnapshot> modelSnapshot() {
        return of(ModelSnapshot.class);
    }

    public static AvroSerde<DeadLetter> deadLetter() {
        return of(DeadLetter.class);
    }

    /**
     * The shared serde of {@code type}.
     *
     * @throws IllegalArgumentException if {@code type} is not a Sidewinder record type
     * @throws IllegalStateException if the current schema of {@code type} is not released
     */
    @SuppressWarnings("unchecked")
    public static <T extends SpecificRecord> AvroSerde<T> of(Class<T> type) {
        return (AvroSerde<T>) SERDES.computeIfAbsent(type, t -> new AvroSerde<>(type));
    }
}
