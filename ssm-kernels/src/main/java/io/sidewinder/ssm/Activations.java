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
        return x > SOFTPLUS_THRESHOLD ? x : (float) Math.log1p(Math.exp(x));
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
