package io.sidewinder.ssm;

import static io.sidewinder.ssm.oracle.Tolerance.assertClose;
import static io.sidewinder.ssm.oracle.Tolerance.toDouble;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class LagReadoutTest {
    static final ModelConfig CFG = ForecasterTest.CFG.withReadoutLags(5);

    /** A model whose readout is not zero, so every test below sees it act. */
    static ModelParameters withRandomReadout(ModelConfig cfg, long seed) {
        ModelParameters p = ModelParameters.initialise(cfg, seed);
        float[] w = p.data(LagReadout.WEIGHT);
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < w.length; i++) w[i] = (float) (0.2 * r.nextGaussian());
        return p;
    }

    @Test
    void readoutAddsTheWeightedNormalisedRecentReadingsToEveryHeadRow() {
        int horizon = 2, channels = 2, lags = 3;
        float[] w = new float[2 * horizon * lags];
        for (int i = 0; i < w.length; i++) w[i] = i + 1;
        LagReadout.History h = new LagReadout.History(lags, channels);
        CausalNormalizer norm = new CausalNormalizer(channels, 100, 1e-3);
        for (float[] v : new float[][] {{1, 10}, {2, 20}, {4, 40}, {8, 80}}) {
            norm.update(v);
            h.push(v);
        }
        float[] lagIn = new float[lags * channels];
        h.normalised(norm, lagIn);
        // Newest first: lags 0, 1, 2 are readings 8, 4, 2 (the first reading, 1, has left the window).
        for (int c = 0; c < channels; c++) {
            double scale = c == 0 ? 1 : 10;
            assertClose(new double[] {(8 * scale - norm.mean(c)) / norm.std(c), (4 * scale - norm.mean(c)) / norm.std(c),
                    (2 * scale - norm.mean(c)) / norm.std(c)},
                    new float[] {lagIn[c], lagIn[channels + c], lagIn[2 * channels + c]}, 1e-6, 1e-6, "lags of " + c);
        }
        float[] head = new float[2 * horizon * channels];
        head[3] = 0.5f;
        LagReadout.addTo(io.sidewinder.ssm.kernels.Kernels.get(), w, horizon, channels, lags, 1, lagIn, head, 0);
        for (int row = 0; row < 2 * horizon; row++) {
            for (int c = 0; c < channels; c++) {
                double want = (row * channels + c == 3 ? 0.5 : 0);
                for (int j = 0; j < lags; j++) want += w[row * lags + j] * lagIn[j * channels + c];
                assertEquals(want, head[row * channels + c], 1e-5, "row " + row + " channel " + c);
            }
        }
    }

    @Test
    void oneReadingProductFromTheTransposeEqualsTheBatchProductOnEveryBackend() {
        int horizon = 5, channels = 3, lags = 7;
        SplittableRandom r = new SplittableRandom(11);
        float[] w = new float[2 * horizon * lags], lagIn = new float[lags * channels];
        for (int i = 0; i < w.length; i++) w[i] = (float) r.nextGaussian();
        for (int i = 0; i < lagIn.length; i++) lagIn[i] = (float) r.nextGaussian();
        float[] wT = LagReadout.transposed(w, horizon, lags);
        assertEquals(w[3 * lags + 4], wT[4 * 2 * horizon + 3]);
        for (io.sidewinder.ssm.kernels.SsmKernels k : new io.sidewinder.ssm.kernels.SsmKernels[] {
                io.sidewinder.ssm.kernels.ScalarKernels.INSTANCE, io.sidewinder.ssm.kernels.Kernels.get()}) {
            float[] batch = new float[2 * horizon * channels], row = new float[batch.length];
            for (int i = 0; i < batch.length; i++) batch[i] = row[i] = i * 0.25f;
            LagReadout.addTo(k, w, horizon, channels, lags, 1, lagIn, batch, 0);
            LagReadout.addToRow(k, wT, horizon, channels, lags, lagIn, row, 0);
            assertClose(toDouble(batch), row, 1e-5, 1e-5, k.name());
            double moved = 0;
            for (int i = 0; i < row.length; i++) moved = Math.max(moved, Math.abs(row[i] - i * 0.25f));
            assertTrue(moved > 0.1, "the readout changed the head rows");
        }
        assertThrows(IllegalArgumentException.class, () -> LagReadout.transposed(w, horizon + 1, lags));
    }

    @Test
    void readingsBeforeTheKeysFirstAreZero() {
        LagReadout.History h = new LagReadout.History(4, 1);
        CausalNormalizer norm = new CausalNormalizer(1, 100, 1e-3);
        for (float v : new float[] {3, 5}) {
            norm.update(new float[] {v});
            h.push(new float[] {v});
        }
        float[] lagIn = new float[4];
        h.normalised(norm, lagIn);
        assertEquals(1f, lagIn[0], 1e-6);   // (5 − 4) / 1
        assertEquals(-1f, lagIn[1], 1e-6);  // (3 − 4) / 1
        assertEquals(0f, lagIn[2]);
        assertEquals(0f, lagIn[3]);
        assertEquals(2, h.count());
    }

    @Test
    void streamingAdvanceEqualsBatchForwardWithAReadout() {
        int len = 300;
        Forecaster f = new Forecaster(new MambaModel(withRandomReadout(CFG, 4)));
        long[] times = ForecasterTest.irregularTimes(len);
        float[][] values = ForecasterTest.readings(len);
        StreamState streamed = StreamState.fresh(CFG), batched = StreamState.fresh(CFG);
        ForecasterTest.assertStreamingEqualsBatch(f, streamed, batched, times, values);
        float[] a = new float[5 * 2], b = new float[5 * 2];
        streamed.history().normalised(streamed.normalizer(), a);
        batched.history().normalised(batched.normalizer(), b);
        assertArrayEquals(a, b, "both forms leave the same history");
    }

    @Test
    void theReadoutChangesTheForecast() {
        ModelParameters with = withRandomReadout(CFG, 4);
        ModelParameters without = ModelParameters.initialise(CFG, 4); // zero readout: the plain head
        long[] times = ForecasterTest.irregularTimes(40);
        float[][] values = ForecasterTest.readings(40);
        Forecaster.Prediction a = last(new Forecaster(new MambaModel(with)), times, values);
        Forecaster.Prediction b = last(new Forecaster(new MambaModel(without)), times, values);
        assertNotEquals(a.mean(0, 0), b.mean(0, 0));
    }

    private static Forecaster.Prediction last(Forecaster f, long[] times, float[][] values) {
        StreamState s = StreamState.fresh(f.model().config());
        Forecaster.Prediction p = null;
        for (int t = 0; t < times.length; t++) p = f.advance(s, times[t], values[t]);
        return p;
    }

    @Test
    void historyRoundTripsThroughTheStateFormAndContinuesIdentically() {
        Forecaster f = new Forecaster(new MambaModel(withRandomReadout(CFG, 5)));
        long[] times = ForecasterTest.irregularTimes(12);
        float[][] values = ForecasterTest.readings(12);
        for (int n : new int[] {3, 11}) { // a partial history and a full, wrapped one
            StreamState s = StreamState.fresh(CFG);
            for (int t = 0; t < n; t++) f.advance(s, times[t], values[t]);
            byte[] bytes = s.toBytes();
            assertEquals(StreamState.FORMAT_VERSION_WITH_HISTORY, bytes[2]);
            assertEquals(StreamState.serializedSize(CFG), bytes.length);
            StreamState back = StreamState.fromBytes(bytes, CFG);
            assertArrayEquals(bytes, back.toBytes());
            io.sidewinder.ssm.oracle.Tolerance.assertClose(io.sidewinder.ssm.oracle.Tolerance.toDouble(f.advance(s, times[n], values[n]).mean()), f.advance(back, times[n], values[n]).mean(), 1e-5, 1e-4, "forecast (fp32 rounding, relative: values near 1000)");
        }
    }

    @Test
    void aStateWithoutHistoryLoadsIntoAModelWithAReadoutButNotTheOtherWayRound() {
        ModelConfig plain = CFG.withReadoutLags(0);
        StreamState old = StreamState.fresh(plain);
        Forecaster f = new Forecaster(new MambaModel(ModelParameters.initialise(plain, 1)));
        f.advance(old, 1_000, new float[] {1, 2});
        StreamState upgraded = StreamState.fromBytes(old.toBytes(), CFG);
        assertEquals(0, upgraded.history().count());
        assertEquals(1, upgraded.steps());
        var e = assertThrows(IllegalArgumentException.class,
                () -> StreamState.fromBytes(StreamState.fresh(CFG).toBytes(), plain));
        assertTrue(e.getMessage().contains("readout"), e.getMessage());
    }

    @Test
    void configRoundTripsTheLagsAndOldConfigsHaveNone() {
        assertEquals(CFG, ModelConfig.fromMap(CFG.toMap()));
        var old = new java.util.LinkedHashMap<>(CFG.toMap());
        old.remove("readout.lags");
        assertEquals(0, ModelConfig.fromMap(old).readoutLags());
        assertTrue(!ModelConfig.defaults(1).toMap().containsKey("readout.lags"));
    }
}
