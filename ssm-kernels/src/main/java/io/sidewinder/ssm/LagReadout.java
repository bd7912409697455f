package io.sidewinder.ssm;

import io.sidewinder.ssm.kernels.SsmKernels;
import java.nio.ByteBuffer;

/**
 * A linear readout of a key's last K readings added to the head's output:
 * <pre>
 *   out_t[h·C + c] += Σ_j W[h][j] · (x_{t−j, c} − μ_t,c) / σ_t,c      h ∈ [0, 2H), j ∈ [0, K)
 * </pre>
 * with the normaliser's statistics at t (so the recent history is seen on the forecast's own scale, as RevIN does)
 * and 0 for readings before the key's first. One W serves every channel (channel-independent). The SSM's last
 * features summarise the whole past; this path hands the head the recent shape directly, which is what linear
 * long-horizon forecasters (DLinear, RLinear) show matters most at 96-step horizons.
 */
public final class LagReadout {
    /** The parameter name of W, [2H][K]. */
    public static final String WEIGHT = "readout.weight";
    /**
     * The parameter name of the readout's offset b [H][C] in the series' units, which a {@link ReadoutForm#hasOffset}
     * form adds to the forecast means (in the head's normalised units b[h][c]/σ_t,c).
     */
    public static final String OFFSET = "readout.offset";

    private LagReadout() {}

    /**
     * For each of {@code positions} rows: head[offset + p·headWidth + h·C + c] += Σ_j W[h·K + j]·lags[(p·K + j)·C + c]
     * for the 2H rows (means, then log-variances); one GEMM per channel on the kernels.
     */
    public static void addTo(SsmKernels kernels, float[] weight, int horizon, int channels, int lagCount, int positions,
                             float[] lags, float[] head, int offset) {
        int width = 2 * horizon, headWidth = width * channels;
        float[] in = channels == 1 ? lags : new float[positions * lagCount];
        float[] out = new float[positions * width];
        for (int c = 0; c < channels; c++) {
            if (channels > 1) {
                for (int i = 0; i < positions * lagCount; i++) in[i] = lags[i * channels + c];
            }
            kernels.gemm(false, true, positions, width, lagCount, in, weight, null, out, false);
            for (int p = 0; p < positions; p++) {
                for (int h = 0; h < width; h++) head[offset + p * headWidth + h * channels + c] += out[p * width + h];
            }
        }
    }

    /** Wᵀ ([K][2H]) of W ([2H][K]): the operand of {@link #addToRow}, made once per served model. */
    public static float[] transposed(float[] weight, int horizon, int lagCount) {
        int width = 2 * horizon;
        if (weight.length != width * lagCount) {
            throw new IllegalArgumentException("readout weight has " + weight.length + " values, expected " + width * lagCount);
        }
        float[] t = new float[weight.length];
        for (int h = 0; h < width; h++) {
            for (int j = 0; j < lagCount; j++) t[j * width + h] = weight[h * lagCount + j];
        }
        return t;
    }

    /**
     * {@link #addTo} for one position (the streaming step): head[offset + h·C + c] += Σ_j W[h·K + j]·lags[j·C + c],
     * as one matrix-vector product per channel from {@code weightT} = {@link #transposed}(W). A GEMM would re-pack W
     * on every reading, which cost more than the whole model step (bench: ForecasterBenchmark).
     */
    public static void addToRow(SsmKernels kernels, float[] weightT, int horizon, int channels, int lagCount,
                                float[] lags, float[] head, int offset) {
        int width = 2 * horizon;
        float[] in = new float[lagCount], out = new float[width];
        for (int c = 0; c < channels; c++) {
            for (int j = 0; j < lagCount; j++) in[j] = lags[j * channels + c];
            kernels.matVecTransposed(weightT, null, width, lagCount, in, 0, out, 0);
            for (int h = 0; h < width; h++) head[offset + h * channels + c] += out[h];
        }
    }

    /**
     * The last K raw readings of one key, newest first when read, with each reading's {@link SeasonalCycle} phase
     * (0 for models without a cycle).
     */
    public static final class History {
        private final int lags, channels;
        private final float[] ring; // [K][C], slot (next − 1 − j) mod K holds lag j
        private final int[] phases; // [K], same slots
        private int next, count;

        public History(int lags, int channels) {
            this.lags = lags;
            this.channels = channels;
            this.ring = new float[lags * channels];
            this.phases = new int[lags];
        }

        public void push(float[] values) {
            push(values, 0);
        }

        public void push(float[] values, int phase) {
            System.arraycopy(values, 0, ring, next * channels, channels);
            phases[next] = phase;
            next = (next + 1) % lags;
            count = Math.min(lags, count + 1);
        }

        /** out[j] = the phase of lag j, for j below {@link #count()}; returns the count. */
        public int lagPhases(int[] out) {
            for (int j = 0; j < count; j++) out[j] = phases[Math.floorMod(next - 1 - j, lags)];
            return count;
        }

        /** out[j·C + c] = lag j of channel c normalised with {@code norm}, 0 where the key has no such reading. */
        public void normalised(CausalNormalizer norm, float[] out) {
            double[] mu = new double[channels], sd = new double[channels];   // per channel once, not per lag
            for (int c = 0; c < channels; c++) {
                mu[c] = norm.mean(c);
                sd[c] = norm.std(c);
            }
            for (int j = 0; j < lags; j++) {
                int slot = Math.floorMod(next - 1 - j, lags);
                for (int c = 0; c < channels; c++) {
                    out[j * channels + c] = j < count ? (float) ((ring[slot * channels + c] - mu[c]) / sd[c]) : 0f;
                }
            }
        }

        public int count() {
            return count;
        }

        public History copy() {
            History h = new History(lags, channels);
            System.arraycopy(ring, 0, h.ring, 0, ring.length);
            System.arraycopy(phases, 0, h.phases, 0, phases.length);
            h.next = next;
            h.count = count;
            return h;
        }

        /** Bytes of {@link #writeTo}: the count, the readings oldest first, then (with phases) their phases. */
        static int serializedSize(int lags, int channels, boolean withPhases) {
            return 4 + 4 * lags * channels + (withPhases ? 4 * lags : 0);
        }

        void writeTo(ByteBuffer b, boolean withPhases) {
            b.putInt(count);
            for (int i = count - 1; i >= 0; i--) {
                int slot = Math.floorMod(next - 1 - i, lags);
                for (int c = 0; c < channels; c++) b.putFloat(ring[slot * channels + c]);
            }
            for (int i = count * channels; i < lags * channels; i++) b.putFloat(0f);
            if (withPhases) {
                for (int i = count - 1; i >= 0; i--) b.putInt(phases[Math.floorMod(next - 1 - i, lags)]);
                for (int i = count; i < lags; i++) b.putInt(0);
            }
        }

        /**
         * Replaces this history with the one {@link #writeTo} wrote. Without stored phases, {@code newestPhase}
         * (−1: none) stands for the newest reading's and each older one is taken one phase earlier (a regular
         * cadence of a cycle with {@code cycleLength} phases).
         */
        void readFrom(ByteBuffer b, boolean withPhases, int newestPhase, int cycleLength) {
            int n = b.getInt();
            if (n < 0 || n > lags) {
                throw new IllegalArgumentException("readout history holds " + n + " readings, the model keeps " + lags);
            }
            next = 0;
            count = 0;
            float[] row = new float[channels];
            for (int i = 0; i < n; i++) {
                for (int c = 0; c < channels; c++) row[c] = b.getFloat();
                int phase = newestPhase < 0 ? 0 : Math.floorMod(newestPhase - (n - 1 - i), cycleLength);
                push(row, phase);
            }
            b.position(b.position() + 4 * (lags - n) * channels);
            if (withPhases) {
                for (int i = 0; i < n; i++) {
                    int phase = b.getInt();
                    if (phase < 0 || (cycleLength > 0 && phase >= cycleLength)) {
                        throw new IllegalArgumentException("readout history phase " + phase + " is outside the cycle's "
                                + cycleLength + " phases");
                    }
                    phases[i] = phase; // slots 0..n−1 in push order, oldest first
                }
                b.position(b.position() + 4 * (lags - n));
            }
        }
    }
}
