package io.sidewinder.trainer.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sidewinder.ssm.ModelConfig;
import io.sidewinder.ssm.ModelParameters;
import io.sidewinder.trainer.grad.TrainableModel;
import io.sidewinder.trainer.train.ForecastTrainer;
import io.sidewinder.trainer.train.Windows;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class HoldoutExperimentTest {

    static Windows.Series noisySine(int rows, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        long[] t = new long[rows];
        float[][] v = new float[rows][1];
        for (int i = 0; i < rows; i++) {
            t[i] = i * 60_000L;
            v[i][0] = (float) (50 + 5 * Math.sin(2 * Math.PI * i / 30.0) + r.nextGaussian());
        }
        return new Windows.Series(t, v);
    }

    @Test
    void theServedValidationMseOfAModelIsTheOneItsTrainingReported() throws Exception {
        HoldoutExperiment exp = new HoldoutExperiment(List.of(noisySine(700, 1), noisySine(500, 2)), 48);
        ModelConfig c = exp.modelConfig(ModelConfig.defaults(1).withShape(8, 1, 4, 6).withReadoutLags(12), 6);
        ForecastTrainer.Options o = ForecastTrainer.Options.defaults().withEpochs(2).withSamplesPerEpoch(128)
                .withThreads(1).withLoss(TrainableModel.Loss.MSE).withPrecision(ForecastTrainer.Precision.FP32);
        TrainableModel model = new TrainableModel(ModelParameters.initialise(c, 3));
        ForecastTrainer.Result r = exp.train(model, o, (e, es, s, ss, l, v, sps) -> { });
        double served = exp.validationMse(model.toParameters());
        assertTrue(served > 0);
        // the same windows and metric, the trainer's fp32 forward against the served one
        assertEquals(r.bestValidationMse(), served, 1e-4 * r.bestValidationMse());
    }

    @Test
    void theModelConfigNormalisesOverTheLookbackAndScalesGapsByTheMedianSpacing() {
        ModelConfig base = ModelConfig.defaults(3).withNormalizer(2000, 0.25);
        for (int lookback : new int[] {48, 30}) {
            HoldoutExperiment exp = new HoldoutExperiment(List.of(noisySine(700, 1)), lookback);
            ModelConfig c = exp.modelConfig(base, 6);
            // Each training window starts a normaliser over its own readings: the served one must cover as many.
            assertEquals(lookback, c.normalizerWindow(), "normaliser window, lookback " + lookback);
            assertEquals(0.25, c.normalizerMinStd(), "the base's minimum σ is kept");
            assertEquals(60_000L, c.gap().referenceMillis(), "gap reference: the readings' median spacing");
            assertEquals(1, c.channels(), "univariate");
            assertEquals(6, c.horizon());
        }
    }

    @Test
    void dataTooShortForAWindowIsRefusedWithTheRowsItNeedsBeforeAModelIsBuilt() {
        int lookback = 24, horizon = 20;
        long need = HoldoutExperiment.rowsNeeded(lookback, horizon);
        // The rows named are exactly enough: one fewer leaves no training or no validation window.
        new HoldoutExperiment(List.of(noisySine((int) need, 1)), lookback).requireWindows(horizon);
        var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> new HoldoutExperiment(List.of(noisySine((int) need - 1, 1)), lookback)
                        .modelConfig(ModelConfig.defaults(1), horizon));
        assertTrue(e.getMessage().contains("need " + need + " per sensor, the longest series has " + (need - 1)),
                e.getMessage());
        // Validation needs H rows after the 80 % cut: a long horizon sets the minimum, not L + H.
        assertEquals(496, HoldoutExperiment.rowsNeeded(10, 100));   // 496 − floor(0.8 · 496) = 100
        var empty = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> new HoldoutExperiment(List.of(noisySine(0, 1)), lookback).requireWindows(horizon));
        assertTrue(empty.getMessage().contains("no usable readings"), empty.getMessage());
    }

    @Test
    void trainedOnEvenlySpacedReadingsTheModelIgnoresTheLogGapFeatureItNeverSaw() throws Exception {
        Windows.Series even = noisySine(400, 1);
        long[] jittered = even.times().clone();
        for (int i = 1; i < jittered.length; i++) jittered[i] = jittered[i - 1] + (i % 7 == 0 ? 150_000L : 60_000L);
        Windows.Series uneven = new Windows.Series(jittered, even.values());
        for (boolean regular : new boolean[] {true, false}) {
            HoldoutExperiment exp = new HoldoutExperiment(List.of(regular ? even : uneven), 24);
            ModelConfig c = exp.modelConfig(ModelConfig.defaults(1).withShape(8, 1, 4, 4).withReadoutLags(0), 4);
            TrainableModel model = new TrainableModel(ModelParameters.initialise(c, 5));
            exp.train(model, ForecastTrainer.Options.defaults().withEpochs(1).withSamplesPerEpoch(32).withThreads(1)
                    .withLoss(TrainableModel.Loss.MSE), (e, es, s, ss, l, v, sps) -> { });
            float[] embed = model.toParameters().data("embed.weight");
            double column = 0;
            for (int row = 0; row < c.dModel(); row++) column += Math.abs(embed[row * c.inputWidth() + c.channels()]);
            if (regular) {
                assertEquals(0.0, column, "a column fed only zeros keeps no random start to serve other cadences with");
            } else {
                assertTrue(column > 0, "gaps that vary train the column");
            }
        }
    }
}
