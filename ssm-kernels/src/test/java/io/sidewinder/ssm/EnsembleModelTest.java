package io.sidewinder.ssm;

import static io.sidewinder.ssm.oracle.Tolerance.assertClose;
import static io.sidewinder.ssm.oracle.Tolerance.toDouble;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sidewinder.schemas.ModelSnapshot;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** An ensemble ({@link ModelConfig#members()} K > 1): K member stacks over one normaliser, readout and cycle. */
class EnsembleModelTest {
    // two channels, a readout over 6 lags and a 5-phase cycle for 2 series: every shared part present
    static final ModelConfig SINGLE = ForecasterTest.CFG.withReadoutLags(6).withCycle(5, 2);

    /** A single model of seed s with a readout of its own and a cycle of {@code cycleSeed} (random, so averaging shows). */
    static ModelParameters member(long seed, long cycleSeed) {
        ModelParameters p = ModelParameters.initialise(SINGLE, seed);
        fill(p.data(LagReadout.WEIGHT), seed * 31);
        fill(p.data(SeasonalCycle.WEIGHT), cycleSeed * 17);
        return p;
    }

    /** Members as the trainer makes them: their own stacks, one shared cycle (and readout, but that is tested apart). */
    static ModelParameters member(long seed) {
        return member(seed, 99);
    }

    private static void fill(float[] d, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        for (int i = 0; i < d.length; i++) d[i] = (float) (0.2 * rnd.nextGaussian());
    }

    @ParameterizedTest(name = "members differ in their {0}")
    @ValueSource(strings = {"readout", "cycle"})
    void theEnsemblesForecastIsTheMeanOfItsMembersForecasts(String differing) {
        List<ModelParameters> members = new ArrayList<>();
        for (int k = 1; k <= 3; k++) {
            ModelParameters m = member(k, differing.equals("cycle") ? k : 99);
            if (differing.equals("cycle")) fill(m.data(LagReadout.WEIGHT), 7);
            members.add(m);
        }
        ModelParameters ens = ModelParameters.ensemble(members);
        assertEquals(3, ens.config().members());
        int len = 120;
        long[] times = ForecasterTest.irregularTimes(len);
        float[][] values = ForecasterTest.readings(len);
        for (int series = 0; series < 2; series++) {
            Forecaster.Prediction[] joint = new Forecaster(new MambaModel(ens)).forSeries(series)
                    .forwardSequence(StreamState.fresh(ens.config()), times, values);
            List<Forecaster.Prediction[]> each = new ArrayList<>();
            for (ModelParameters m : members) {
                each.add(new Forecaster(new MambaModel(m)).forSeries(series).forwardSequence(StreamState.fresh(SINGLE), times, values));
            }
            for (int t = 0; t < len; t++) {
                double[] mean = new double[joint[t].mean().length], logVar = new double[mean.length];
                for (Forecaster.Prediction[] p : each) {
                    for (int i = 0; i < mean.length; i++) {
                        mean[i] += p[t].mean()[i] / 3.0;
                        logVar[i] += 2 * Math.log(p[t].stddev()[i]) / 3.0;
                    }
                }
                double[] geometricStd = new double[mean.length];
                for (int i = 0; i < mean.length; i++) geometricStd[i] = Math.exp(logVar[i] / 2);
                assertClose(mean, joint[t].mean(), 1e-5, 1e-4, "series " + series + " mean at " + t);
                assertClose(geometricStd, joint[t].stddev(), 1e-4, 1e-5, "series " + series + " stddev at " + t);
            }
        }
    }

    @Test
    void streamingAnEnsembleEqualsItsBatchForward() {
        ModelParameters ens = ModelParameters.ensemble(List.of(member(4), member(5)));
        int len = 300;
        StreamState streamed = StreamState.fresh(ens.config()), batched = StreamState.fresh(ens.config());
        ForecasterTest.assertStreamingEqualsBatch(new Forecaster(new MambaModel(ens)), streamed, batched,
                ForecasterTest.irregularTimes(len), ForecasterTest.readings(len));
        for (int l = 0; l < ens.config().stateLayers(); l++) {
            assertClose(toDouble(batched.modelState().ssmState(l)), streamed.modelState().ssmState(l), 3e-4, 1e-3,
                    "h of state layer " + l);
        }
    }

    @Test
    void eachMemberAdvancesItsOwnLayersOfTheState() {
        ModelParameters ens = ModelParameters.ensemble(List.of(member(6), member(7)));
        ModelConfig c = ens.config();
        assertEquals(2 * c.layers(), c.stateLayers());
        int len = 50;
        float[] x = MambaModelTest.inputs(len, c.channels(), 9), g = MambaModelTest.gaps(len, 10);
        ModelState joint = ModelState.zeros(c);
        new MambaModel(ens).forward(x, g, len, joint, false);
        for (int k = 0; k < 2; k++) {
            ModelState alone = ModelState.zeros(SINGLE);
            new MambaModel(ens.member(k)).forward(x, g, len, alone, false);
            for (int l = 0; l < c.layers(); l++) {
                assertClose(toDouble(alone.ssmState(l)), joint.ssmState(k * c.layers() + l), 3e-4, 1e-5,
                        "member " + k + " layer " + l);   // two SIMD runs: fp32 rounding may differ with the JIT tier
                assertArrayEquals(alone.convWindow(l), joint.convWindow(k * c.layers() + l), "member " + k + " layer " + l);
            }
        }
    }

    @Test
    void steppingManyKeysOfAnEnsembleEqualsSteppingEachKey() {
        ModelParameters ens = ModelParameters.ensemble(List.of(member(8), member(9)));
        ModelConfig c = ens.config();
        int keys = 70, len = 12, ch = c.channels(), hw = c.headWidth(); // 70: two tiles of MambaModel.BATCH_TILE
        MambaModel m = new MambaModel(ens);
        ModelState[] batched = new ModelState[keys], single = new ModelState[keys];
        for (int i = 0; i < keys; i++) {
            batched[i] = ModelState.zeros(c);
            single[i] = ModelState.zeros(c);
        }
        float[] x = new float[keys * ch], g = new float[keys], out = new float[keys * hw], row = new float[hw];
        for (int t = 0; t < len; t++) {
            for (int i = 0; i < keys; i++) {
                float[] xi = MambaModelTest.inputs(1, ch, 1000L * t + i);
                System.arraycopy(xi, 0, x, i * ch, ch);
                g[i] = 1f + (i % 3);
            }
            m.stepBatch(keys, x, g, batched, out);
            for (int i = 0; i < keys; i++) {
                m.step(java.util.Arrays.copyOfRange(x, i * ch, i * ch + ch), g[i], single[i], row);
                assertClose(toDouble(row), java.util.Arrays.copyOfRange(out, i * hw, i * hw + hw), 3e-4, 1e-4,
                        "key " + i + " step " + t);
            }
        }
    }

    @Test
    void anEnsembleRoundTripsThroughItsSnapshotAndItsStreamState(@TempDir Path dir) throws Exception {
        ModelParameters ens = ModelParameters.ensemble(List.of(member(11), member(12)));
        Path file = dir.resolve("ensemble.avro");
        ModelSnapshots.write(ModelSnapshots.toSnapshot(ens, "e", 1, Map.of(), Map.of()), file);
        ModelSnapshot back = ModelSnapshots.read(file);
        ModelParameters read = ModelSnapshots.toParameters(back);
        assertEquals(ens.config(), read.config());
        assertEquals(ens.all(), read.all());
        assertTrue(read.all().stream().anyMatch(p -> p.name().startsWith("members.1.layers.1.")));

        int len = 30;
        StreamState s = StreamState.fresh(ens.config());
        Forecaster f = new Forecaster(new MambaModel(read));
        long[] t = ForecasterTest.irregularTimes(len);
        float[][] v = ForecasterTest.readings(len);
        for (int i = 0; i < len - 1; i++) f.advance(s, t[i], v[i]);
        StreamState restored = StreamState.fromBytes(s.toBytes(), ens.config());
        io.sidewinder.ssm.oracle.Tolerance.assertClose(io.sidewinder.ssm.oracle.Tolerance.toDouble(f.advance(s, t[len - 1], v[len - 1]).mean()), f.advance(restored, t[len - 1], v[len - 1]).mean(), 1e-5, 1e-4, "forecast (fp32 rounding, relative: values near 1000)");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> StreamState.fromBytes(StreamState.fresh(SINGLE).toBytes(), ens.config()));
        assertTrue(e.getMessage().contains("state layers"), e.getMessage());
    }

    @Test
    void anEnsembleOfDifferentShapesOrAMissingMemberIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ModelParameters.ensemble(
                List.of(member(1), ModelParameters.initialise(SINGLE.withShape(8, 1, 4, 4), 2))));
        assertTrue(e.getMessage().contains("single models of one config"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ModelParameters.ensemble(List.of(member(1, 1), member(2, 2))));
        assertTrue(e.getMessage().contains("differ in both their readout and their cycle"), e.getMessage());
        ModelParameters ens = ModelParameters.ensemble(List.of(member(1), member(2)));
        List<Parameter> withoutMember1 = ens.all().stream().filter(p -> !p.name().startsWith("members.1.")).toList();
        InvalidModelException missing = assertThrows(InvalidModelException.class,
                () -> ModelParameters.of(ens.config(), withoutMember1));
        assertTrue(missing.getMessage().contains("members.1.embed.weight"), missing.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ens.member(2));
        assertThrows(IllegalArgumentException.class, () -> SINGLE.withMembers(0));
    }

    @Test
    void aSingleModelsNamesAndStateAreUnchangedByTheMembersField() {
        assertEquals(1, SINGLE.members());
        assertEquals(SINGLE.layers(), SINGLE.stateLayers());
        assertTrue(!SINGLE.toMap().containsKey("members"), "single models' snapshots keep their config map");
        assertEquals(ModelConfig.fromMap(SINGLE.withMembers(3).toMap()), SINGLE.withMembers(3));
        assertEquals(ModelParameters.initialise(SINGLE, 5).all(),
                ModelParameters.initialise(SINGLE.withMembers(2), 5).member(0).all(),
                "member 0 of an initialised ensemble draws what the single model of its seed draws");
    }
}
