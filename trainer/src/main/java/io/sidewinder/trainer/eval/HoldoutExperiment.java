package io.sidewinder.trainer.eval;

import io.sidewinder.ssm.Forecaster;
import io.sidewinder.ssm.GapScaling;
import io.sidewinder.ssm.MambaModel;
import io.sidewinder.ssm.ModelConfig;
import io.sidewinder.ssm.ModelParameters;
import io.sidewinder.ssm.StreamState;
import io.sidewinder.trainer.grad.TrainableModel;
import io.sidewinder.trainer.train.ForecastTrainer;
import io.sidewinder.trainer.train.Windows;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;

/**
 * Training on arbitrary sensor histories (files or a topic): channel-independent, the first 80 % of every
 * sensor's readings for training and the last 20 % for validation (time order, no shuffling across the cut).
 */
public final class HoldoutExperiment {
    private final List<Windows.Series> series = new ArrayList<>();
    private final int lookback;
    private final long medianSpacing;
    private final int sensorsGiven;

    public HoldoutExperiment(Collection<Windows.Series> sensors, int lookback) {
        this.lookback = lookback;
        this.sensorsGiven = sensors.size();
        List<Long> gaps = new ArrayList<>();
        for (Windows.Series s : sensors) {
            int ch = s.values().length == 0 ? 0 : s.values()[0].length;
            for (int k = 0; k < ch; k++) {
                float[][] v = new float[s.rows()][1];
                for (int t = 0; t < s.rows(); t++) v[t][0] = s.values()[t][k];
                series.add(new Windows.Series(s.times(), v));
            }
            for (int t = 1; t < s.rows(); t++) gaps.add(s.times()[t] - s.times()[t - 1]);
        }
        long[] g = gaps.stream().mapToLong(Long::longValue).sorted().toArray();
        medianSpacing = g.length == 0 ? 1000 : Math.max(1, g[g.length / 2]);
    }

    /**
     * Univariate config with the gap reference set to the data's median spacing, and the causal normaliser over the
     * lookback: every training window starts a fresh normaliser, so the model learns the scale of its last L
     * readings, and the stream must give it the same scale, not that of thousands of readings.
     */
    public ModelConfig modelConfig(ModelConfig base, int horizon) {
        requireWindows(horizon);   // before anything of the model's size is allocated
        return base.withChannels(1).withGap(new GapScaling(medianSpacing, 0.05, 1_000))
                .withShape(base.dModel(), base.layers(), base.dState(), horizon)
                .withNormalizer(lookback, base.normalizerMinStd());
    }

    public List<Windows.Window> windows(boolean validation, int horizon, int stride) {
        List<Windows.Window> out = new ArrayList<>();
        for (int i = 0; i < series.size(); i++) {
            int rows = series.get(i).rows(), cut = (int) (rows * 0.8);
            int from = validation ? Math.max(0, cut - lookback) : 0, to = validation ? rows : cut;
            for (int s = from; (long) s + lookback + horizon <= to; s += stride) {
                out.add(new Windows.Window(i, s, lookback, to));
            }
        }
        return out;
    }

    /** The validation windows of horizon h: every sensor's last 20 %, a window every h/4 rows. */
    private List<Windows.Window> validationWindows(int h) {
        return windows(true, h, Math.max(1, h / 4));
    }

    public ForecastTrainer.Result train(TrainableModel model, ForecastTrainer.Options options,
                                        ForecastTrainer.Progress progress) throws Exception {
        return train(model, options, null, progress);
    }

    /** As {@link #train(TrainableModel, ForecastTrainer.Options, ForecastTrainer.Progress)}, the fp32 passes on
     *  {@code fp32Kernels} (null: this JVM's kernels; see {@link ForecastTrainer#withKernels}). */
    public ForecastTrainer.Result train(TrainableModel model, ForecastTrainer.Options options,
                                        io.sidewinder.ssm.kernels.SsmKernels fp32Kernels,
                                        ForecastTrainer.Progress progress) throws Exception {
        int h = model.config().horizon();
        requireWindows(h);
        List<Windows.Window> train = windows(false, h, 1), val = validationWindows(h);
        return ForecastTrainer.withKernels(series, options, fp32Kernels).train(model, train, val, progress);
    }

    /**
     * Refuses data too short for one training and one validation window at this horizon, naming the rows a sensor
     * needs: a training window fits its first 80 % (L + H rows), a validation window needs H rows after the cut.
     */
    public void requireWindows(int horizon) {
        boolean train = false, validation = false;
        for (Windows.Series s : series) {   // the conditions windows() loops on, without building the windows
            int rows = s.rows(), cut = (int) (rows * 0.8);
            train |= (long) lookback + horizon <= cut;
            validation |= (long) Math.max(0, cut - lookback) + lookback + horizon <= rows;
        }
        if (train && validation) {
            return;
        }
        if (sensorsGiven == 0) {
            throw new IllegalArgumentException("no sensors to train on");
        }
        int most = series.stream().mapToInt(Windows.Series::rows).max().orElse(0);
        if (most == 0) {
            throw new IllegalArgumentException("no usable readings to train on (every row was empty, non-finite or "
                    + "out of range)");
        }
        throw new IllegalArgumentException("not enough readings for lookback " + lookback + " and horizon " + horizon
                + " (need " + rowsNeeded(lookback, horizon) + " per sensor, the longest series has " + most + ")");
    }

    /** The fewest rows r with L + H rows in the first 80 % and H rows after it. */
    static long rowsNeeded(int lookback, int horizon) {
        long r = Math.max(1, Math.max((long) ((lookback + (long) horizon) / 0.8) - 2, 5L * horizon - 5));
        while ((long) (r * 0.8) < lookback + (long) horizon || r - (long) (r * 0.8) < horizon) r++;   // a few steps
        return r;
    }

    /**
     * The validation MSE the trainer reports ({@link ForecastTrainer.Result#bestValidationMse()}: the forecast at
     * each sampled validation window's last position against the H rows after it, in the series' units), computed
     * through the served fp32 {@link Forecaster} — for a model the trainer did not validate as a whole, an ensemble.
     */
    public double validationMse(ModelParameters params) {
        ModelConfig c = params.config();
        Forecaster forecaster = new Forecaster(new MambaModel(params));
        double se = 0;
        long n = 0;
        for (Windows.Window w : ForecastTrainer.validationSample(validationWindows(c.horizon()))) {
            Windows.Series s = series.get(w.series());
            long[] t = Arrays.copyOfRange(s.times(), w.start(), w.start() + w.length());
            float[][] v = Arrays.copyOfRange(s.values(), w.start(), w.start() + w.length());
            Forecaster.Prediction last = forecaster.forwardSequence(StreamState.fresh(c), t, v)[w.length() - 1];
            for (int i = 0; i < c.horizon(); i++) {
                int row = w.start() + w.length() + i;
                if (row >= w.targetLimit() || row >= s.rows()) continue;
                for (int k = 0; k < c.channels(); k++) {
                    double e = last.mean(i, k) - s.values()[row][k];
                    se += e * e;
                    n++;
                }
            }
        }
        return se / Math.max(1, n);
    }

    public long medianSpacingMillis() {
        return medianSpacing;
    }

    @Override
    public String toString() {
        return series.size() + " univariate series, median spacing " + medianSpacing + " ms, lookback " + lookback
                + ", rows " + Arrays.toString(series.stream().mapToInt(Windows.Series::rows).limit(5).toArray());
    }
}
