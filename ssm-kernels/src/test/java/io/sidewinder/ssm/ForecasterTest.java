package io.sidewinder.ssm;

import static io.sidewinder.ssm.oracle.Tolerance.assertClose;
import static io.sidewinder.ssm.oracle.Tolerance.toDouble;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class ForecasterTest {
    static final ModelConfig CFG = ModelConfig.defaults(2).withShape(16, 2, 8, 4);

    static long[] irregularTimes(int len) {
        long[] t = new long[len];
        long now = 1_700_000_000_000L;
        for (int i = 0; i < len; i++) {
            now += 500 + (i * 7919L % 2500); // 0.5 s .. 3 s gaps
            t[i] = now;
        }
        return t;
    }

    /**
     * Feeds the same readings to {@code advance} (into {@code streamed}) and to {@code forwardSequence} (into
     * {@code batched}), and asserts every step's forecast mean and stddev agree within the parity tolerance.
     */
    static void assertStreamingEqualsBatch(Forecaster f, StreamState streamed, StreamState batched, long[] times, float[][] values) {
        Forecaster.Prediction[] step = new Forecaster.Prediction[times.length];
        for (int t = 0; t < times.length; t++) step[t] = f.advance(streamed, times[t], values[t]);
        Forecaster.Prediction[] batch = f.forwardSequence(batched, times, values);
        for (int t = 0; t < times.length; t++) {
            assertClose(toDouble(batch[t].mean()), step[t].mean(), 3e-4, 1e-3, "mean at " + t);
            assertClose(toDouble(batch[t].stddev()), step[t].stddev(), 3e-4, 1e-3, "stddev at " + t);
        }
    }

    static float[][] readings(int len) {
        float[][] v = new float[len][2];
        for (int i = 0; i < len; i++) {
            v[i][0] = (float) (20 + 3 * Math.sin(i * 0.1));
            v[i][1] = (float) (1000 + 50 * Math.cos(i * 0.03) + (i % 7));
        }
        return v;
    }

    @Test
    void streamingAdvanceEqualsBatchForwardOnIrregularTimes() {
        int len = 500;
        Forecaster f = new Forecaster(new MambaModel(ModelParameters.initialise(CFG, 11)));
        long[] times = irregularTimes(len);
        float[][] values = readings(len);
        StreamState streamed = StreamState.fresh(CFG), batched = StreamState.fresh(CFG);
        assertStreamingEqualsBatch(f, streamed, batched, times, values);
        assertEquals(streamed.lastEventTime(), batched.lastEventTime());
        assertEquals(streamed.steps(), batched.steps());
    }

    @Test
    void theRealGapChangesTheStep() {
        Forecaster f = new Forecaster(new MambaModel(ModelParameters.initialise(CFG, 12)));
        StreamState a = StreamState.fresh(CFG), b = StreamState.fresh(CFG);
        float[] v = {20f, 1000f};
        f.advance(a, 0, v);
        f.advance(b, 0, v);
        Forecaster.Prediction shortGap = f.advance(a, 1_000, v);
        Forecaster.Prediction longGap = f.advance(b, 60_000, v);
        assertFalse(Arrays.equals(shortGap.mean(), longGap.mean()));
    }

    @Test
    void wrongChannelCountIsRefused() {
        Forecaster f = new Forecaster(new MambaModel(ModelParameters.initialise(CFG, 1)));
        assertThrows(IllegalArgumentException.class, () -> f.advance(StreamState.fresh(CFG), 0, new float[3]));
    }
}
