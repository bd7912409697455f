package io.sidewinder.trainer.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sidewinder.ssm.CausalNormalizer;
import io.sidewinder.ssm.ModelConfig;
import io.sidewinder.ssm.ModelParameters;
import io.sidewinder.trainer.grad.TrainableModel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ForecastTrainerTest {
    static final ModelConfig CFG = ModelConfig.defaults(1).withShape(8, 1, 4, 4).withNormalizer(2000, 0.1);

    static Windows.Series sine(int rows, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        long[] t = new long[rows];
        float[][] v = new float[rows][1];
        for (int i = 0; i < rows; i++) {
            t[i] = i * 1000L;
            v[i][0] = (float) (Math.sin(2 * Math.PI * i / 24.0) + 0.05 * r.nextGaussian());
        }
        return new Windows.Series(t, v);
    }

    static List<Windows.Window> windows(int from, int to, int length) {
        List<Windows.Window> w = new ArrayList<>();
        for (int s = from; s + length + 4 <= to; s += 3) w.add(new Windows.Window(0, s, length, to));
        return w;
    }

    static ForecastTrainer.Options options(int epochs) {
        return new ForecastTrainer.Options(epochs, 8, 1e-2, 0.01, 1.0, 0.1, 10, 7, 2, 64, TrainableModel.Loss.MSE);
    }

    static final ForecastTrainer.Progress QUIET = (e, es, s, ss, l, v, sps) -> { };

    @Test
    void trainingCutsTheValidationErrorOfAPeriodicSignal() throws Exception {
        List<Windows.Series> data = List.of(sine(1200, 1));
        ForecastTrainer trainer = new ForecastTrainer(data, options(6));
        TrainableModel model = new TrainableModel(ModelParameters.initialise(CFG, 3));
        List<Windows.Window> val = windows(900, 1200, 48);
        double before = trainer.validationMse(model, val);
        ForecastTrainer.Result r = trainer.train(model, windows(0, 900, 48), val, QUIET);
        assertTrue(r.bestValidationMse() < 0.3 * before, "validation MSE " + before + " -> " + r.bestValidationMse());
        assertEquals(r.bestValidationMse(), trainer.validationMse(model, val), 1e-12, "the best parameters are kept");
    }

    @Test
    void trainingStopsAfterPatienceEpochsWithoutABetterValidationError() throws Exception {
        List<Windows.Series> data = List.of(sine(600, 1));
        // A zero learning rate never moves the parameters, so no epoch beats the start and each one is stale.
        ForecastTrainer.Options o = options(10).withLearningRate(0).withPatience(3);
        ForecastTrainer.Result r = new ForecastTrainer(data, o).train(new TrainableModel(ModelParameters.initialise(CFG, 3)),
                windows(0, 450, 40), windows(450, 600, 40), QUIET);
        assertEquals(3, r.epochsRun());
        assertEquals(-1, r.bestEpoch(), "the start stays the best");
        assertThrows(IllegalArgumentException.class, () -> o.withPatience(0));
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.EnumSource(value = io.sidewinder.ssm.ReadoutForm.class, names = {"NORMALISED", "RESIDUAL", "LAST_VALUE"})
    void theLastPositionShortcutEqualsTheFullSampleThere(io.sidewinder.ssm.ReadoutForm form) {
        ModelConfig cfg = ModelConfig.defaults(2).withShape(8, 1, 4, 5).withReadoutLags(30).withReadoutForm(form);
        SplittableRandom r = new SplittableRandom(4);
        long[] t = new long[200];
        float[][] v = new float[200][2];
        for (int i = 0; i < t.length; i++) {
            t[i] = 1000L * i;
            v[i][0] = (float) r.nextGaussian();
            v[i][1] = (float) (100 + 5 * r.nextGaussian());
        }
        Windows.Series s = new Windows.Series(t, v);
        for (Windows.Window w : List.of(new Windows.Window(0, 10, 48, 200), new Windows.Window(0, 150, 20, 163))) {
            Windows.Sample full = Windows.sample(cfg, s, w);
            Windows.LastPosition last = Windows.last(cfg, s, w);
            int p = w.length() - 1, ch = 2;
            assertArrayEquals(java.util.Arrays.copyOfRange(full.lags(), p * 30 * ch, (p + 1) * 30 * ch), last.lags());
            assertArrayEquals(java.util.Arrays.copyOfRange(full.targets(), p * 5 * ch, (p + 1) * 5 * ch), last.targets());
            assertArrayEquals(full.std()[p], last.std());
        }
    }

    @Test
    void aModelWithAReadoutStartsAtItsRidgeFitAndKeepsThatStartWhenNoEpochBeatsIt() throws Exception {
        ModelConfig cfg = CFG.withReadoutLags(24);
        List<Windows.Series> data = List.of(sine(1200, 1));
        List<Windows.Window> train = windows(0, 900, 48), val = windows(900, 1200, 48);
        for (ForecastTrainer.Precision precision : ForecastTrainer.Precision.values()) {
            ForecastTrainer trainer = new ForecastTrainer(data, options(3).withPrecision(precision));
            TrainableModel untrained = new TrainableModel(ModelParameters.initialise(cfg, 3));
            double before = trainer.validationMse(untrained, val);
            TrainableModel ridgeOnly = new TrainableModel(ModelParameters.initialise(cfg, 3));
            double fitMse = io.sidewinder.trainer.ReadoutFit.fit(ridgeOnly, data, train, ForecastTrainer.READOUT_RIDGE, false);
            double ridgeVal = trainer.validationMse(ridgeOnly, val);
            // A noisy sine one period back is nearly the next one: the linear start alone is already close.
            assertTrue(fitMse < 0.05, "ridge fit MSE " + fitMse);
            assertTrue(ridgeVal < 0.05 * before, precision + ": untrained " + before + ", ridge start " + ridgeVal);
            // A zero learning rate never moves the parameters, so no epoch beats the start: the result must be the
            // ridge start itself, scored on the trainer's validation sample and kept as the best (epoch -1).
            double ridgeSampleVal = trainer.validationMse(ridgeOnly, ForecastTrainer.validationSample(val));
            ForecastTrainer frozenTrainer = new ForecastTrainer(data, options(3).withPrecision(precision).withLearningRate(0));
            TrainableModel model = new TrainableModel(ModelParameters.initialise(cfg, 3));
            ForecastTrainer.Result r = frozenTrainer.train(model, train, val, QUIET);
            // Evenly spaced readings: the trainer zeroes the log-gap column it can never train (it multiplies zeros).
            assertTrue(!ForecastTrainer.gapsVary(cfg, data, train));
            ForecastTrainer.zeroGapEmbedding(ridgeOnly);
            ridgeOnly.parameters().forEach((k, v) -> assertArrayEquals(v, model.parameters().get(k), 0, precision + ": " + k));
            if (precision == ForecastTrainer.Precision.DOUBLE) {
                assertEquals(-1, r.bestEpoch(), precision + ": the start is the best");
                assertEquals(ridgeSampleVal, r.bestValidationMse(), 1e-12, precision + ": the start's validation MSE is the ridge fit's");
            } else {
                // fp32 validation may differ in the last bits between interpreted and JIT-compiled SIMD code, so an
                // epoch may tie the start within rounding (the parameters above are the start's all the same).
                assertEquals(ridgeSampleVal, r.bestValidationMse(), 1e-5 * ridgeSampleVal, precision + ": the start's validation MSE is the ridge fit's");
            }
        }
    }

    @Test
    void theFp32BackendTrainsLikeTheDoubleOne() throws Exception {
        List<Windows.Series> data = List.of(sine(1200, 1));
        List<Windows.Window> train = windows(0, 900, 48), val = windows(900, 1200, 48);
        double[] mse = new double[2];
        for (int backend = 0; backend < 2; backend++) {
            ForecastTrainer trainer = new ForecastTrainer(data, backend == 1
                    ? options(6).withPrecision(ForecastTrainer.Precision.FP32) : options(6));
            TrainableModel model = new TrainableModel(ModelParameters.initialise(CFG, 3));
            double before = trainer.validationMse(model, val);
            mse[backend] = trainer.train(model, train, val, QUIET).bestValidationMse();
            assertTrue(mse[backend] < 0.3 * before, "backend " + backend + ": validation MSE " + before + " -> " + mse[backend]);
        }
        // Same seed, same windows: fp32 rounding may move the path a little, not the outcome.
        assertEquals(mse[0], mse[1], 0.15 * mse[0], "double vs fp32 best validation MSE");
    }

    @Test
    void theSameSeedAndThreadCountGiveTheSameModel() throws Exception {
        List<Windows.Series> data = List.of(sine(600, 2));
        Map<String, double[]> a = trainOnce(data, options(2));
        Map<String, double[]> b = trainOnce(data, options(2));
        a.forEach((k, v) -> assertArrayEquals(v, b.get(k), 0, k));
    }

    static Map<String, double[]> trainOnce(List<Windows.Series> data, ForecastTrainer.Options o) throws Exception {
        TrainableModel m = new TrainableModel(ModelParameters.initialise(CFG, 3));
        new ForecastTrainer(data, o).train(m, windows(0, 450, 40), windows(450, 600, 40), QUIET);
        Map<String, double[]> copy = new HashMap<>();
        m.parameters().forEach((k, v) -> copy.put(k, v.clone()));
        return copy;
    }

    @Test
    void aRunResumedFromItsCheckpointEndsWhereAnUninterruptedRunEnds(@TempDir Path dir) throws Exception {
        List<Windows.Series> data = List.of(sine(600, 4));
        Map<String, double[]> uninterrupted = trainOnce(data, options(3));
        Path cp = dir.resolve("train.ckpt");
        ForecastTrainer.Options o = options(3).withCheckpoint(cp);
        TrainableModel m = new TrainableModel(ModelParameters.initialise(CFG, 3));
        ForecastTrainer.Progress crashInThirdEpoch = (e, es, s, ss, loss, v, sps) -> {
            if (e == 2 && !Double.isNaN(loss)) throw new IllegalStateException("simulated crash");
        };
        assertThrows(IllegalStateException.class,
                () -> new ForecastTrainer(data, o).train(m, windows(0, 450, 40), windows(450, 600, 40), crashInThirdEpoch));
        TrainableModel resumed = new TrainableModel(ModelParameters.initialise(CFG, 99)); // overwritten by the checkpoint
        new ForecastTrainer(data, o).train(resumed, windows(0, 450, 40), windows(450, 600, 40), QUIET);
        uninterrupted.forEach((k, v) -> assertArrayEquals(v, resumed.parameters().get(k), 0, k));
    }

    @Test
    void aCheckpointOfAnotherRunIsRefusedNamingWhatDiffers(@TempDir Path dir) throws Exception {
        List<Windows.Series> data = List.of(sine(600, 4));
        Path cp = dir.resolve("train.ckpt");
        new ForecastTrainer(data, options(1).withCheckpoint(cp)).train(new TrainableModel(ModelParameters.initialise(CFG, 3)),
                windows(0, 450, 40), windows(450, 600, 40), QUIET);
        ForecastTrainer.Options moreEpochs = options(2).withCheckpoint(cp);
        var e = assertThrows(java.io.IOException.class, () -> new ForecastTrainer(data, moreEpochs).train(
                new TrainableModel(ModelParameters.initialise(CFG, 3)), windows(0, 450, 40), windows(450, 600, 40), QUIET));
        assertTrue(e.getMessage().contains("epochs=1") && e.getMessage().contains("epochs=2"), e.getMessage());
    }

    @Test
    void aCheckpointOfTheSameOptionsOnOtherDataIsRefused(@TempDir Path dir) throws Exception {
        Path cp = dir.resolve("train.ckpt");
        ForecastTrainer.Options o = options(1).withCheckpoint(cp);
        new ForecastTrainer(List.of(sine(600, 4)), o).train(new TrainableModel(ModelParameters.initialise(CFG, 3)),
                windows(0, 450, 40), windows(450, 600, 40), QUIET);
        // A topic read again later: the same command, other readings. Resuming would return the old model.
        var e = assertThrows(java.io.IOException.class, () -> new ForecastTrainer(List.of(sine(600, 5)), o).train(
                new TrainableModel(ModelParameters.initialise(CFG, 3)), windows(0, 450, 40), windows(450, 600, 40), QUIET));
        assertTrue(e.getMessage().contains("belongs to another run") && e.getMessage().contains("crc"), e.getMessage());
    }

    @Test
    void aDamagedCheckpointIsRefusedNotResumedFromZeros(@TempDir Path dir) throws Exception {
        List<Windows.Series> data = List.of(sine(600, 4));
        Path cp = dir.resolve("train.ckpt");
        ForecastTrainer.Options o = options(1).withCheckpoint(cp);
        new ForecastTrainer(data, o).train(new TrainableModel(ModelParameters.initialise(CFG, 3)),
                windows(0, 450, 40), windows(450, 600, 40), QUIET);
        byte[] bytes = java.nio.file.Files.readAllBytes(cp);
        java.util.Arrays.fill(bytes, bytes.length / 2, bytes.length / 2 + 64, (byte) 0);   // what a power loss leaves
        java.nio.file.Files.write(cp, bytes);
        var e = assertThrows(java.io.IOException.class, () -> new ForecastTrainer(data, o).train(
                new TrainableModel(ModelParameters.initialise(CFG, 3)), windows(0, 450, 40), windows(450, 600, 40), QUIET));
        assertTrue(e.getMessage().contains("damaged"), e.getMessage());
    }

    @Test
    void targetsAreTheNextReadingsNormalisedByTheStatisticsAtTheirPosition() {
        Windows.Series s = sine(200, 5);
        Windows.Window w = new Windows.Window(0, 10, 40, 60);
        Windows.Sample smp = Windows.sample(CFG, s, w);
        CausalNormalizer norm = CausalNormalizer.forConfig(CFG);
        for (int t = 0; t < 40; t++) {
            norm.update(s.values()[10 + t]);
            for (int i = 0; i < 4; i++) {
                double target = smp.targets()[t * 4 + i];
                int row = 10 + t + 1 + i;
                if (t < Windows.MIN_CONTEXT || row >= 60) {
                    assertTrue(Double.isNaN(target), "no target at t=" + t + " i=" + i);
                } else {
                    assertEquals((s.values()[row][0] - norm.mean(0)) / norm.std(0), target, 1e-12);
                }
            }
        }
    }

    @Test
    void adamWFollowsItsUpdateRuleAndSkipsDecayWhereMambaDoes() {
        AdamW adam = new AdamW(0.9, 0.999, 1e-8, 0.1);
        Map<String, double[]> p = new HashMap<>(Map.of("layers.0.in_proj.weight", new double[] {1.0},
                "layers.0.A_log", new double[] {1.0}));
        Map<String, double[]> g = Map.of("layers.0.in_proj.weight", new double[] {0.5}, "layers.0.A_log", new double[] {0.5});
        adam.step(p, g, 0.01);
        // First step: m̂ = g, v̂ = g², so the Adam part is lr·sign(g) (up to eps); decay adds lr·wd·p.
        assertEquals(1.0 - 0.01 * (1 + 0.1), p.get("layers.0.in_proj.weight")[0], 1e-9);
        assertEquals(1.0 - 0.01, p.get("layers.0.A_log")[0], 1e-9);
        assertTrue(!AdamW.DECAYED.test("layers.1.dt_proj.bias") && !AdamW.DECAYED.test("layers.1.D")
                && !AdamW.DECAYED.test("norm_f.weight") && AdamW.DECAYED.test("head.weight"));
    }

    @Test
    void learningRateWarmsUpThenFollowsACosine() {
        assertEquals(0.1, AdamW.learningRate(0, 10, 110, 1.0, 0.0), 1e-12);
        assertEquals(1.0, AdamW.learningRate(10, 10, 110, 1.0, 0.0), 1e-12);
        assertEquals(0.5, AdamW.learningRate(60, 10, 110, 1.0, 0.0), 1e-12);
        assertEquals(0.05, AdamW.learningRate(110, 10, 110, 1.0, 0.05), 1e-12);
        Map<String, double[]> grads = Map.of("a", new double[] {3, 4});
        assertEquals(5, AdamW.clipGlobalNorm(grads, 1), 1e-12);
        assertArrayEquals(new double[] {0.6, 0.8}, grads.get("a"), 1e-12);
    }
}
