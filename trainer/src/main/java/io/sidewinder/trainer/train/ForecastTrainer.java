package io.sidewinder.trainer.train;

import io.sidewinder.ssm.ModelConfig;
import io.sidewinder.ssm.ModelParameters;
import io.sidewinder.ssm.ReadoutForm;
import io.sidewinder.trainer.grad.TrainableModel;
import io.sidewinder.trainer.train.Windows.Sample;
import io.sidewinder.trainer.train.Windows.Series;
import io.sidewinder.trainer.train.Windows.Window;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Mini-batch training of a forecaster: teacher forcing at every position of each window (all positions through
 * one scan), AdamW with warm-up and cosine decay, global-norm clipping, early stopping on the validation MSE
 * (keeping the best parameters), optional checkpoints. Deterministic for a given seed and thread count: windows are
 * drawn from a seeded generator, split over threads in a fixed way and their gradients summed in thread order.
 *
 * <p>With the cuda backend the fp32 passes hold GPU resources (resident training steps) while {@link #train} runs;
 * {@code train} releases them when it returns or throws, and {@link #close} does too (idempotent; a trainer without
 * a GPU has nothing to release). A closed trainer can train again.
 */
public final class ForecastTrainer implements AutoCloseable {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ForecastTrainer.class);

    public record Options(int epochs, int batchSize, double learningRate, double weightDecay, double clipNorm,
                          double warmupFraction, int patience, long seed, int threads, int samplesPerEpoch,
                          TrainableModel.Loss loss, java.nio.file.Path checkpoint, Precision precision,
                          double huberDelta) {
        /** Huber's δ of {@link TrainableModel.Loss#SCALED_HUBER} unless set: one unit of the series. */
        public static final double DEFAULT_HUBER_DELTA = 1.0;

        public Options {
            if (!(huberDelta > 0)) throw new IllegalArgumentException("huberDelta must be > 0, got " + huberDelta);
        }

        public Options(int epochs, int batchSize, double learningRate, double weightDecay, double clipNorm,
                       double warmupFraction, int patience, long seed, int threads, int samplesPerEpoch,
                       TrainableModel.Loss loss, java.nio.file.Path checkpoint, Precision precision) {
            this(epochs, batchSize, learningRate, weightDecay, clipNorm, warmupFraction, patience, seed, threads,
                    samplesPerEpoch, loss, checkpoint, precision, DEFAULT_HUBER_DELTA);
        }

        public Options(int epochs, int batchSize, double learningRate, double weightDecay, double clipNorm,
                       double warmupFraction, int patience, long seed, int threads, int samplesPerEpoch,
                       TrainableModel.Loss loss, java.nio.file.Path checkpoint) {
            this(epochs, batchSize, learningRate, weightDecay, clipNorm, warmupFraction, patience, seed, threads,
                    samplesPerEpoch, loss, checkpoint, Precision.DOUBLE);
        }

        public Options(int epochs, int batchSize, double learningRate, double weightDecay, double clipNorm,
                       double warmupFraction, int patience, long seed, int threads, int samplesPerEpoch,
                       TrainableModel.Loss loss) {
            this(epochs, batchSize, learningRate, weightDecay, clipNorm, warmupFraction, patience, seed, threads,
                    samplesPerEpoch, loss, null);
        }

        /** DOUBLE: the double TrainableModel per window; FP32: batched fp32 passes on the kernel façade. */
        public Options withPrecision(Precision p) {
            return new Options(epochs, batchSize, learningRate, weightDecay, clipNorm, warmupFraction, patience, seed,
                    threads, samplesPerEpoch, loss, checkpoint, p, huberDelta);
        }

        public static Options defaults() {
            return new Options(20, 32, 3e-3, 0.01, 1.0, 0.05, 4, 1, Runtime.getRuntime().availableProcessors(),
                    4096, TrainableModel.Loss.GAUSSIAN_NLL);
        }

        public Options withBatchSize(int b) {
            return new Options(epochs, b, learningRate, weightDecay, clipNorm, warmupFraction, patience, seed, threads,
                    samplesPerEpoch, loss, checkpoint, precision, huberDelta);
        }

        /** Save after every epoch to this file, and resume from it when it exists. */
        public Options withCheckpoint(java.nio.file.Path file) {
            return new Options(epochs, batchSize, learningRate, weightDecay, clipNorm, warmupFraction, patience, seed,
                    threads, samplesPerEpoch, loss, file, precision, huberDelta);
        }

        public Options withEpochs(int e) {
            return new Options(e, batchSize, learningRate, weightDecay, clipNorm, warmupFraction, patience, seed, threads,
                    samplesPerEpoch, loss, checkpoint, precision, huberDelta);
        }

        public Options withSeed(long s) {
            return new Options(epochs, batchSize, learningRate, weightDecay, clipNorm, warmupFraction, patience, s, threads,
                    samplesPerEpoch, loss, checkpoint, precision, huberDelta);
        }

        public Options withThreads(int t) {
            return new Options(epochs, batchSize, learningRate, weightDecay, clipNorm, warmupFraction, patience, seed, t,
                    samplesPerEpoch, loss, checkpoint, precision, huberDelta);
        }

        public Options withSamplesPerEpoch(int n) {
            return new Options(epochs, batchSize, learningRate, weightDecay, clipNorm, warmupFraction, patience, seed,
                    threads, n, loss, checkpoint, precision, huberDelta);
        }

        public Options withLoss(TrainableModel.Loss l) {
            return new Options(epochs, batchSize, learningRate, weightDecay, clipNorm, warmupFraction, patience, seed,
                    threads, samplesPerEpoch, l, checkpoint, precision, huberDelta);
        }

        /** Epochs without a better validation MSE before training stops. */
        public Options withPatience(int epochs) {
            if (epochs < 1) throw new IllegalArgumentException("patience must be >= 1 epoch, got " + epochs);
            return new Options(this.epochs, batchSize, learningRate, weightDecay, clipNorm, warmupFraction, epochs, seed,
                    threads, samplesPerEpoch, loss, checkpoint, precision, huberDelta);
        }

        /** Huber's δ of {@link TrainableModel.Loss#SCALED_HUBER}, in the series' units. */
        public Options withHuberDelta(double delta) {
            return new Options(epochs, batchSize, learningRate, weightDecay, clipNorm, warmupFraction, patience, seed,
                    threads, samplesPerEpoch, loss, checkpoint, precision, delta);
        }

        public Options withLearningRate(double lr) {
            return new Options(epochs, batchSize, lr, weightDecay, clipNorm, warmupFraction, patience, seed, threads,
                    samplesPerEpoch, loss, checkpoint, precision, huberDelta);
        }
    }

    /** Where a batch's gradients are computed (the optimiser, clipping and checkpoints are double either way). */
    public enum Precision { DOUBLE, FP32 }

    /** Called after every step and every epoch (valLoss is NaN between epochs' ends). */
    public interface Progress {
        void update(int epoch, int epochs, long step, long steps, double trainLoss, double valLoss, double samplesPerSecond);
    }

    public record Result(double bestValidationMse, int bestEpoch, int epochsRun, double samplesPerSecond, long steps) {}

    private final List<Series> data;
    private final Options options;
    private final Fp32BatchGradients fp32; // null: the double TrainableModel computes the gradients

    public ForecastTrainer(List<Series> data, Options options) {
        this(data, options, options.precision() == Precision.FP32 ? new Fp32BatchGradients(fp32Kernels(options)) : null);
    }

    /**
     * A trainer whose fp32 passes (when {@code options.precision()} is FP32) run on {@code fp32Kernels} instead of
     * this JVM's kernels; null: as {@link #ForecastTrainer(List, Options)}.
     */
    public static ForecastTrainer withKernels(List<Series> data, Options options,
                                              io.sidewinder.ssm.kernels.SsmKernels fp32Kernels) {
        if (fp32Kernels == null || options.precision() != Precision.FP32) return new ForecastTrainer(data, options);
        return new ForecastTrainer(data, options, new Fp32BatchGradients(fp32Kernels));
    }

    /** This JVM's kernels, with the scans spread over the training threads when the backend runs in tiles. */
    private static io.sidewinder.ssm.kernels.SsmKernels fp32Kernels(Options o) {
        var k = io.sidewinder.ssm.kernels.Kernels.get();
        return k instanceof io.sidewinder.ssm.kernels.TiledScan && o.threads() > 1
                ? io.sidewinder.ssm.kernels.Kernels.parallel(o.threads()) : k;
    }

    private ForecastTrainer(List<Series> data, Options options, Fp32BatchGradients fp32) {
        this.data = data;
        this.options = options;
        this.fp32 = fp32;
    }

    /**
     * The same trainer with the fp32 backend: each batch's forward and backward run in fp32 on the given kernels
     * ({@link Fp32BatchGradients}; windows of one length in one batched pass), the optimiser stays in double.
     * Use {@code Kernels.parallel(threads)} to spread the scans over cores.
     */
    public ForecastTrainer withFp32Kernels(io.sidewinder.ssm.kernels.SsmKernels kernels) {
        return new ForecastTrainer(data, options, new Fp32BatchGradients(kernels));
    }

    /** Validation windows used for early stopping (evenly spaced over the split; all of them when fewer). */
    static final int MAX_VALIDATION_WINDOWS = 1024;

    /** The validation windows early stopping reads: at most {@link #MAX_VALIDATION_WINDOWS}, evenly spaced. */
    public static List<Window> validationSample(List<Window> allVal) {
        List<Window> val = new ArrayList<>();
        double stride = Math.max(1.0, (double) allVal.size() / MAX_VALIDATION_WINDOWS);
        for (double i = 0; i < allVal.size(); i += stride) val.add(allVal.get((int) i));
        return val;
    }

    public Result train(TrainableModel model, List<Window> train, List<Window> allVal, Progress progress) throws Exception {
        Options o = options;
        List<Window> val = validationSample(allVal);
        int perEpoch = Math.min(o.samplesPerEpoch(), train.size());
        long stepsPerEpoch = (perEpoch + o.batchSize() - 1) / o.batchSize();
        long totalSteps = stepsPerEpoch * o.epochs();
        long warmup = Math.max(1, Math.round(totalSteps * o.warmupFraction()));
        AdamW adam = new AdamW(0.9, 0.999, 1e-8, o.weightDecay());
        model.withHuberDelta(o.huberDelta());
        TrainableModel[] workers = new TrainableModel[o.threads()];
        for (int i = 0; i < workers.length; i++) workers[i] = model.sharingParameters();
        Map<String, double[]> best = copy(model.parameters());
        double bestVal = Double.POSITIVE_INFINITY;
        int bestEpoch = -1, epoch = 0, stale = 0, firstEpoch = 0;
        long samples = 0, started = System.nanoTime(), skippedSteps = 0;
        String runKey = o.checkpoint() == null ? null : Checkpoint.run(model.config(), o, data, train, allVal);
        if (o.checkpoint() != null && java.nio.file.Files.exists(o.checkpoint())) {
            Checkpoint cp = Checkpoint.read(o.checkpoint());
            cp.requireRun(runKey, o.checkpoint());
            cp.params().forEach((k, v) -> System.arraycopy(v, 0, model.parameters().get(k), 0, v.length));
            best = copy(cp.best());
            adam.restore(cp.adamStep(), cp.first(), cp.second());
            bestVal = cp.bestVal();
            bestEpoch = cp.bestEpoch();
            stale = cp.stale();
            firstEpoch = cp.nextEpoch();
        } else {
            if (!gapsVary(model.config(), data, train)) zeroGapEmbedding(model);
            if (startsFromTheLinearForecaster(model)) fitLinearStart(model, train);
            // The starting point is a candidate too: training never returns a model worse than it began with.
            bestVal = validationMse(model, val);
            best = copy(model.parameters());
        }
        // The readout keeps its closed-form fit: SGD's per-weight steps only jitter a linear map that is already at
        // its optimum (on ETTh1/ETTm1 every epoch that also moved it was worse on validation than the fit alone).
        Map<String, double[]> trainedParams = new java.util.LinkedHashMap<>(model.parameters());
        Map<String, double[]> trainedGrads = new java.util.LinkedHashMap<>(model.gradients());
        trainedParams.remove(io.sidewinder.ssm.LagReadout.WEIGHT);
        trainedGrads.remove(io.sidewinder.ssm.LagReadout.WEIGHT);
        trainedParams.remove(io.sidewinder.ssm.SeasonalCycle.WEIGHT); // likewise the cycle fitted with it
        trainedGrads.remove(io.sidewinder.ssm.SeasonalCycle.WEIGHT);
        trainedParams.remove(io.sidewinder.ssm.LagReadout.OFFSET); // and the readout's offset
        trainedGrads.remove(io.sidewinder.ssm.LagReadout.OFFSET);
        ExecutorService pool = Executors.newFixedThreadPool(o.threads());
        Throwable failure = null;
        try {
            for (epoch = firstEpoch; epoch < o.epochs() && stale < o.patience(); epoch++) {
                // One generator per epoch: a resumed run draws exactly the windows the uninterrupted one would.
                int[] order = sampleOrder(train.size(), perEpoch, new SplittableRandom(o.seed() * 1_000_003L + epoch));
                for (int b = 0; b < order.length; b += o.batchSize()) {
                    int[] batch = java.util.Arrays.copyOfRange(order, b, Math.min(order.length, b + o.batchSize()));
                    double loss = batchGradients(model, workers, pool, train, batch);
                    double norm = AdamW.clipGlobalNorm(trainedGrads, o.clipNorm());
                    if (Double.isFinite(norm)) {
                        adam.step(trainedParams, trainedGrads,
                                AdamW.learningRate(adam.steps(), warmup, totalSteps, o.learningRate(), 0.05));
                    } else if (skippedSteps++ == 0) {
                        // One NaN would reach every parameter through AdamW and silently end the run at the start.
                        LOG.warn("a batch's gradient is not finite (norm {}); its step is skipped", norm);
                    }
                    samples += batch.length;
                    progress.update(epoch, o.epochs(), adam.steps(), totalSteps, loss, Double.NaN,
                            samples / ((System.nanoTime() - started) / 1e9));
                }
                double valMse = validationMse(model, val);
                if (valMse < bestVal) {
                    bestVal = valMse;
                    bestEpoch = epoch;
                    best = copy(model.parameters());
                    stale = 0;
                } else {
                    stale++;
                }
                progress.update(epoch, o.epochs(), adam.steps(), totalSteps, Double.NaN, valMse,
                        samples / ((System.nanoTime() - started) / 1e9));
                if (o.checkpoint() != null) {
                    new Checkpoint(runKey, epoch + 1, adam.steps(), bestVal, bestEpoch, stale, samples, copy(model.parameters()),
                            best, adam.firstMoments(), adam.secondMoments()).write(o.checkpoint());
                }
            }
        } catch (Throwable t) {
            failure = t;
            throw t;
        } finally {
            pool.shutdownNow();
            try {
                close(); // the resident GPU steps (if any) are released here, not at JVM exit
            } catch (RuntimeException e) {
                if (failure == null) throw e;
                failure.addSuppressed(e);
            }
        }
        for (var e : best.entrySet()) {
            System.arraycopy(e.getValue(), 0, model.parameters().get(e.getKey()), 0, e.getValue().length);
        }
        return new Result(bestVal, bestEpoch, epoch, samples / ((System.nanoTime() - started) / 1e9), adam.steps());
    }

    /**
     * Releases the fp32 backend's GPU resources (the resident training steps of {@code --backend cuda}); idempotent,
     * and a no-op for the double trainer and without a GPU. {@link #train} calls it when it ends.
     */
    @Override
    public void close() {
        if (fp32 != null) fp32.close();
    }

    /** Resident GPU training steps held now (0 without a GPU, and after {@link #close} or {@link #train}). */
    int residentSteps() {
        return fp32 == null ? 0 : fp32.residentSteps();
    }

    /** Ridge of the readout's closed-form start, per training row (the fit is insensitive to it below ~1e-2). */
    static final double READOUT_RIDGE = 1e-4;

    /** A model with a readout that is still all zero has not been fitted: it starts at the linear forecaster. */
    /**
     * The closed-form start of a model with a lag readout, in place: the readout's ridge fit ({@code ReadoutFit}),
     * and with a seasonal cycle one round of the alternating fit (the cycle for that readout, then the readout for
     * that cycle). Under the Huber loss the fits are its reweighted least squares.
     */
    public void fitLinearStart(TrainableModel model, List<Window> train) {
        boolean scaled = options.loss().scaled();
        double delta = options.loss() == TrainableModel.Loss.SCALED_HUBER ? options.huberDelta() : 0;
        io.sidewinder.trainer.ReadoutFit.fit(model, data, train, READOUT_RIDGE, scaled, delta);
        if (model.config().cycleLength() > 0) {
            // One round: on ETTh1-96 three rounds scored validation 0.6887 vs 0.6878 (RESIDUAL), 0.6960 vs 0.6976
            // (NORMALISED) and test 0.3714 vs 0.3711 (RESIDUAL) — not worth three times the start's cost.
            io.sidewinder.trainer.CycleFit.fit(model, data, train, READOUT_RIDGE, scaled, delta);
            io.sidewinder.trainer.ReadoutFit.fit(model, data, train, READOUT_RIDGE, scaled, delta);
        }
    }

    /**
     * Each single readout form's closed-form start scored on the validation sample, and the form to train. The forms
     * are tried in the order {@link #CHOSEN_AMONG} (NORMALISED, RESIDUAL, LAST_VALUE): each replaces the form chosen so
     * far only when its gain over that form (the paired per-window difference of squared errors, averaged) exceeds
     * {@value #FORM_CHOICE_STANDARD_ERRORS} standard errors of that mean, so that a difference the validation sample
     * cannot tell from noise keeps the earlier form. On ETTh1-96 M, LAST_VALUE's start beats RESIDUAL's by 0.0004 on
     * validation — noise — and trained worse on test (0.3721 vs 0.3713, seed 1); on ETTh1 S it beats NORMALISED by
     * seven standard errors.
     *
     * @param validationMse per form, the closed-form start's validation MSE
     * @param gains per centred form, its gain over the form chosen before it was tried
     */
    public record FormChoice(EnumMap<ReadoutForm, Double> validationMse, EnumMap<ReadoutForm, Gain> gains,
                             ReadoutForm chosen) {}

    /**
     * @param over the form this gain is measured against: the one chosen before this form was tried
     * @param mean {@code over}'s MSE less the form's, per window averaged (> 0: the form is better)
     * @param standardError the standard error of {@code mean}
     */
    public record Gain(ReadoutForm over, double mean, double standardError) {
        /** True when the gain clears {@value #FORM_CHOICE_STANDARD_ERRORS} standard errors and {@code tie}. */
        boolean clears(double tie) {
            return mean > Math.max(FORM_CHOICE_STANDARD_ERRORS * standardError, tie);
        }
    }

    /** Standard errors by which a form's validation gain must clear zero for {@link #chooseReadoutForm} to take it. */
    public static final double FORM_CHOICE_STANDARD_ERRORS = 2;

    /** The single forms {@link #chooseReadoutForm} scores, in the order it tries them; the first is the default. */
    static final ReadoutForm[] CHOSEN_AMONG = {ReadoutForm.NORMALISED, ReadoutForm.RESIDUAL, ReadoutForm.LAST_VALUE};

    /** See {@link FormChoice}; the sample is {@link #validationSample} of {@code allVal}. */
    public FormChoice chooseReadoutForm(ModelConfig config, List<Window> train, List<Window> allVal) {
        if (config.readoutLags() == 0) throw new IllegalArgumentException("the model has no lag readout");
        List<Window> val = validationSample(allVal);
        EnumMap<ReadoutForm, Double> mse = new EnumMap<>(ReadoutForm.class);
        EnumMap<ReadoutForm, double[][]> perWindow = new EnumMap<>(ReadoutForm.class);
        for (ReadoutForm form : CHOSEN_AMONG) {
            TrainableModel model = new TrainableModel(ModelParameters.initialise(
                    config.withReadoutForm(form).withMembers(1), options.seed()));
            fitLinearStart(model, train);
            double[][] e = validationErrors(model, val);
            perWindow.put(form, e);
            mse.put(form, pooled(e));
        }
        // Where two forms are the same model (e.g. RESIDUAL without a cycle and with a normaliser over exactly the
        // lags) only rounding separates them.
        double tie = 1e-9 * mse.get(ReadoutForm.NORMALISED);
        EnumMap<ReadoutForm, Gain> gains = new EnumMap<>(ReadoutForm.class);
        ReadoutForm chosen = CHOSEN_AMONG[0];
        for (int i = 1; i < CHOSEN_AMONG.length; i++) {
            ReadoutForm form = CHOSEN_AMONG[i];
            Gain g = pairedGain(chosen, perWindow.get(chosen), perWindow.get(form));
            gains.put(form, g);
            if (g.clears(tie)) chosen = form;
        }
        return new FormChoice(mse, gains, chosen);
    }

    /** The mean per-window gain of b over a, form {@code over} ({@link #validationErrors}: [squared error sum][count] per window). */
    private static Gain pairedGain(ReadoutForm over, double[][] a, double[][] b) {
        double sum = 0, sumSq = 0;
        int n = 0;
        for (int i = 0; i < a[0].length; i++) {
            if (a[1][i] == 0) continue;
            double d = (a[0][i] - b[0][i]) / a[1][i]; // the window's mean squared error, a less b
            sum += d;
            sumSq += d * d;
            n++;
        }
        double gain = n == 0 ? 0 : sum / n;
        double se = n < 2 ? Double.POSITIVE_INFINITY : Math.sqrt(Math.max(0, (sumSq - n * gain * gain) / (n - 1)) / n);
        return new Gain(over, gain, se);
    }

    /** Whether any training window holds a gap other than the model's reference (after clamping): a log-gap ≠ 0. */
    static boolean gapsVary(ModelConfig c, List<Windows.Series> data, List<Windows.Window> train) {
        int[] from = new int[data.size()], to = new int[data.size()];
        java.util.Arrays.fill(from, Integer.MAX_VALUE);
        for (Windows.Window w : train) {   // windows overlap: scan each series' covered rows once
            from[w.series()] = Math.min(from[w.series()], w.start());
            to[w.series()] = Math.max(to[w.series()], w.start() + w.length());
        }
        for (int i = 0; i < data.size(); i++) {
            long[] t = data.get(i).times();
            for (int r = Math.max(1, from[i] + 1); r < to[i]; r++) {
                if (c.gap().ratio(t[r] - t[r - 1]) != 1f) return true;
            }
        }
        return false;
    }

    /**
     * Zeroes the embedding's log-gap column. Trained on evenly spaced data the feature is always 0, so the column
     * gets no gradient and would keep its random start: a sensor served at another cadence would then feed a
     * random direction into the model. Zero, the gap reaches the model only through Δ's scaling, the part that
     * holds for any cadence. Training is unchanged (the column multiplies zeros).
     */
    static void zeroGapEmbedding(TrainableModel model) {
        ModelConfig c = model.config();
        double[] w = model.parameters().get("embed.weight");
        int in = c.inputWidth();
        for (int row = 0; row < c.dModel(); row++) w[row * in + c.channels()] = 0;
    }

    private static boolean startsFromTheLinearForecaster(TrainableModel model) {
        if (model.config().readoutLags() == 0) return false;
        for (double w : model.parameters().get(io.sidewinder.ssm.LagReadout.WEIGHT)) if (w != 0) return false;
        return true;
    }

    /** The model's readout offset b [H][C] (series' units), or null in a form without one. */
    private static double[] offset(TrainableModel model) {
        return model.parameters().get(io.sidewinder.ssm.LagReadout.OFFSET);
    }

    /** The model's seasonal cycle Q, or null without one. */
    private static double[] cycle(TrainableModel model) {
        return model.config().cycleLength() > 0 ? model.parameters().get(io.sidewinder.ssm.SeasonalCycle.WEIGHT) : null;
    }

    private static int[] sampleOrder(int size, int count, SplittableRandom rnd) {
        int[] idx = new int[size];
        for (int i = 0; i < size; i++) idx[i] = i;
        for (int i = size - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1);
            int t = idx[i];
            idx[i] = idx[j];
            idx[j] = t;
        }
        return java.util.Arrays.copyOf(idx, count);
    }

    /** Mean-loss gradients of a batch into model.gradients(); returns the batch's mean element loss. */
    private double batchGradients(TrainableModel model, TrainableModel[] workers, ExecutorService pool,
                                  List<Window> windows, int[] batch) throws Exception {
        int threads = workers.length;
        List<Future<double[]>> parts = new ArrayList<>();
        // Element counts first, so every window's gradient is scaled by the batch's total count.
        Sample[] samples = new Sample[batch.length];
        double count = 0;
        for (int i = 0; i < batch.length; i++) {
            Window w = windows.get(batch[i]);
            samples[i] = Windows.sample(model.config(), cycle(model), offset(model), data.get(w.series()), w);
            for (double t : samples[i].targets()) if (!Double.isNaN(t)) count++;
        }
        double scale = 1 / Math.max(1, count);
        if (fp32 != null) {
            int[] lengths = new int[batch.length];
            for (int i = 0; i < batch.length; i++) lengths[i] = windows.get(batch[i]).length();
            return fp32.compute(model, samples, lengths, options.loss(), scale) / Math.max(1, count);
        }
        for (int k = 0; k < threads; k++) {
            int worker = k;
            parts.add(pool.submit(() -> {
                TrainableModel m = workers[worker];
                m.zeroGradients();
                double sum = 0;
                for (int i = worker; i < batch.length; i += threads) {
                    Sample s = samples[i];
                    sum += m.lossAndGradients(s.x(), s.gaps(), s.lags(), s.std(), windows.get(batch[i]).length(), s.targets(),
                            options.loss(), null, scale, null, null)[0];
                }
                return new double[] {sum};
            }));
        }
        model.zeroGradients();
        double loss = 0;
        for (int k = 0; k < threads; k++) {
            loss += parts.get(k).get()[0];
            for (var e : model.gradients().entrySet()) {
                double[] g = e.getValue(), wg = workers[k].gradients().get(e.getKey());
                for (int i = 0; i < g.length; i++) g[i] += wg[i];
            }
        }
        return loss / Math.max(1, count);
    }

    /**
     * MSE, in the series' own units, of the forecast made at each window's last position against the H rows
     * after the window (the published protocol's metric when the series are z-scored).
     */
    public double validationMse(TrainableModel model, List<Window> windows) {
        return pooled(validationErrors(model, windows));
    }

    private static double pooled(double[][] errors) {
        double se = 0, n = 0;
        for (int i = 0; i < errors[0].length; i++) {
            se += errors[0][i];
            n += errors[1][i];
        }
        return se / Math.max(1, n);
    }

    /** Per window: [0] the sum of squared errors of {@link #validationMse}'s forecast, [1] their count. */
    private double[][] validationErrors(TrainableModel model, List<Window> windows) {
        int ch = model.config().channels(), h = model.config().horizon(), hw = model.config().headWidth();
        Sample[] samples = new Sample[windows.size()];
        int[] lengths = new int[windows.size()];
        double[] cycle = cycle(model), offset = offset(model);
        for (int i = 0; i < samples.length; i++) {
            samples[i] = Windows.sample(model.config(), cycle, offset, data.get(windows.get(i).series()), windows.get(i));
            lengths[i] = windows.get(i).length();
        }
        // The fp32 trainer validates through its own fp32 forward; the double trainer through the double model.
        double[][] fp32Heads = fp32 == null ? null : fp32.lastPositionHeads(model, samples, lengths);
        double[][] errors = new double[2][samples.length];
        for (int wi = 0; wi < samples.length; wi++) {
            Window w = windows.get(wi);
            Series s = data.get(w.series());
            Sample smp = samples[wi];
            double[] head;
            int t = w.length() - 1, base;
            if (fp32Heads != null) {
                head = fp32Heads[wi];
                base = 0;
            } else {
                head = model.forward(smp.x(), smp.gaps(), w.length(), null).head;
                model.addReadout(smp.lags(), w.length(), head);
                base = t * hw;
            }
            for (int i = 0; i < h; i++) {
                int row = w.start() + w.length() + i;
                if (row >= w.targetLimit() || row >= s.rows()) continue;
                for (int k = 0; k < ch; k++) {
                    double pred = smp.denormalise(t, k, head[base + i * ch + k],
                            Windows.cycleMean(model.config(), cycle, w.series(), s.times()[row - 1 - i], i, k)
                                    + (offset == null ? 0 : offset[i * ch + k]));
                    double e = pred - s.values()[row][k];
                    errors[0][wi] += e * e;
                    errors[1][wi]++;
                }
            }
        }
        return errors;
    }

    private static Map<String, double[]> copy(Map<String, double[]> m) {
        Map<String, double[]> c = new HashMap<>();
        m.forEach((k, v) -> c.put(k, v.clone()));
        return c;
    }
}
