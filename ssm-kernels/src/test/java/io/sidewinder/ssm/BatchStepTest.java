package io.sidewinder.ssm;

import static io.sidewinder.ssm.oracle.Tolerance.assertClose;
import static io.sidewinder.ssm.oracle.Tolerance.toDouble;

import io.sidewinder.ssm.kernels.Kernels;
import io.sidewinder.ssm.kernels.ScalarKernels;
import io.sidewinder.ssm.kernels.SsmKernels;
import io.sidewinder.ssm.oracle.DoubleOracle;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link MambaModel#stepBatch}: many keys stepped together, each with its own inputs, gaps and state, must give
 * every key the head outputs of the double oracle's forward over that key's sequence (and the per-key
 * {@link MambaModel#step}'s states).
 */
class BatchStepTest {
    static final ModelConfig CONFIG = ModelConfig.defaults(3).withShape(16, 2, 8, 5);

    @ParameterizedTest(name = "keys={0}")
    @ValueSource(ints = {1, 5, 37, 150}) // 150: more than two tiles of MambaModel.BATCH_TILE
    void everyKeyFollowsItsOwnSequence(int keys) {
        int len = 40, ch = CONFIG.channels(), hw = CONFIG.headWidth();
        ModelParameters p = ModelParameters.initialise(CONFIG, 3);
        float[][] xs = new float[keys][], gs = new float[keys][];
        for (int i = 0; i < keys; i++) {
            xs[i] = MambaModelTest.inputs(len, ch, 100 + i);
            gs[i] = MambaModelTest.gaps(len, 200 + i);
        }
        for (SsmKernels kernels : List.of(ScalarKernels.INSTANCE, Kernels.get())) {
            MambaModel m = new MambaModel(p, kernels);
            ModelState[] batched = new ModelState[keys], single = new ModelState[keys];
            for (int i = 0; i < keys; i++) {
                batched[i] = ModelState.zeros(CONFIG);
                single[i] = ModelState.zeros(CONFIG);
            }
            float[][] heads = new float[keys][len * hw];
            float[] x = new float[keys * ch], g = new float[keys], out = new float[keys * hw], row = new float[hw];
            for (int t = 0; t < len; t++) {
                for (int i = 0; i < keys; i++) {
                    System.arraycopy(xs[i], t * ch, x, i * ch, ch);
                    g[i] = gs[i][t];
                    m.step(java.util.Arrays.copyOfRange(xs[i], t * ch, t * ch + ch), g[i], single[i], row);
                }
                m.stepBatch(keys, x, g, batched, out);
                for (int i = 0; i < keys; i++) System.arraycopy(out, i * hw, heads[i], t * hw, hw);
            }
            for (int i = 0; i < keys; i++) {
                String what = kernels.name() + " key " + i;
                double[] ref = DoubleOracle.forward(p, toDouble(xs[i]), toDouble(gs[i]), len,
                        new DoubleOracle.State(CONFIG));
                assertClose(ref, heads[i], MambaModelTest.RTOL, MambaModelTest.ATOL, what + " heads vs oracle");
                for (int l = 0; l < CONFIG.layers(); l++) {
                    assertClose(toDouble(single[i].ssmState(l)), batched[i].ssmState(l), MambaModelTest.RTOL,
                            MambaModelTest.ATOL, what + " h of layer " + l);
                    assertClose(toDouble(single[i].convWindow(l)), batched[i].convWindow(l), MambaModelTest.RTOL,
                            MambaModelTest.ATOL, what + " conv window of layer " + l);
                }
            }
        }
    }
}
