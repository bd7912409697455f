package io.sidewinder.trainer.eval;

import io.sidewinder.ssm.Forecaster;
import io.sidewinder.ssm.MambaModel;
import io.sidewinder.ssm.ModelConfig;
import io.sidewinder.ssm.ModelParameters;
import io.sidewinder.ssm.StreamState;
import io.sidewinder.trainer.data.CsvSeries;
import io.sidewinder.trainer.grad.TrainableModel;
import io.sidewinder.trainer.train.ForecastTrainer;
import io.sidewinder.trainer.train.Windows;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Training and evaluation on an ETT file under the standard protocol, channel-independent: one univariate model
 * forecasts every channel (each channel of each window is one sample), as PatchTST does for the M setting. Setting
 * S uses the OT column only.
 */
public final class EttExperiment {
    private final EttProtocol protocol;
    private final float[][] z;     // z-scored rows up to the end of the test segment, chosen columns only
    private final long[] times;
    private final long spacing;

    public EttExperiment(CsvSeries series, EttProtocol protocol, boolean univariateOt) {
        this.protocol = protocol;
        if (series.rows() < 2) {   // no spacing to check: say what is missing
            throw new IllegalArgumentException("the ETT protocol needs " + protocol.testEnd() + " rows (20 months of "
                    + "data), the file has " + series.rows() + " usable rows");
        }
        long step = medianSpacing(series.times());
        if (step * protocol.rowsPerDay() != 86_400_000L) {
            // The splits count rows: 15-minute rows under the hourly splits are a different experiment, silently.
            throw new IllegalArgumentException("the ETT protocol here takes " + protocol.rowsPerDay() + " rows per day "
                    + "(from the file name: ETTh* hourly, ETTm* 15-minute), but the file's rows are " + step
                    + " ms apart");
        }
        List<String> names = series.channels();
        float[][] values = series.values();
        if (univariateOt) {   // only OT is z-scored and checked: a constant column S never reads does not matter
            int ot = names.indexOf("OT");
            if (ot < 0) throw new IllegalArgumentException("setting S needs an OT column");
            values = new float[values.length][];
            for (int t = 0; t < values.length; t++) values[t] = new float[] {series.values()[t][ot]};
            names = List.of("OT");
        }
        try {
            z = protocol.standardise(values);
        } catch (IllegalArgumentException e) {   // name the column, not its index
            String m = e.getMessage();
            for (int k = names.size() - 1; k >= 0; k--) {
                m = m.replace("value column " + k + " ", "column '" + names.get(k) + "' ");
            }
            throw new IllegalArgumentException(m, e);
        }
        this.spacing = step;
        times = Arrays.copyOf(series.times(), z.length);
    }

    public int channels() {
        return z[0].length;
    }

    /**
     * The model config for this file: univariate, horizon H, gap reference = the file's row spacing, and a causal
     * normaliser over the lookback: exact over a window (so the protocol's figures do not depend on it), and in
     * streaming mode an exponential average of the same span, so the served model sees the scale it was trained on.
     */
    public ModelConfig modelConfig(ModelConfig base) {
        long spacing = spacing();
        // The data are z-scored: a window whose readings barely move must not be blown up by a tiny std, so the
        // causal normaliser never divides by less than a tenth of the training std.
        return base.withChannels(1).withGap(new io.sidewinder.ssm.GapScaling(spacing, 0.05, 1_000))
                .withShape(base.dModel(), base.layers(), base.dState(), protocol.horizon())
                .withNormalizer(protocol.lookback(), 0.1)
                .withCycle(base.cycleLength(), channels()); // a seasonal profile per channel (series k = channel k)
    }

    /** The file's row spacing in milliseconds: the model's gap reference, and the step of its seasonal cycle. */
    public long spacing() {
        return spacing;
    }

    /** The median of the row spacings: a row left out (a NaN) must not make the file look irregular. */
    static long medianSpacing(long[] times) {
        if (times.length < 2) return 0;
        long[] d = new long[times.length - 1];
        for (int i = 1; i < times.length; i++) d[i - 1] = times[i] - times[i - 1];
        Arrays.sort(d);
        return d[d.length / 2];
    }

    /** One univariate series per channel. */
    public List<Windows.Series> series() {
        List<Windows.Series> out = new ArrayList<>();
        for (int k = 0; k < channels(); k++) {
            float[][] v = new float[z.length][1];
            for (int t = 0; t < z.length; t++) v[t][0] = z[t][k];
            out.add(new Windows.Series(times, v));
        }
        return out;
    }

    /** Every (channel, window) of a split; windows are lookback long and end H rows before the split's end. */
    public List<Windows.Window> windows(EttProtocol.Split split) {
        List<Windows.Window> out = new ArrayList<>();
        for (int k = 0; k < channels(); k++) {
            for (int w = 0; w < protocol.windows(split); w++) {
                out.add(new Windows.Window(k, protocol.windowStart(split, w), protocol.lookback(), protocol.segmentEnd(split)));
            }
        }
        return out;
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
        return ForecastTrainer.withKernels(series(), options, fp32Kernels).train(model, windows(EttProtocol.Split.TRAIN), windows(EttProtocol.Split.VAL), progress);
    }

    /**
     * {@link ForecastTrainer#chooseReadoutForm} on this file: each {@link io.sidewinder.ssm.ReadoutForm}'s closed-form
     * start (readout and cycle, Mamba layers untouched) on the validation sample; what {@code --readout-form auto} takes.
     */
    public ForecastTrainer.FormChoice chooseReadoutForm(ModelConfig config, ForecastTrainer.Options options,
                                                       io.sidewinder.ssm.kernels.SsmKernels fp32Kernels) {
        try (ForecastTrainer t = ForecastTrainer.withKernels(series(), options, fp32Kernels)) {
            return t.chooseReadoutForm(config, windows(EttProtocol.Split.TRAIN), windows(EttProtocol.Split.VAL));
        }
    }

    /**
     * Test MSE/MAE of a served (fp32) model with its state starting at each window's start: every channel of every
     * window goes through {@link Forecaster#forwardSequence}, the stream's own batch path.
     */
    public ForecastEvaluation.Result evaluate(ModelParameters params, EttProtocol.Split split) {
        Forecaster forecaster = new Forecaster(new MambaModel(params));
        ModelConfig c = params.config();
        int l = protocol.lookback();
        return ForecastEvaluation.evaluate(z, protocol, split, (series, start, lookback, horizon, out) -> {
            long[] t = Arrays.copyOfRange(times, start, start + l);
            for (int k = 0; k < series[0].length; k++) {
                float[][] v = new float[l][1];
                for (int i = 0; i < l; i++) v[i][0] = series[start + i][k];
                Forecaster.Prediction[] p = forecaster.forSeries(k).forwardSequence(StreamState.fresh(c), t, v);
                Forecaster.Prediction last = p[l - 1];
                for (int i = 0; i < horizon; i++) out[i][k] = last.mean(i, 0);
            }
        });
    }

    /** Test MSE/MAE of a baseline on the same (z-scored, chosen) channels. */
    public ForecastEvaluation.Result evaluate(ForecastEvaluation.WindowForecaster baseline) {
        return ForecastEvaluation.evaluate(z, protocol, EttProtocol.Split.TEST, baseline);
    }

    /**
     * The streaming mode the product runs: one state carried from the start of the data through every row; the
     * forecast made at each test window's last lookback row is scored against the next H rows.
     */
    public ForecastEvaluation.Result evaluateStreaming(ModelParameters params) {
        Forecaster forecaster = new Forecaster(new MambaModel(params));
        ModelConfig c = params.config();
        int ch = channels(), h = protocol.horizon();
        float[][][] means = new float[z.length][][];
        for (int k = 0; k < ch; k++) {
            StreamState s = StreamState.fresh(c);
            Forecaster channel = forecaster.forSeries(k);
            for (int t = 0; t < z.length; t++) {
                Forecaster.Prediction p = channel.advance(s, times[t], new float[] {z[t][k]});
                if (means[t] == null) means[t] = new float[h][ch];
                for (int i = 0; i < h; i++) means[t][i][k] = p.mean(i, 0);
            }
        }
        return ForecastEvaluation.evaluate(z, protocol, EttProtocol.Split.TEST, (series, start, lookback, horizon, out) -> {
            float[][] m = means[start + lookback - 1];
            for (int i = 0; i < horizon; i++) System.arraycopy(m[i], 0, out[i], 0, m[i].length);
        });
    }
}
