package io.sidewinder.ssm;

import io.sidewinder.ssm.kernels.SsmKernels;

/**
 * The streaming form of the whole pipeline around the model for one reading: gap → normalise → model step
 * → predictive distribution in the sensor's units. Stream processors call only this; the trainer's batch
 * path ({@link #forwardSequence}) applies the same normaliser and gap function to a whole sequence.
 */
public final class Forecaster {
    private final MambaModel model;
    private final ModelConfig config;
    private final int series;
    // What turns a stack's head output into forecast means: one shared by every member, or under ReadoutForm.MIXED
    // one per member, whose forecasts are then averaged (stacks[k] is member k's model; null when shared).
    private final Readout[] readouts;
    private final MambaModel[] stacks;

    public Forecaster(MambaModel model) {
        this(model, 0, null);
    }

    /** {@code shared}: the readouts of a forecaster of the same model, whose series-free parts are reused (or null). */
    private Forecaster(MambaModel model, int series, Readout[] shared) {
        this.model = model;
        this.config = model.config();
        this.series = series;
        if (config.readoutPerMember()) {
            stacks = new MambaModel[config.members()];
            readouts = new Readout[stacks.length];
            for (int k = 0; k < stacks.length; k++) {
                stacks[k] = model.member(k);
                readouts[k] = new Readout(stacks[k].parameters(), series, shared == null ? null : shared[k]);
            }
        } else {
            stacks = null;
            readouts = new Readout[] {new Readout(model.parameters(), series, shared == null ? null : shared[0])};
        }
    }

    /**
     * The forecaster of series {@code s} of the model's {@link SeasonalCycle} (e.g. channel s of a sensor that a
     * univariate model serves channel by channel); the same as this one for a model without a cycle, and one without
     * the cycle for a series the cycle has no profile for.
     */
    public Forecaster forSeries(int s) {
        if (s < 0) throw new IllegalArgumentException("series must be >= 0, got " + s);
        return s == series || config.cycleLength() == 0 ? this : new Forecaster(model, s, readouts);
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
        int phase = config.cycleLength() > 0 ? SeasonalCycle.phase(config, eventTime) : 0;
        if (config.readoutLags() > 0) state.history().push(values, phase);
        float[] head = new float[config.headWidth()];
        if (stacks == null) {
            model.step(xn, ratio, state.modelState(), head);
            readouts[0].addTo(model.kernels(), head, norm, state.history(), phase);
        } else {
            float[] member = new float[head.length];
            for (int k = 0; k < stacks.length; k++) {
                stacks[k].step(xn, ratio, state.modelState().member(k, config.layers()), member);
                readouts[k].addTo(stacks[k].kernels(), member, norm, state.history(), phase);
                addMean(member, head, 1, k, stacks.length);
            }
        }
        state.advanced(eventTime);
        return toPrediction(head, 0, norm);
    }

    /** head += member / members over the first {@code rows} rows: the members' mean forecast, row by row. */
    private void addMean(float[] member, float[] head, int rows, int k, int members) {
        int n = rows * config.headWidth();
        for (int i = 0; i < n; i++) head[i] = k == 0 ? member[i] / members : head[i] + member[i] / members;
    }

    /**
     * One member's (or the shared) lag readout and cycle in its {@link ReadoutForm}: what it adds to the head's
     * output rows (normalised units) to make the forecast means.
     */
    private static final class Readout {
        private final ModelConfig config;
        private final float[] weight; // W of the lag readout, null without one
        private final float[] weightT; // Wᵀ, for the one-reading product of advance()
        private final float[] offset; // b [H][C] in the series' units (ReadoutForm.hasOffset), else null
        private final float[] cycle; // Q of the seasonal cycle, null without one or for a series it has no profile for
        private final int series;
        private final ReadoutForm form;

        /** {@code same}: a readout of the same parameters (another series) whose Wᵀ is reused, or null. */
        Readout(ModelParameters params, int series, Readout same) {
            this.config = params.config();
            this.weight = config.readoutLags() > 0 ? params.data(LagReadout.WEIGHT) : null;
            this.weightT = weight == null ? null : same != null ? same.weightT
                    : LagReadout.transposed(weight, config.horizon(), config.readoutLags());
            this.cycle = config.cycleLength() > 0 && series < config.cycleSeries()
                    ? params.data(SeasonalCycle.WEIGHT) : null;
            this.series = series;
            this.form = config.readoutForm();
            this.offset = weight != null && form.hasOffset() ? params.data(LagReadout.OFFSET) : null;
        }

        /** Adds the readout and cycle to one head row made after the reading just pushed into {@code history}. */
        void addTo(SsmKernels kernels, float[] head, CausalNormalizer norm, LagReadout.History history, int phase) {
            float[] scale = seriesUnitScale(norm);
            if (weight != null) {
                float[] lags = new float[config.readoutLags() * config.channels()];
                float[] centre = form.centred() ? new float[config.channels()] : null;
                inputs(history, norm, lags, cycle == null ? null : new int[config.readoutLags()], scale, centre);
                LagReadout.addToRow(kernels, weightT, config.horizon(), config.channels(), config.readoutLags(),
                        lags, head, 0);
                if (centre != null) addCentre(centre, 0, head, 0);
                if (offset != null) addOffset(scale, head, 0);
            }
            if (cycle != null) SeasonalCycle.addToMeans(cycle, config, series, phase, head, 0, scale);
        }

        /** 1/σ_c of each channel under a centred form (series-unit terms into the head's units), else null. */
        float[] seriesUnitScale(CausalNormalizer norm) {
            if (!form.centred()) return null;
            float[] s = new float[config.channels()];
            for (int c = 0; c < s.length; c++) s[c] = (float) (1 / norm.std(c));
            return s;
        }

        /**
         * The readout's inputs after the latest push into {@code row} ([K][C]): the history normalised at t, less the
         * cycle at each lag's phase ({@code phases}: scratch of K, null without a cycle) times {@code scale} (null: 1).
         * With {@code centre} (a centred form) the lags the key has are then centred on the form's centre
         * ({@link ReadoutForm#centre}: their mean, or the latest), which goes into centre[c]: (m_t − μ_t)/σ_t.
         */
        void inputs(LagReadout.History history, CausalNormalizer norm, float[] row, int[] phases, float[] scale,
                    float[] centre) {
            history.normalised(norm, row);
            int count = history.count();
            if (cycle != null) {
                count = history.lagPhases(phases);
                SeasonalCycle.removeFromLags(cycle, config, series, phases, count, row, 0, scale);
            }
            if (centre != null) {
                int ch = config.channels();
                for (int c = 0; c < ch; c++) {
                    int channel = c;
                    centre[c] = (float) form.centre(j -> row[j * ch + channel], count);
                    for (int j = 0; j < count; j++) row[j * ch + c] -= centre[c];
                }
            }
        }

        /** head[offset + h·C + c] += centre[from + c] over the H mean rows: the level a centred readout forecasts around. */
        void addCentre(float[] centre, int from, float[] head, int offset) {
            int ch = config.channels();
            for (int h = 0; h < config.horizon(); h++) {
                for (int c = 0; c < ch; c++) head[offset + h * ch + c] += centre[from + c];
            }
        }

        /** head[offset + h·C + c] += b[h][c]/σ_c over the H mean rows ({@code scale}: 1/σ): the offset in head units. */
        void addOffset(float[] scale, float[] head, int at) {
            int ch = config.channels();
            for (int h = 0; h < config.horizon(); h++) {
                for (int c = 0; c < ch; c++) head[at + h * ch + c] += offset[h * ch + c] * scale[c];
            }
        }

        Sequence sequence(int length) {
            return new Sequence(length);
        }

        /** The readout's inputs over a sequence, recorded reading by reading, then added to the head rows at once. */
        final class Sequence {
            private final int length;
            private final float[] lags, lagRow, centres, centre;
            private final int[] lagPhases;
            private final float[][] scales;

            Sequence(int length) {
                this.length = length;
                int c = config.channels(), lagWidth = config.readoutLags() * c;
                lags = weight == null ? null : new float[length * lagWidth];
                lagRow = new float[lagWidth];
                lagPhases = cycle == null ? null : new int[config.readoutLags()];
                scales = form.centred() ? new float[length][] : null;
                centres = form.centred() && weight != null ? new float[length * c] : null;
                centre = new float[c];
            }

            /** Records reading t's inputs, right after it was pushed into {@code history} and {@code norm}. */
            void record(int t, LagReadout.History history, CausalNormalizer norm) {
                float[] scale = seriesUnitScale(norm);
                if (scales != null) scales[t] = scale;
                if (weight == null) return;
                inputs(history, norm, lagRow, lagPhases, scale, centres == null ? null : centre);
                System.arraycopy(lagRow, 0, lags, t * lagRow.length, lagRow.length);
                if (centres != null) System.arraycopy(centre, 0, centres, t * centre.length, centre.length);
            }

            /** Adds the readout and cycle to the sequence's head rows ([length][headWidth]). */
            void addTo(SsmKernels kernels, float[] head, int[] phases) {
                int c = config.channels(), hw = config.headWidth();
                if (weight != null) {
                    // Added after the model's head, as advance() adds it after the step.
                    LagReadout.addTo(kernels, weight, config.horizon(), c, config.readoutLags(), length, lags, head, 0);
                    for (int t = 0; centres != null && t < length; t++) addCentre(centres, t * c, head, t * hw);
                    for (int t = 0; offset != null && t < length; t++) addOffset(scales[t], head, t * hw);
                }
                if (cycle != null) {
                    for (int t = 0; t < length; t++) {
                        SeasonalCycle.addToMeans(cycle, config, series, phases[t], head, t * hw,
                                scales == null ? null : scales[t]);
                    }
                }
            }
        }
    }

    /** Converts one head row (normalised mean, log-variance) into sensor units with the given statistics. */
    public Prediction toPrediction(float[] head, int offset, CausalNormalizer norm) {
        int hc = config.horizon() * config.channels(), c = config.channels();
        double[] sd = new double[c], mu = new double[c];   // per channel once, not per (step, channel)
        for (int ch = 0; ch < c; ch++) {
            sd[ch] = norm.std(ch);
            mu[ch] = norm.mean(ch);
        }
        float[] mean = new float[hc], std = new float[hc];
        for (int i = 0; i < hc; i++) {
            int ch = i % c;
            mean[i] = toFiniteFloat(head[offset + i] * sd[ch] + mu[ch]);
            // Clamp log-variance only for output: exp must stay finite whatever an untrained head emits.
            std[i] = 0.5f * Math.max(-30f, Math.min(30f, head[offset + hc + i]));
        }
        model.kernels().expInPlace(std, 0, hc);   // one vector pass instead of H·C Math.exp calls
        for (int i = 0; i < hc; i++) std[i] = toFiniteFloat(std[i] * sd[i % c]);
        return new Prediction(config.horizon(), c, mean, std);
    }

    /**
     * A double forecast in fp32, clamped to the largest finite floats: readings near ±3e38 are finite and accepted,
     * and their scale must not turn a forecast (and the scores and state built on it) into infinities.
     */
    static float toFiniteFloat(double v) {
        return (float) Math.max(-Float.MAX_VALUE, Math.min(Float.MAX_VALUE, v));
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
        int[] phases = new int[length];
        Readout.Sequence[] inputs = new Readout.Sequence[readouts.length];
        for (int k = 0; k < inputs.length; k++) inputs[k] = readouts[k].sequence(length);
        for (int t = 0; t < length; t++) {
            gaps[t] = config.gap().ratio(prev, eventTimes[t]);
            prev = eventTimes[t];
            norm.update(values[t]);
            norm.normalize(values[t], xn);
            System.arraycopy(xn, 0, x, t * c, c);
            statsAt[t] = norm.copy();
            phases[t] = config.cycleLength() > 0 ? SeasonalCycle.phase(config, eventTimes[t]) : 0;
            if (config.readoutLags() > 0) state.history().push(values[t], phases[t]);
            for (Readout.Sequence in : inputs) in.record(t, state.history(), norm);
        }
        float[] head;
        if (stacks == null) {
            head = model.forward(x, gaps, length, state.modelState(), true);
            inputs[0].addTo(model.kernels(), head, phases);
        } else {
            head = new float[length * config.headWidth()];
            for (int k = 0; k < stacks.length; k++) {
                float[] member = stacks[k].forward(x, gaps, length, state.modelState().member(k, config.layers()), true);
                inputs[k].addTo(stacks[k].kernels(), member, phases);
                addMean(member, head, length, k, stacks.length);
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
