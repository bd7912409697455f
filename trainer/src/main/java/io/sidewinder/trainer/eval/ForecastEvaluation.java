package io.sidewinder.trainer.eval;

/**
 * MSE and MAE of a forecaster over every window of a split, averaged over windows × horizon steps × channels, on
 * the z-scored values (the published protocol). Also reports the "drop_last" figure of the published code
 * (windows in full batches of 32 only).
 */
public final class ForecastEvaluation {
    private ForecastEvaluation() {}

    /** Fills {@code out} ([H][channels]) with the forecast for the window whose lookback is rows [start, start + L). */
    @FunctionalInterface
    public interface WindowForecaster {
        void forecast(float[][] series, int start, int lookback, int horizon, float[][] out);
    }

    public record Result(double mse, double mae, int windows, double mseDropLast, double maeDropLast, int windowsDropLast) {}

    public static Result evaluate(float[][] z, EttProtocol p, EttProtocol.Split split, WindowForecaster f) {
        int windows = p.windows(split), h = p.horizon(), c = z[0].length;
        int dropLast = windows / 32 * 32;
        double se = 0, ae = 0, seDrop = 0, aeDrop = 0;
        float[][] out = new float[h][c];
        for (int w = 0; w < windows; w++) {
            int start = p.windowStart(split, w);
            f.forecast(z, start, p.lookback(), h, out);
            double s = 0, a = 0;
            for (int i = 0; i < h; i++) {
                float[] truth = z[start + p.lookback() + i];
                for (int k = 0; k < c; k++) {
                    double e = out[i][k] - truth[k];
                    s += e * e;
                    a += Math.abs(e);
                }
            }
            se += s;
            ae += a;
            if (w < dropLast) {
                seDrop += s;
                aeDrop += a;
            }
        }
        double n = (double) windows * h * c, nd = (double) dropLast * h * c;
        return new Result(se / n, ae / n, windows, seDrop / nd, aeDrop / nd, dropLast);
    }

    /** The Repeat baseline: every future step equals the last observed value. */
    public static final WindowForecaster REPEAT = (z, start, l, h, out) -> {
        float[] last = z[start + l - 1];
        for (int i = 0; i < h; i++) System.arraycopy(last, 0, out[i], 0, last.length);
    };

    /** Seasonal naive: step i repeats the value one period (e.g. one day) before it. */
    public static WindowForecaster seasonal(int period) {
        return (z, start, l, h, out) -> {
            if (period > l) {
                throw new IllegalArgumentException("seasonal period " + period + " exceeds the lookback " + l);
            }
            for (int i = 0; i < h; i++) {
                float[] src = z[start + l - period + (i % period)];
                System.arraycopy(src, 0, out[i], 0, src.length);
            }
        };
    }
}
