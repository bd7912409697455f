package io.sidewinder.processors;

import io.sidewinder.ssm.Forecaster;
import io.sidewinder.ssm.ModelConfig;
import io.sidewinder.ssm.StreamState;
import java.nio.ByteBuffer;

/**
 * The per-sensor forecast-and-score step, free of Kafka, shared by the stream processor and the offline anomaly
 * evaluator: each reading is first scored against the forecast made after the previous one, then advances the
 * model state and yields the next forecast.
 *
 * <p>A model with as many channels as the sensor runs jointly; a univariate model serves a sensor of any number
 * of channels channel-independently (one state per channel, as PatchTST-style models do), so one general model
 * fits every sensor shape. Each reading gets two scores: {@link AnomalyScorer}'s likelihood (the mean standardised
 * squared error of the reading under the one-step predictive distribution, against the key's own recent
 * surprises, with {@link ExtremeValues} as further evidence: high when something changes) and
 * {@link BaselineDeviation}'s score (how far the sensor is from its
 * own normal baseline: high for as long as it stays off).
 */
public final class SensorDetector {
    private final Forecaster forecaster;
    private final ModelConfig config;
    private final AnomalyScorer scorer;
    private final BaselineDeviation baseline;
    private final KeyCadence.Mode cadence;
    // Channel c of a sensor that a univariate model serves is series c of its cycle; the last entry has no profile.
    private final Forecaster[] bySeries;

    /** A detector with the processor's default baseline settings. */
    public SensorDetector(Forecaster forecaster, AnomalyScorer scorer, KeyCadence.Mode cadence) {
        this(forecaster, scorer, BaselineDeviation.defaults(), cadence);
    }

    public SensorDetector(Forecaster forecaster, AnomalyScorer scorer, BaselineDeviation baseline, KeyCadence.Mode cadence) {
        this.baseline = baseline;
        this.forecaster = forecaster;
        this.config = forecaster.model().config();
        this.bySeries = new Forecaster[config.cycleSeries() + 1];
        for (int i = 0; i < bySeries.length; i++) bySeries[i] = forecaster.forSeries(i);
        this.scorer = scorer;
        this.cadence = cadence;
    }

    public ModelConfig config() {
        return config;
    }

    /**
     * One sensor's state: model states (one, or one per channel), the pending one-step forecast, surprise
     * statistics, baseline and cadence. The model states are encoded separately ({@link StreamState}) because decoding them
     * needs the serving model's config.
     */
    public static final class State {
        StreamState[] streams;
        final float[] mean;
        final float[] std;
        final AnomalyScorer.Stats stats = new AnomalyScorer.Stats();
        BaselineDeviation.Stats baseline;
        ExtremeValues.Stats extremes;
        KeyCadence cadence = new KeyCadence();
        boolean forecastReady;

        State(int channels) {
            this.mean = new float[channels];
            this.std = new float[channels];
            this.baseline = new BaselineDeviation.Stats(channels);
            this.extremes = new ExtremeValues.Stats(channels);
        }

        public int channels() {
            return mean.length;
        }

        public long scored() {
            return stats.count;
        }

        static final int FIXED_BYTES = KeyCadence.BYTES + AnomalyScorer.Stats.BYTES + 1 + 4;

        int serializedSize() {
            return FIXED_BYTES + 8 * mean.length + BaselineDeviation.Stats.bytes(mean.length) + ExtremeValues.Stats.bytes(mean.length);
        }

        void write(ByteBuffer out) {
            cadence.write(out);
            stats.write(out);
            out.put((byte) (forecastReady ? 1 : 0));
            out.putInt(mean.length);
            for (float m : mean) out.putFloat(m);
            for (float s : std) out.putFloat(s);
            baseline.write(out);
            extremes.write(out);
        }

        /**
         * Reads a state written by {@link #write}; {@code withBaseline} is false for key state v2, which had no
         * baseline and no extreme-value stats (both start afresh), {@code withBaselinePhase} false for v2 and v3.
         */
        static State read(ByteBuffer in, boolean withBaseline, boolean withBaselinePhase) {
            KeyCadence cadence = KeyCadence.read(in);
            AnomalyScorer.Stats stats = new AnomalyScorer.Stats();
            stats.read(in);
            boolean ready = in.get() != 0;
            int channels = in.getInt();
            if (channels < 1 || channels > in.remaining() / 8) {
                throw new IllegalArgumentException("corrupt detector state: " + channels + " channels");
            }
            State s = new State(channels);
            s.cadence = cadence;
            s.stats.copyFrom(stats);
            s.forecastReady = ready;
            for (int i = 0; i < channels; i++) s.mean[i] = in.getFloat();
            for (int i = 0; i < channels; i++) s.std[i] = in.getFloat();
            if (withBaseline) {
                s.baseline = BaselineDeviation.Stats.read(in, channels, withBaselinePhase);
                s.extremes = ExtremeValues.Stats.read(in, channels);
            }
            return s;
        }
    }

    /**
     * The outcome of one reading: its likelihood score (null for a key's first reading), its deviation from the
     * key's baseline, and the forecast made after it.
     */
    public record Observation(AnomalyScorer.Score score, BaselineDeviation.Deviation deviation, int horizon,
                              float[] forecastMean, float[] forecastStd) {}

    /** True when this detector's model can serve a sensor with this many channels. */
    public boolean serves(int channels) {
        return channels >= 1 && (config.channels() == channels || config.channels() == 1);
    }

    /** Bytes the stored model states of a sensor with this many channels take: a lower bound of its whole state. */
    public long modelStateBytes(int channels) {
        return (long) streamsFor(channels) * (4 + StreamState.serializedSize(config));
    }

    private int streamsFor(int channels) {
        return config.channels() == channels ? 1 : channels;
    }

    public State newState(int channels) {
        if (!serves(channels)) {
            throw new IllegalArgumentException("a " + config.channels() + "-channel model cannot serve a "
                    + channels + "-channel sensor");
        }
        State s = new State(channels);
        s.streams = freshStreams(channels);
        return s;
    }

    /** True when the state's model states belong to this detector's model. */
    public boolean fits(State s) {
        return s.streams != null && s.streams.length == streamsFor(s.channels()) && s.streams[0].config().equals(config);
    }

    /** Decodes stored model states against this model; throws IllegalArgumentException if they do not fit. */
    public void attach(State s, byte[][] encodedStreams) {
        if (encodedStreams.length != streamsFor(s.channels())) {
            throw new IllegalArgumentException(encodedStreams.length + " stored model states, model needs " + streamsFor(s.channels()));
        }
        StreamState[] streams = new StreamState[encodedStreams.length];
        for (int i = 0; i < streams.length; i++) streams[i] = StreamState.fromBytes(encodedStreams[i], config);
        s.streams = streams;
    }

    /**
     * Rebuilds the model states from a key's recent readings (after a model swap or an undecodable state): fresh
     * states and cadence, the readings replayed without scoring, so forecasts are warm right away. Surprise
     * statistics and the baseline are kept: they describe the sensor, not the model. Returns the last replayed observation, or null when there was nothing to replay.
     */
    public Observation warm(State s, Iterable<KeyState.Reading> recent) {
        s.streams = freshStreams(s.channels());
        s.cadence = new KeyCadence();
        s.forecastReady = false;
        Observation last = null;
        for (KeyState.Reading r : recent) {
            if (r.values().length == s.channels()) last = advance(s, r.eventTime(), r.values(), null, null);
        }
        return last;
    }

    /** Scores the reading against the previous forecast, then advances the state. Values must be finite. */
    public Observation observe(State s, long eventTime, float[] values) {
        if (values.length != s.channels()) {
            throw new IllegalArgumentException("sensor has " + s.channels() + " channels, reading has " + values.length);
        }
        double extreme = ExtremeValues.surprise(s.extremes, values, scorer.longWindow());
        AnomalyScorer.Score score = null;
        if (s.forecastReady) {
            score = scorer.score(s.stats, AnomalyScorer.surprise(values, s.mean, s.std), s.extremes.surprises, extreme);
        } else {
            scorer.learn(s.extremes.surprises, extreme); // no forecast to miss yet, but the value is history
        }
        return advance(s, eventTime, values, score, baseline.observe(s.baseline, values));
    }

    private Observation advance(State s, long eventTime, float[] values, AnomalyScorer.Score score,
                                BaselineDeviation.Deviation deviation) {
        long modelTime = s.cadence.advance(eventTime, cadence, config.gap().referenceMillis());
        int h = config.horizon(), channels = values.length;
        float[] mean, std;
        if (s.streams.length == 1) {
            Forecaster.Prediction p = forecaster.advance(s.streams[0], modelTime, values);
            mean = p.mean();
            std = p.stddev();
        } else {
            mean = new float[h * channels];
            std = new float[h * channels];
            float[] one = new float[1];
            for (int c = 0; c < channels; c++) {
                one[0] = values[c];
                Forecaster.Prediction p = bySeries[Math.min(c, bySeries.length - 1)].advance(s.streams[c], modelTime, one);
                for (int step = 0; step < h; step++) {
                    mean[step * channels + c] = p.mean(step, 0);
                    std[step * channels + c] = p.stddev(step, 0);
                }
            }
        }
        System.arraycopy(mean, 0, s.mean, 0, channels);
        System.arraycopy(std, 0, s.std, 0, channels);
        s.forecastReady = true;
        return new Observation(score, deviation, h, mean, std);
    }

    private StreamState[] freshStreams(int channels) {
        StreamState[] streams = new StreamState[streamsFor(channels)];
        for (int i = 0; i < streams.length; i++) streams[i] = StreamState.fresh(config);
        return streams;
    }
}
