package io.sidewinder.trainer;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sidewinder.ssm.Forecaster;
import io.sidewinder.ssm.MambaModel;
import io.sidewinder.ssm.ModelConfig;
import io.sidewinder.ssm.ModelParameters;
import io.sidewinder.ssm.StreamState;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class HeadFitTest {
    static final ModelConfig CFG = ModelConfig.defaults(1).withShape(32, 2, 16, 4);

    static HeadFit.Sequence sine(int len, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        long[] t = new long[len];
        float[][] v = new float[len][1];
        long now = 0;
        for (int i = 0; i < len; i++) {
            now += 1000;
            t[i] = now;
            v[i][0] = (float) (10 + 3 * Math.sin(2 * Math.PI * i / 40.0) + 0.1 * r.nextGaussian());
        }
        return new HeadFit.Sequence(t, v);
    }

    @Test
    void fittedHeadForecastsAPeriodicSignalFarBetterThanTheRunningMean() {
        ModelParameters p = ModelParameters.initialise(CFG, 1);
        double trainMse = HeadFit.fit(p, List.of(sine(3000, 1), sine(3000, 2)), 1e-4);
        assertTrue(trainMse < 0.2, "training MSE in normalised units: " + trainMse);

        Forecaster f = new Forecaster(new MambaModel(p));
        HeadFit.Sequence test = sine(1500, 3);
        StreamState s = StreamState.fresh(CFG);
        double errModel = 0, errMean = 0;
        int n = 0;
        for (int i = 0; i < 1499; i++) {
            Forecaster.Prediction pr = f.advance(s, test.eventTimes()[i], test.values()[i]);
            if (i >= 500) {
                double next = test.values()[i + 1][0];
                errModel += Math.pow(pr.mean(0, 0) - next, 2);
                errMean += Math.pow(s.normalizer().mean(0) - next, 2);
                n++;
            }
        }
        assertTrue(errModel / n < 0.1 * errMean / n,
                "one-step MSE " + errModel / n + " vs running mean " + errMean / n);
    }
}
