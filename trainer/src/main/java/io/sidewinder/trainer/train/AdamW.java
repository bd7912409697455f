package io.sidewinder.trainer.train;

import java.util.HashMap;
import java.util.Map;
import java.util.function.Predicate;

/**
 * AdamW (Loshchilov &amp; Hutter): Adam moments with bias correction and decoupled weight decay, skipped for the
 * parameters Mamba exempts (A_log, D, the Δ bias, norm weights) and for biases.
 */
public final class AdamW {
    private final double beta1, beta2, eps, weightDecay;
    private final Map<String, double[]> m = new HashMap<>(), v = new HashMap<>();
    private long step;

    public AdamW(double beta1, double beta2, double eps, double weightDecay) {
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
    }

    /** Mamba's no-decay set: A_log, D, dt_proj.bias, every norm weight, every bias. */
    public static final Predicate<String> DECAYED = name -> !(name.endsWith("A_log") || name.endsWith(".D")
            || name.endsWith("bias") || name.contains("norm"));

    public void step(Map<String, double[]> params, Map<String, double[]> grads, double lr) {
        step++;
        double c1 = 1 - Math.pow(beta1, step), c2 = 1 - Math.pow(beta2, step);
        for (var e : params.entrySet()) {
            double[] p = e.getValue(), g = grads.get(e.getKey());
            double[] mm = m.computeIfAbsent(e.getKey(), k -> new double[p.length]);
            double[] vv = v.computeIfAbsent(e.getKey(), k -> new double[p.length]);
            double decay = DECAYED.test(e.getKey()) ? weightDecay : 0;
            for (int i = 0; i < p.length; i++) {
                mm[i] = beta1 * mm[i] + (1 - beta1) * g[i];
                vv[i] = beta2 * vv[i] + (1 - beta2) * g[i] * g[i];
                p[i] -= lr * (mm[i] / c1 / (Math.sqrt(vv[i] / c2) + eps) + decay * p[i]);
            }
        }
    }

    public long steps() {
        return step;
    }

    Map<String, double[]> firstMoments() {
        return m;
    }

    Map<String, double[]> secondMoments() {
        return v;
    }

    void restore(long steps, Map<String, double[]> first, Map<String, double[]> second) {
        step = steps;
        m.clear();
        v.clear();
        first.forEach((k, x) -> m.put(k, x.clone()));
        second.forEach((k, x) -> v.put(k, x.clone()));
    }

    /** Scales all gradients so that their global L2 norm is at most maxNorm; returns the norm before clipping. */
    public static double clipGlobalNorm(Map<String, double[]> grads, double maxNorm) {
        double ss = 0;
        for (double[] g : grads.values()) for (double x : g) ss += x * x;
        double norm = Math.sqrt(ss);
        if (norm > maxNorm && norm > 0) {
            double s = maxNorm / norm;
            for (double[] g : grads.values()) for (int i = 0; i < g.length; i++) g[i] *= s;
        }
        return norm;
    }

    /** Linear warm-up to peak, then cosine decay to minRatio·peak at totalSteps. */
    public static double learningRate(long step, long warmupSteps, long totalSteps, double peak, double minRatio) {
        if (step < warmupSteps) {
            return peak * (step + 1) / warmupSteps;
        }
        double progress = Math.min(1, (double) (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps));
        return peak * (minRatio + (1 - minRatio) * 0.5 * (1 + Math.cos(Math.PI * progress)));
    }
}
