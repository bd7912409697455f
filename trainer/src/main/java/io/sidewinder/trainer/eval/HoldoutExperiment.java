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

    public HoldoutExperiment(Collection<Windows.Series> sensors, int lookback) {
        this.lookback = lookback;
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
        return base.withChannels(1).withGap(new GapScaling(medianSpacing, 0.05, 1_000))
                .withShape(base.dModel(), base.layers(), base.dState(), horizon)
                .withNormalizer(lookback, base.normalizerMinStd());
    }

    public List<Windows.Window> windows(boolean validation, int horizon, int stride) {
        List<Windows.Window> out = new ArrayList<>();
        for (int i = 0; i < series.size(); i++) {
            int rows = series.get(i).rows(), cut = (int) (rows * 0.8);
            int from = validation ? Math.max(0, cut - lookback) : 0, to = validation ? rows : cut;
            for (int s = from; s + lookback + horizon <= to; s += stride) {
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
        List<Windows.Window> train = windows(false, h, 1), val = validationWindows(h);
        if (train.isEmpty() || val.isEmpty()) {
            if (series.isEmpty()) {
                throw new IllegalArgumentException("no value columns or sensors to train on");
            }
            int most = series.stream().mapToInt(Windows.Series::rows).max().orElse(0);
            throw new IllegalArgumentException("not enough readings for lookback " + lookback + " and horizon " + h
                    + " (need " + 5 * (lookback + h) / 4 + " per sensor, the longest series has " + most + ")");
        }
        return ForecastTrainer.withKernels(series, options, fp32Kernels).train(model, train, val, progress);
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
