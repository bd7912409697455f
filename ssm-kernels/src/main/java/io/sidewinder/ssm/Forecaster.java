package io.sidewinder.ssm;

/**
 * The streaming form of the whole pipeline around the model for one reading: gap → normalise → model step
 * → predictive distribution in the sensor's units. Stream processors call only this; the trainer's batch
 * path ({@link #forwardSequence}) applies the same normaliser and gap function to a whole sequence.
 */
public final class Forecaster {
    private final MambaModel model;
    private final ModelConfig config;
    private final float[] readout; // W of the lag readout, null without one
    private final float[] cycle; // Q of the seasonal cycle, null without one or for a series it has no profile for
    private final int series;

    public Forecaster(MambaModel model) {
        this(model, 0);
    }

    private Forecaster(MambaModel model, int series) {
        this.model = model;
        this.config = model.config();
        this.readout = config.readoutLags() > 0 ? model.parameters().data(LagReadout.WEIGHT) : null;
        this.cycle = config.cycleLength() > 0 && series < config.cycleSeries()
                ? model.parameters().data(SeasonalCycle.WEIGHT) : null;
        this.series = series;
    }

    /**
     * The forecaster of series {@code s} of the model's {@link SeasonalCycle} (e.g. channel s of a sensor that a
     * univariate model serves channel by channel); the same as this one for a model without a cycle, and one without
     * the cycle for a series the cycle has no profile for.
     */
    public Forecaster forSeries(int s) {
        if (s < 0) throw new IllegalArgumentException("series must be >= 0, got " + s);
        return s == series || config.cycleLength() == 0 ? this : new Forecaster(model, s);
    }

    public MambaModel model() {
        return model;
    }

    /** Forecast of the next H steps after a reading: row-major [H][channels] means and standard deviations. */
    public record Prediction(int horizon, int channels, float[] mean, float[] stddev) {
        public float mean(int step, int channel) {
            return mean[step * channels + channel];
        }

        public float stddev(int step, int channel) {
            return stddev[step * channels + channel];
        }
    }

    /**
     * Applies one reading at {@code eventTime} to {@code state} and returns the forecast made after it.
     * The caller guarantees eventTime is not before the state's last event time and values are finite.
     */
    public Prediction advance(StreamState state, long eventTime, float[] values) {
        if (values.length != config.channels()) {
            throw new IllegalArgumentException("expected " + config.channels() + " channel values, got " + values.length);
        }
        float ratio = config.gap().ratio(state.lastEventTime(), eventTime);
        CausalNormalizer norm = state.normalizer();
        norm.update(values);
        float[] xn = new float[values.length];
        norm.normalize(values, xn);
        float[] head = new float[config.headWidth()];
        model.step(xn, ratio, state.modelState(), head);
        int phase = config.cycleLength() > 0 ? SeasonalCycle.phase(config, eventTime) : 0;
        float[] scale = seriesUnitScale(norm);
        if (readout != null) {
            state.history().push(values, phase);
            float[] lags = new float[config.readoutLags() * config.channels()];
            float[] centre = scale == null ? null : new float[config.channels()];
            readoutInputs(state.history(), norm, lags, cycle == null ? null : new int[config.readoutLags()], scale, centre);
            LagReadout.addTo(model.kernels(), readout, config.horizon(), config.channels(), config.readoutLags(), 1,
                    lags, head, 0);
            if (centre != null) addCentre(centre, 0, head, 0);
        }
        if (cycle != null) SeasonalCycle.addToMeans(cycle, config, series, phase, head, 0, scale);
        state.advanced(eventTime);
        return toPrediction(head, 0, norm);
    }

    /** 1/σ_c of each channel under the {@link ReadoutForm#RESIDUAL} form (series-unit terms into the head's units), else null. */
    private float[] seriesUnitScale(CausalNormalizer norm) {
        if (config.readoutForm() != ReadoutForm.RESIDUAL) return null;
        float[] s = new float[config.channels()];
        for (int c = 0; c < s.length; c++) s[c] = (float) (1 / norm.std(c));
        return s;
    }

    /**
     * The readout's inputs after the latest push into {@code row} ([K][C]): the history normalised at t, less the
     * cycle at each lag's phase ({@code phases}: scratch of K, null without a cycle) times {@code scale} (null: 1).
     * With {@code centre} (the RESIDUAL form) the lags the key has are then centred on their mean, which goes into
     * centre[c]: (m_t − μ_t)/σ_t.
     */
    private void readoutInputs(LagReadout.History history, CausalNormalizer norm, float[] row, int[] phases,
                               float[] scale, float[] centre) {
        history.normalised(norm, row);
        int count = history.count();
        if (cycle != null) {
            count = history.lagPhases(phases);
            SeasonalCycle.removeFromLags(cycle, config, series, phases, count, row, 0, scale);
        }
        if (centre != null) {
            int ch = config.channels();
            for (int c = 0; c < ch; c++) {
                double sum = 0;
                for (int j = 0; j < count; j++) sum += row[j * ch + c];
                centre[c] = count == 0 ? 0f : (float) (sum / count);
                for (int j = 0; j < count; j++) row[j * ch + c] -= centre[c];
            }
        }
    }

    /** head[offset + h·C + c] += centre[from + c] over the H mean rows: the level the RESIDUAL readout forecasts around. */
    private void addCentre(float[] centre, int from, float[] head, int offset) {
        int ch = config.channels();
        for (int h = 0; h < config.horizon(); h++) {
            for (int c = 0; c < ch; c++) head[offset + h * ch + c] += centre[from + c];
        }
    }

    /** Converts one head row (normalised mean, log-variance) into sensor units with the given statistics. */
    public Prediction toPrediction(float[] head, int offset, CausalNormalizer norm) {
        int hc = config.horizon() * config.channels(), c = config.channels();
        float[] mean = new float[hc], std = new float[hc];
        for (int i = 0; i < hc; i++) {
            int ch = i % c;
            double s = norm.std(ch);
            // Clamp log-variance only for output: exp must stay finite whatever an untrained head emits.
            double logVar = Math.max(-30, Math.min(30, head[offset + hc + i]));
            mean[i] = (float) (head[offset + i] * s + norm.mean(ch));
            std[i] = (float) (Math.exp(0.5 * logVar) * s);
        }
        return new Prediction(config.horizon(), c, mean, std);
    }

    /**
     * Batch form over a sequence starting from {@code state}: the same normalisation and gaps as
     * {@link #advance} applied reading by reading, then one parallel-scan forward. Returns one prediction per
     * reading and leaves {@code state} where {@link #advance} would.
     */
    public Prediction[] forwardSequence(StreamState state, long[] eventTimes, float[][] values) {
        int length = eventTimes.length, c = config.channels();
        float[] x = new float[length * c], gaps = new float[length];
        CausalNormalizer norm = state.normalizer();
        CausalNormalizer[] statsAt = new CausalNormalizer[length];
        long prev = state.lastEventTime();
        float[] xn = new float[c];
        int lagWidth = config.readoutLags() * c;
        float[] lags = readout == null ? null : new float[length * lagWidth], lagRow = new float[lagWidth];
        int[] phases = new int[length], lagPhases = cycle == null ? null : new int[config.readoutLags()];
        boolean residual = config.readoutForm() == ReadoutForm.RESIDUAL;
        float[][] scales = residual ? new float[length][] : null;
        float[] centres = residual && readout != null ? new float[length * c] : null, centre = new float[c];
        for (int t = 0; t < length; t++) {
            gaps[t] = config.gap().ratio(prev, eventTimes[t]);
            prev = eventTimes[t];
            norm.update(values[t]);
            norm.normalize(values[t], xn);
            System.arraycopy(xn, 0, x, t * c, c);
            statsAt[t] = norm.copy();
            phases[t] = config.cycleLength() > 0 ? SeasonalCycle.phase(config, eventTimes[t]) : 0;
            float[] scale = seriesUnitScale(norm);
            if (scales != null) scales[t] = scale;
            if (readout != null) {
                state.history().push(values[t], phases[t]);
                readoutInputs(state.history(), norm, lagRow, lagPhases, scale, centres == null ? null : centre);
                System.arraycopy(lagRow, 0, lags, t * lagWidth, lagWidth);
                if (centres != null) System.arraycopy(centre, 0, centres, t * c, c);
            }
        }
        float[] head = model.forward(x, gaps, length, state.modelState(), true);
        if (readout != null) {
            // Added after the model's head, as advance() adds it after the step.
            LagReadout.addTo(model.kernels(), readout, config.horizon(), c, config.readoutLags(), length, lags, head, 0);
            for (int t = 0; centres != null && t < length; t++) addCentre(centres, t * c, head, t * config.headWidth());
        }
        if (cycle != null) {
            for (int t = 0; t < length; t++) {
                SeasonalCycle.addToMeans(cycle, config, series, phases[t], head, t * config.headWidth(),
                        scales == null ? null : scales[t]);
            }
        }
        Prediction[] out = new Prediction[length];
        for (int t = 0; t < length; t++) {
            out[t] = toPrediction(head, t * config.headWidth(), statsAt[t]);
            state.advanced(eventTimes[t]);
        }
        return out;
    }
}
