package io.sidewinder.ssm;

/** A small in-place radix-2 complex FFT in double, enough for the LTI convolution mode. */
public final class Fft {
    private Fft() {}

    /** Transforms (re, im) in place; length must be a power of two. inverse divides by n. */
    public static void transform(double[] re, double[] im, boolean inverse) {
        int n = re.length;
        if (Integer.bitCount(n) != 1 || im.length != n) {
            throw new IllegalArgumentException("FFT length must be a power of two, got " + n);
        }
        for (int i = 1, j = 0; i < n; i++) {
            int bit = n >> 1;
            for (; (j & bit) != 0; bit >>= 1) {
                j ^= bit;
            }
            j ^= bit;
            if (i < j) {
                double t = re[i]; re[i] = re[j]; re[j] = t;
                t = im[i]; im[i] = im[j]; im[j] = t;
            }
        }
        for (int len = 2; len <= n; len <<= 1) {
            double ang = 2 * Math.PI / len * (inverse ? 1 : -1);
            int half = len / 2;
            for (int k = 0; k < half; k++) {
                // Twiddles from cos/sin per k (not by repeated multiplication) keep the error at O(ε log n).
                double wr = Math.cos(ang * k), wi = Math.sin(ang * k);
                for (int i = k; i < n; i += len) {
                    int j = i + half;
                    double xr = re[j] * wr - im[j] * wi;
                    double xi = re[j] * wi + im[j] * wr;
                    re[j] = re[i] - xr;
                    im[j] = im[i] - xi;
                    re[i] += xr;
                    im[i] += xi;
                }
            }
        }
        if (inverse) {
            for (int i = 0; i < n; i++) {
                re[i] /= n;
                im[i] /= n;
            }
        }
    }

    /** The first u.length outputs of the linear convolution y_t = Σ_{s<=t} k_s·u_{t−s}, via FFT of size >= 2L. */
    public static double[] causalConvolve(double[] kernel, double[] u) {
        int l = u.length;
        int n = Integer.highestOneBit(Math.max(1, 2 * l - 1)) << 1;
        double[] kr = new double[n], ki = new double[n], ur = new double[n], ui = new double[n];
        System.arraycopy(kernel, 0, kr, 0, Math.min(l, kernel.length));
        System.arraycopy(u, 0, ur, 0, l);
        transform(kr, ki, false);
        transform(ur, ui, false);
        for (int i = 0; i < n; i++) {
            double r = kr[i] * ur[i] - ki[i] * ui[i];
            double im = kr[i] * ui[i] + ki[i] * ur[i];
            kr[i] = r;
            ki[i] = im;
        }
        transform(kr, ki, true);
        double[] y = new double[l];
        System.arraycopy(kr, 0, y, 0, l);
        return y;
    }
}
