package io.sidewinder.ssm;

/**
 * How a continuous diagonal SSM x' = a·x + b·u becomes a discrete step h_t = dA·h_{t-1} + dB·u_t
 * for a step Δ. All three share dA's role; they differ in dB (and bilinear also in dA).
 *
 * <ul>
 *   <li>{@link #ZOH}: dA = exp(Δa), dB = expm1(Δa)/a · b — exact for piecewise-constant input; bounded by
 *       b/|a| for long gaps, which is why the product uses it with gap-scaled Δ.</li>
 *   <li>{@link #BILINEAR}: dA = (1 + Δa/2)/(1 − Δa/2), dB = Δ·b/(1 − Δa/2) (S4's default).</li>
 *   <li>{@link #EULER}: Mamba's simplification dA = exp(Δa), dB = Δ·b.</li>
 * </ul>
 */
public enum Discretization {
    ZOH, BILINEAR, EULER;

    /** dA for a real diagonal entry a (a &lt; 0 for a stable system). */
    public double dA(double delta, double a) {
        return switch (this) {
            case ZOH, EULER -> Math.exp(delta * a);
            case BILINEAR -> (1 + delta * a / 2) / (1 - delta * a / 2);
        };
    }

    /** The factor f with dB = f·b. */
    public double dBFactor(double delta, double a) {
        return switch (this) {
            case ZOH -> a == 0 ? delta : Math.expm1(delta * a) / a;
            case BILINEAR -> delta / (1 - delta * a / 2);
            case EULER -> delta;
        };
    }

    /**
     * The factor f given dA = {@link #dA}(Δ, a) already computed, saving a second transcendental on the hot
     * path: in double, (dA − 1)/a loses only ε/|Δa| relative accuracy, so expm1 is needed only for tiny Δa.
     */
    public double dBFactor(double delta, double a, double dA) {
        if (this != ZOH) {
            return dBFactor(delta, a);
        }
        double x = delta * a;
        if (a == 0) {
            return delta;
        }
        if (Math.abs(x) < 1e-3) {
            // expm1 by its Taylor series: the dropped x^5/120 term is below 1e-17 relative here, and
            // StrictMath.expm1 (not an intrinsic) was a measurable share of the streaming step.
            return delta * (1 + x * (0.5 + x * (1.0 / 6 + x * (1.0 / 24))));
        }
        return (dA - 1) / a;
    }

    /** ∂dA/∂Δ given dA = {@link #dA}(Δ, a). */
    public double dAByDelta(double delta, double a, double dA) {
        if (this == BILINEAR) {
            double q = 1 / (1 - delta * a / 2);
            return a * q * q;
        }
        return a * dA;
    }

    /** ∂dA/∂a given dA = {@link #dA}(Δ, a). */
    public double dAByA(double delta, double a, double dA) {
        if (this == BILINEAR) {
            double q = 1 / (1 - delta * a / 2);
            return delta * q * q;
        }
        return delta * dA;
    }

    /** ∂f/∂Δ (dB = f·b) given dA = {@link #dA}(Δ, a). */
    public double dBFactorByDelta(double delta, double a, double dA) {
        return switch (this) {
            case ZOH -> dA;
            case EULER -> 1;
            case BILINEAR -> {
                double q = 1 / (1 - delta * a / 2);
                yield q * q;
            }
        };
    }

    /**
     * ∂f/∂a given dA: for ZOH (Δa·e^{Δa} − expm1(Δa))/a² = Δ²·(1/2 + x/3 + x²/8 + …) with x = Δa, the series
     * used for small x where the closed form cancels.
     */
    public double dBFactorByA(double delta, double a, double dA) {
        return switch (this) {
            case ZOH -> {
                double x = delta * a;
                if (Math.abs(x) < 1e-3) {
                    yield delta * delta * (0.5 + x * (1.0 / 3 + x * (1.0 / 8)));
                }
                yield (x * dA - (dA - 1)) / (a * a);
            }
            case EULER -> 0;
            case BILINEAR -> {
                double q = 1 / (1 - delta * a / 2);
                yield delta * delta * q * q / 2;
            }
        };
    }

    /** Complex dA for a = (re, im); writes {re, im} into out. */
    public void dAComplex(double delta, double aRe, double aIm, double[] out) {
        switch (this) {
            case ZOH, EULER -> {
                double m = Math.exp(delta * aRe);
                out[0] = m * Math.cos(delta * aIm);
                out[1] = m * Math.sin(delta * aIm);
            }
            case BILINEAR -> {
                // (1 + Δa/2) / (1 − Δa/2)
                double nr = 1 + delta * aRe / 2, ni = delta * aIm / 2;
                double dr = 1 - delta * aRe / 2, di = -delta * aIm / 2;
                double den = dr * dr + di * di;
                out[0] = (nr * dr + ni * di) / den;
                out[1] = (ni * dr - nr * di) / den;
            }
        }
    }

    /** Complex factor f (dB = f·b) for a = (re, im); writes {re, im} into out. */
    public void dBFactorComplex(double delta, double aRe, double aIm, double[] out) {
        switch (this) {
            case ZOH -> {
                double den = aRe * aRe + aIm * aIm;
                if (den == 0) {
                    out[0] = delta;
                    out[1] = 0;
                    return;
                }
                // (exp(Δa) − 1) / a, with expm1 on the real part for accuracy at small Δ.
                double m = Math.expm1(delta * aRe);
                double c = Math.cos(delta * aIm), s = Math.sin(delta * aIm);
                double half = Math.sin(delta * aIm / 2);
                double nr = m * c - 2 * half * half, ni = (m + 1) * s;
                out[0] = (nr * aRe + ni * aIm) / den;
                out[1] = (ni * aRe - nr * aIm) / den;
            }
            case BILINEAR -> {
                double dr = 1 - delta * aRe / 2, di = -delta * aIm / 2;
                double den = dr * dr + di * di;
                out[0] = delta * dr / den;
                out[1] = -delta * di / den;
            }
            case EULER -> {
                out[0] = delta;
                out[1] = 0;
            }
        }
    }
}
