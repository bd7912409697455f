package io.sidewinder.ssm;

/**
 * A time-invariant (S4D) diagonal SSM layer over {@code channels} independent channels, each with
 * {@code n} complex modes. Each mode stands for a conjugate pair, so the output is
 * y_t = 2·Re(Σ_n C_n h_t[n]) + D·u_t with h_t = dA·h_{t−1} + dB·u_t.
 *
 * <p>Because Δ, B and C do not depend on the input, the layer has two equivalent forms: the recurrence
 * ({@link #recurrent}, {@link #recurrentFloat}) and a convolution with the kernel
 * K_l = 2·Re(Σ_n C_n·dB_n·dA_n^l) ({@link #kernel}, {@link #convolve}); the convolution uses an FFT for long
 * inputs and is what makes S4 trainable in parallel.
 */
public final class S4DLayer {
    /** Below this length the direct O(L²) causal convolution is both faster and exact enough. */
    static final int FFT_THRESHOLD = 64;

    private final int channels;
    private final int n;
    private final double[] aRe, aIm, bRe, bIm, cRe, cIm; // [channels * n]
    private final double[] d;                              // [channels]
    private final double[] delta;                          // [channels]
    private final Discretization discretization;
    // Discretized parameters, computed once: dA and C·dB per (channel, mode).
    private final double[] dARe, dAIm, dBRe, dBIm, cdbRe, cdbIm;

    public S4DLayer(int channels, int n, double[] aRe, double[] aIm, double[] bRe, double[] bIm,
                    double[] cRe, double[] cIm, double[] d, double[] delta, Discretization discretization) {
        this.channels = channels;
        this.n = n;
        int size = channels * n;
        for (double[] p : new double[][] {aRe, aIm, bRe, bIm, cRe, cIm}) {
            if (p.length != size) {
                throw new IllegalArgumentException("mode parameters need channels*n = " + size + " entries");
            }
        }
        if (d.length != channels || delta.length != channels) {
            throw new IllegalArgumentException("D and Δ need one entry per channel");
        }
        this.aRe = aRe.clone(); this.aIm = aIm.clone();
        this.bRe = bRe.clone(); this.bIm = bIm.clone();
        this.cRe = cRe.clone(); this.cIm = cIm.clone();
        this.d = d.clone();
        this.delta = delta.clone();
        this.discretization = discretization;
        dARe = new double[size]; dAIm = new double[size];
        dBRe = new double[size]; dBIm = new double[size];
        cdbRe = new double[size]; cdbIm = new double[size];
        double[] t = new double[2], f = new double[2];
        for (int h = 0; h < channels; h++) {
            for (int m = 0; m < n; m++) {
                int i = h * n + m;
                discretization.dAComplex(delta[h], aRe[i], aIm[i], t);
                dARe[i] = t[0];
                dAIm[i] = t[1];
                discretization.dBFactorComplex(delta[h], aRe[i], aIm[i], f);
                dBRe[i] = f[0] * bRe[i] - f[1] * bIm[i];
                dBIm[i] = f[0] * bIm[i] + f[1] * bRe[i];
                cdbRe[i] = cRe[i] * dBRe[i] - cIm[i] * dBIm[i];
                cdbIm[i] = cRe[i] * dBIm[i] + cIm[i] * dBRe[i];
            }
        }
    }

    /** An S4D layer with the given init for A (S4D-Lin when {@code lin}, else S4D-Real), B = 1, random C. */
    public static S4DLayer initialised(int channels, int n, boolean lin, double dt, Discretization disc,
                                       java.util.random.RandomGenerator rnd) {
        int size = channels * n;
        double[] aRe = new double[size], aIm = new double[size], bRe = new double[size], bIm = new double[size];
        double[] cRe = new double[size], cIm = new double[size];
        double[][] linA = Initializers.s4dLin(n);
        double[] realA = Initializers.s4dReal(n);
        for (int h = 0; h < channels; h++) {
            for (int m = 0; m < n; m++) {
                int i = h * n + m;
                aRe[i] = lin ? linA[0][m] : realA[m];
                aIm[i] = lin ? linA[1][m] : 0;
                bRe[i] = 1;
                cRe[i] = rnd.nextGaussian() * Math.sqrt(0.5);
                cIm[i] = lin ? rnd.nextGaussian() * Math.sqrt(0.5) : 0;
            }
        }
        double[] dSkip = new double[channels], deltas = new double[channels];
        for (int h = 0; h < channels; h++) {
            dSkip[h] = rnd.nextGaussian();
            deltas[h] = dt;
        }
        return new S4DLayer(channels, n, aRe, aIm, bRe, bIm, cRe, cIm, dSkip, deltas, disc);
    }

    public int channels() { return channels; }

    public int modes() { return n; }

    /** The convolution kernel K_0..K_{L−1} of one channel, by the Vandermonde product (powers by exp). */
    public double[] kernel(int channel, int length) {
        double[] k = new double[length];
        for (int m = 0; m < n; m++) {
            int i = channel * n + m;
            // dA^l = exp(l·log dA); computing each power directly avoids error growing with l.
            double logMag = 0.5 * Math.log(dARe[i] * dARe[i] + dAIm[i] * dAIm[i]);
            double phase = Math.atan2(dAIm[i], dARe[i]);
            boolean zero = dARe[i] == 0 && dAIm[i] == 0;
            for (int l = 0; l < length; l++) {
                double pr, pi;
                if (zero) {
                    pr = l == 0 ? 1 : 0;
                    pi = 0;
                } else {
                    double mag = Math.exp(l * logMag);
                    pr = mag * Math.cos(l * phase);
                    pi = mag * Math.sin(l * phase);
                }
                k[l] += 2 * (cdbRe[i] * pr - cdbIm[i] * pi);
            }
        }
        return k;
    }

    /** Convolution mode for one channel, from zero state: y = K * u + D·u. */
    public double[] convolve(int channel, double[] u) {
        double[] k = kernel(channel, u.length);
        double[] y;
        if (u.length <= FFT_THRESHOLD) {
            y = new double[u.length];
            for (int t = 0; t < u.length; t++) {
                double s = 0;
                for (int j = 0; j <= t; j++) {
                    s += k[j] * u[t - j];
                }
                y[t] = s;
            }
        } else {
            y = Fft.causalConvolve(k, u);
        }
        for (int t = 0; t < u.length; t++) {
            y[t] += d[channel] * u[t];
        }
        return y;
    }

    /** Recurrent mode for one channel in double, from zero state. */
    public double[] recurrent(int channel, double[] u) {
        double[] hRe = new double[n], hIm = new double[n];
        double[] y = new double[u.length];
        for (int t = 0; t < u.length; t++) {
            double s = 0;
            for (int m = 0; m < n; m++) {
                int i = channel * n + m;
                double r = dARe[i] * hRe[m] - dAIm[i] * hIm[m] + dBRe[i] * u[t];
                double im = dARe[i] * hIm[m] + dAIm[i] * hRe[m] + dBIm[i] * u[t];
                hRe[m] = r;
                hIm[m] = im;
                s += cRe[i] * r - cIm[i] * im;
            }
            y[t] = 2 * s + d[channel] * u[t];
        }
        return y;
    }

    /**
     * One recurrent step in fp32 for one channel: advances {@code state} (2n floats: re then im parts) and
     * returns y_t. This is the streaming form.
     */
    public float step(int channel, float u, float[] state) {
        float s = 0;
        for (int m = 0; m < n; m++) {
            int i = channel * n + m;
            float ar = (float) dARe[i], ai = (float) dAIm[i];
            float hr = state[m], hi = state[n + m];
            float r = ar * hr - ai * hi + (float) dBRe[i] * u;
            float im = ar * hi + ai * hr + (float) dBIm[i] * u;
            state[m] = r;
            state[n + m] = im;
            s += (float) cRe[i] * r - (float) cIm[i] * im;
        }
        return 2 * s + (float) d[channel] * u;
    }

    /** Recurrent mode for one channel in fp32 (state and arithmetic), from zero state. */
    public float[] recurrentFloat(int channel, float[] u) {
        float[] state = new float[2 * n];
        float[] y = new float[u.length];
        for (int t = 0; t < u.length; t++) {
            y[t] = step(channel, u[t], state);
        }
        return y;
    }

    public Discretization discretization() { return discretization; }
}
