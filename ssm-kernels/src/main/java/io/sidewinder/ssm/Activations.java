package io.sidewinder.ssm;

/** Pointwise functions of the Mamba block, in the forms the reference implementation uses. */
public final class Activations {
    private Activations() {}

    /** Above this argument softplus passes its input through (as Mamba does), avoiding exp overflow. */
    public static final float SOFTPLUS_THRESHOLD = 20f;

    public static float sigmoid(float x) {
        return (float) (1 / (1 + Math.exp(-x)));
    }

    public static float silu(float x) {
        return x * sigmoid(x);
    }

    public static float softplus(float x) {
        if (x > SOFTPLUS_THRESHOLD) {
            return x;
        }
        // log(1 + e^x) with the intrinsic Math.log; below 1e-4, y − y²/2 + y³/3 is exact to double rounding.
        double y = Math.exp(x);
        return (float) (y < 1e-4 ? y * (1 - y * (0.5 - y / 3)) : Math.log(1 + y));
    }

    public static double sigmoid(double x) {
        return 1 / (1 + Math.exp(-x));
    }

    public static double silu(double x) {
        return x * sigmoid(x);
    }

    public static double softplus(double x) {
        return x > SOFTPLUS_THRESHOLD ? x : Math.log1p(Math.exp(x));
    }
}
