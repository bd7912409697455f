package io.sidewinder.ssm;

import static io.sidewinder.ssm.oracle.Tolerance.assertClose;
import static io.sidewinder.ssm.oracle.Tolerance.toDouble;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sidewinder.ssm.oracle.DoubleOracle;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class MambaModelTest {
    static final double RTOL = 3e-4, ATOL = 1e-5;

    static final ModelConfig SMALL = ModelConfig.defaults(3).withShape(16, 2, 8, 5);

    static float[] inputs(int len, int channels, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[len * channels];
        for (int i = 0; i < x.length; i++) x[i] = (float) (Math.sin(i * 0.05) + 0.3 * (r.nextDouble() - 0.5));
        return x;
    }

    static float[] gaps(int len, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] g = new float[len];
        for (int i = 0; i < len; i++) g[i] = (float) (0.2 + r.nextDouble() * 3);
        return g;
    }

    @ParameterizedTest(name = "L={0}")
    @ValueSource(ints = {1, 2, 3, 4, 50, 300, 600})
    void forwardMatchesDoubleOracle(int len) {
        ModelParameters p = ModelParameters.initialise(SMALL, 42);
        MambaModel m = new MambaModel(p);
        float[] x = inputs(len, 3, len), g = gaps(len, len);
        float[] head = m.forward(x, g, len, ModelState.zeros(SMALL), true);
        double[] ref = DoubleOracle.forward(p, toDouble(x), toDouble(g), len, new DoubleOracle.State(SMALL));
        assertClose(ref, head, RTOL, ATOL, "head outputs");
    }

    @Test
    void stepAppliedLTimesEqualsBatchForward() {
        int len = 700;
        MambaModel m = new MambaModel(ModelParameters.initialise(SMALL, 7));
        float[] x = inputs(len, 3, 1), g = gaps(len, 2);
        ModelState batchState = ModelState.zeros(SMALL);
        float[] batch = m.forward(x, g, len, batchState, true);
        ModelState stepState = ModelState.zeros(SMALL);
        float[] stepped = new float[batch.length], row = new float[SMALL.headWidth()], xt = new float[3];
        for (int t = 0; t < len; t++) {
            System.arraycopy(x, t * 3, xt, 0, 3);
            m.step(xt, g[t], stepState, row);
            System.arraycopy(row, 0, stepped, t * row.length, row.length);
        }
        assertClose(toDouble(batch), stepped, RTOL, ATOL, "step vs forward");
        for (int l = 0; l < SMALL.layers(); l++) {
            assertClose(toDouble(batchState.ssmState(l)), stepState.ssmState(l), RTOL, ATOL, "h of layer " + l);
            assertClose(toDouble(batchState.convWindow(l)), stepState.convWindow(l), RTOL, ATOL, "conv of layer " + l);
        }
    }

    @ParameterizedTest(name = "split at {0}")
    @ValueSource(ints = {1, 2, 3, 100, 299})
    void forwardInTwoPartsWithCarriedStateEqualsOneForward(int k) {
        int len = 300;
        MambaModel m = new MambaModel(ModelParameters.initialise(SMALL, 9));
        float[] x = inputs(len, 3, 5), g = gaps(len, 6);
        float[] whole = m.forward(x, g, len, ModelState.zeros(SMALL), true);
        ModelState s = ModelState.zeros(SMALL);
        float[] first = m.forward(java.util.Arrays.copyOfRange(x, 0, k * 3), java.util.Arrays.copyOfRange(g, 0, k), k, s, true);
        float[] second = m.forward(java.util.Arrays.copyOfRange(x, k * 3, len * 3), java.util.Arrays.copyOfRange(g, k, len),
                len - k, s, false);
        float[] joined = new float[whole.length];
        System.arraycopy(first, 0, joined, 0, first.length);
        System.arraycopy(second, 0, joined, first.length, second.length);
        assertClose(toDouble(whole), joined, RTOL, ATOL, "split forward");
    }

    @Test
    void largeDeltaRawUsesSoftplusPassthroughAndMatchesOracle() {
        ModelParameters p = ModelParameters.initialise(SMALL, 3);
        java.util.Arrays.fill(p.data("layers.0.dt_proj.bias"), 25f); // Δ_raw > 20: softplus(x) = x
        java.util.Arrays.fill(p.data("layers.1.dt_proj.bias"), 21f);
        int len = 40;
        float[] x = inputs(len, 3, 8), g = gaps(len, 9);
        float[] head = new MambaModel(p).forward(x, g, len, ModelState.zeros(SMALL), true);
        double[] ref = DoubleOracle.forward(p, toDouble(x), toDouble(g), len, new DoubleOracle.State(SMALL));
        assertClose(ref, head, RTOL, ATOL, "head with large Δ");
    }

    @Test
    void hugeGapsKeepEverythingFinite() {
        ModelConfig cfg = SMALL.withGap(new GapScaling(1000, 0.05, 1e6));
        MambaModel m = new MambaModel(ModelParameters.initialise(cfg, 4));
        int len = 20;
        float[] g = new float[len];
        java.util.Arrays.fill(g, 1e6f);
        ModelState s = ModelState.zeros(cfg);
        float[] head = m.forward(inputs(len, 3, 1), g, len, s, true);
        for (float v : head) assertTrue(Float.isFinite(v));
        for (int l = 0; l < cfg.layers(); l++) for (float v : s.ssmState(l)) assertTrue(Float.isFinite(v));
    }

    @Test
    void initialisationFollowsMamba() {
        ModelConfig cfg = ModelConfig.defaults(2);
        ModelParameters p = ModelParameters.initialise(cfg, 1);
        float[] aLog = p.data("layers.0.A_log");
        for (int d = 0; d < cfg.dInner(); d++) {
            for (int n = 0; n < cfg.dState(); n++) {
                assertTrue(Math.abs(aLog[d * cfg.dState() + n] - Math.log(n + 1)) < 1e-6);
            }
        }
        for (float b : p.data("layers.1.dt_proj.bias")) {
            double dt = Activations.softplus((double) b);
            assertTrue(dt >= cfg.dtMin() * 0.999 && dt <= cfg.dtMax() * 1.001, "softplus(bias) in [dtMin, dtMax]: " + dt);
        }
        double bound = Math.pow(cfg.dtRank(), -0.5);
        for (float w : p.data("layers.0.dt_proj.weight")) assertTrue(Math.abs(w) <= bound);
        for (float d : p.data("layers.0.D")) assertTrue(d == 1f);
        // out_proj is U(±1/sqrt(d_inner)) scaled by 1/sqrt(layers)
        double outBound = 1 / Math.sqrt(cfg.dInner()) / Math.sqrt(cfg.layers());
        for (float w : p.data("layers.0.out_proj.weight")) assertTrue(Math.abs(w) <= outBound + 1e-7);
    }
}
