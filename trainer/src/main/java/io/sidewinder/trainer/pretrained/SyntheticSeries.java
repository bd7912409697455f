package io.sidewinder.trainer.pretrained;

import io.sidewinder.trainer.HeadFit;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Generated univariate histories of the shapes sensors produce — mean-reverting noise, random walks,
 * seasonal cycles, level steps, spikes, quantised readings — for pretraining a general univariate model that
 * has never seen the streams it will score. Sampling is regular (1 s): the detector feeds models gaps relative
 * to each key's own cadence.
 */
public final class SyntheticSeries {
    private SyntheticSeries() {}

    public static List<HeadFit.Sequence> generate(int count, int length, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        List<HeadFit.Sequence> out = new ArrayList<>();
        for (int k = 0; k < count; k++) {
            long[] times = new long[length];
            float[][] values = new float[length][1];
            double level = r.nextDouble(-5, 5), scale = Math.exp(r.nextDouble(-3, 3));
            double phi = 1 - Math.exp(r.nextDouble(-6, -0.5));          // AR(1) memory: 0.4 .. 0.998
            double noise = r.nextDouble(0.05, 1.0), measurement = r.nextDouble(0, 0.5);
            double period = Math.exp(r.nextDouble(Math.log(8), Math.log(500))), amplitude = r.nextBoolean() ? r.nextDouble(0, 3) : 0;
            double stepRate = r.nextDouble() < 0.5 ? 0 : r.nextDouble(0, 0.004);
            double spikeRate = r.nextDouble() < 0.5 ? 0 : r.nextDouble(0, 0.003);
            double quantum = r.nextDouble() < 0.3 ? r.nextDouble(0.05, 0.5) : 0;
            double drift = r.nextDouble() < 0.3 ? r.nextDouble(-0.002, 0.002) : 0;
            double phase = r.nextDouble(0, 2 * Math.PI), ar = 0, shift = 0;
            for (int t = 0; t < length; t++) {
                times[t] = 1_000L * t;
                ar = phi * ar + noise * r.nextGaussian();
                if (r.nextDouble() < stepRate) shift += r.nextGaussian() * 3;
                double v = level + shift + drift * t + ar + amplitude * Math.sin(2 * Math.PI * t / period + phase)
                        + measurement * r.nextGaussian();
                if (r.nextDouble() < spikeRate) v += r.nextGaussian() * 6;
                if (quantum > 0) v = Math.round(v / quantum) * quantum;
                values[t][0] = (float) (v * scale);
            }
            out.add(new HeadFit.Sequence(times, values));
        }
        return out;
    }
}
