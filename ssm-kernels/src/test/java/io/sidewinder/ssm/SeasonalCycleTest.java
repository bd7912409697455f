package io.sidewinder.ssm;

import static io.sidewinder.ssm.oracle.Tolerance.assertClose;
import static io.sidewinder.ssm.oracle.Tolerance.toDouble;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class SeasonalCycleTest {
    static final long HOUR = 3_600_000L;
    /** Hourly readings, a daily cycle of 24 phases with profiles for 2 series, 2 channels. */
    static final ModelConfig CFG = LagReadoutTest.CFG.withGap(new GapScaling(HOUR, 0.05, 1_000)).withCycle(24, 2);

    static ModelParameters withRandomCycle(ModelConfig cfg, long seed) {
        ModelParameters p = LagReadoutTest.withRandomReadout(cfg, seed);
        float[] q = p.data(SeasonalCycle.WEIGHT);
        SplittableRandom r = new SplittableRandom(seed + 1);
        for (int i = 0; i < q.length; i++) q[i] = (float) r.nextGaussian();
        return p;
    }

    /** advance() reading by reading == forwardSequence() over len hourly readings with gaps, and so is the forecast after. */
    static void assertStreamingEqualsBatchHourly(Forecaster f, int len) {
        ModelConfig c = f.model().config();
        long[] times = hourlyWithGaps(len);
        float[][] values = ForecasterTest.readings(len);
        StreamState streamed = StreamState.fresh(c), batched = StreamState.fresh(c);
        ForecasterTest.assertStreamingEqualsBatch(f, streamed, batched, times, values);
        long next = times[len - 1] + HOUR;
        assertClose(toDouble(f.advance(batched, next, values[0]).mean()), f.advance(streamed, next, values[0]).mean(),
                3e-4, 1e-3, "the forecast after both");
    }

    static long[] hourlyWithGaps(int len) {
        long[] t = new long[len];
        long now = 1_700_000_000_000L - 1_700_000_000_000L % HOUR;
        for (int i = 0; i < len; i++) {
            now += (i % 11 == 10 ? 3 : 1) * HOUR; // every 11th reading comes after two missing ones
            t[i] = now;
        }
        return t;
    }

    @Test
    void thePhaseFollowsTheWallClockInReferenceSteps() {
        assertEquals(0, SeasonalCycle.phase(CFG, 0));
        assertEquals(3, SeasonalCycle.phase(CFG, 3 * HOUR + 59 * 60_000));
        assertEquals(1, SeasonalCycle.phase(CFG, 25 * HOUR));
        assertEquals(23, SeasonalCycle.phase(CFG, -1)); // before the epoch too
        assertEquals(0, SeasonalCycle.futurePhase(22, 1, 24));
        assertEquals(5, SeasonalCycle.futurePhase(22, 30, 24));
    }

    @Test
    void theForecastGetsTheCycleOfItsStepsAndTheReadoutSeesTheLagsWithoutTheirs() {
        ModelParameters p = withRandomCycle(CFG, 7);
        ModelParameters noCycle = ModelParameters.initialise(CFG, 7);
        p.all().forEach(t -> {
            if (!t.name().equals(SeasonalCycle.WEIGHT)) {
                System.arraycopy(t.data(), 0, noCycle.data(t.name()), 0, t.data().length);
            }
        });
        long[] times = hourlyWithGaps(40);
        float[][] values = ForecasterTest.readings(40);
        StreamState a = StreamState.fresh(CFG), b = StreamState.fresh(CFG);
        Forecaster with = new Forecaster(new MambaModel(p)).forSeries(1), without = new Forecaster(new MambaModel(noCycle));
        Forecaster.Prediction pa = null, pb = null;
        for (int t = 0; t < times.length; t++) {
            pa = with.advance(a, times[t], values[t]);
            pb = without.advance(b, times[t], values[t]);
        }
        // By hand: mean_h,c differs by σ_c·(Q[φ_h][2 + c] − Σ_j W[h][j]·Q[φ(t−j)][2 + c]).
        float[] q = p.data(SeasonalCycle.WEIGHT), w = p.data(LagReadout.WEIGHT);
        int last = times.length - 1, k = CFG.readoutLags();
        for (int h = 0; h < CFG.horizon(); h++) {
            for (int c = 0; c < 2; c++) {
                // Q is [P][S·C] = [24][4]: series 1, channel c is column 2 + c.
                double want = q[SeasonalCycle.futurePhase(SeasonalCycle.phase(CFG, times[last]), h, 24) * 4 + 2 + c];
                for (int j = 0; j < k; j++) want -= w[h * k + j] * q[SeasonalCycle.phase(CFG, times[last - j]) * 4 + 2 + c];
                want *= a.normalizer().std(c);
                assertEquals(want, pa.mean(h, c) - pb.mean(h, c), 1e-3 * Math.max(1, Math.abs(want)),
                        "step " + h + " channel " + c);
            }
        }
        // The log-variance rows read the same lags: log(sd_a/sd_b) = ½·(−Σ_j W[H + h][j]·Q[φ(t−j)][2 + c]).
        for (int h = 0; h < CFG.horizon(); h++) {
            for (int c = 0; c < 2; c++) {
                double want = 0;
                for (int j = 0; j < k; j++) {
                    want -= w[(CFG.horizon() + h) * k + j] * q[SeasonalCycle.phase(CFG, times[last - j]) * 4 + 2 + c];
                }
                assertEquals(0.5 * want, Math.log(pa.stddev(h, c) / pb.stddev(h, c)), 1e-3 * Math.max(1, Math.abs(want)),
                        "log stddev step " + h + " channel " + c);
            }
        }
    }

    @Test
    void streamingAdvanceEqualsBatchForwardWithACycleThroughGaps() {
        int len = 200;
        Forecaster f = new Forecaster(new MambaModel(withRandomCycle(CFG, 4))).forSeries(1);
        long[] times = hourlyWithGaps(len);
        float[][] values = ForecasterTest.readings(len);
        StreamState streamed = StreamState.fresh(CFG), batched = StreamState.fresh(CFG);
        ForecasterTest.assertStreamingEqualsBatch(f, streamed, batched, times, values);
        // Both forms leave the same lag phases behind (the SSM state agrees within fp32 rounding, not bit for bit).
        int[] streamedPhases = new int[CFG.readoutLags()], batchedPhases = new int[CFG.readoutLags()];
        assertEquals(streamed.history().lagPhases(streamedPhases), batched.history().lagPhases(batchedPhases));
        assertArrayEquals(streamedPhases, batchedPhases);
        long next = times[len - 1] + HOUR;
        assertClose(toDouble(f.advance(batched, next, values[0]).mean()), f.advance(streamed, next, values[0]).mean(),
                3e-4, 1e-3, "the forecast after both");
    }

    @Test
    void aSeriesTheCycleHasNoProfileForIsForecastWithoutIt() {
        ModelParameters p = withRandomCycle(CFG, 5);
        ModelParameters zeroCycle = withRandomCycle(CFG, 5);
        java.util.Arrays.fill(zeroCycle.data(SeasonalCycle.WEIGHT), 0f);
        long[] times = hourlyWithGaps(30);
        float[][] values = ForecasterTest.readings(30);
        Forecaster.Prediction[] beyond = new Forecaster(new MambaModel(p)).forSeries(2)
                .forwardSequence(StreamState.fresh(CFG), times, values);
        Forecaster.Prediction[] zero = new Forecaster(new MambaModel(zeroCycle))
                .forwardSequence(StreamState.fresh(CFG), times, values);
        io.sidewinder.ssm.oracle.Tolerance.assertClose(io.sidewinder.ssm.oracle.Tolerance.toDouble(zero[29].mean()), beyond[29].mean(), 1e-5, 1e-4, "forecast (fp32 rounding, relative: values near 1000)");
        Forecaster plain = new Forecaster(new MambaModel(LagReadoutTest.withRandomReadout(LagReadoutTest.CFG, 1)));
        assertSame(plain, plain.forSeries(3), "without a cycle every series is served alike");
    }

    @Test
    void phasesRoundTripThroughTheStateFormAndAnOlderStateTakesThemFromItsLastTime() {
        Forecaster f = new Forecaster(new MambaModel(withRandomCycle(CFG, 6)));
        long[] times = hourlyWithGaps(12);
        float[][] values = ForecasterTest.readings(12);
        StreamState s = StreamState.fresh(CFG);
        for (int t = 0; t < 9; t++) f.advance(s, times[t], values[t]);
        byte[] bytes = s.toBytes();
        assertEquals(StreamState.FORMAT_VERSION_WITH_PHASES, bytes[2]);
        assertEquals(StreamState.serializedSize(CFG), bytes.length);
        StreamState back = StreamState.fromBytes(bytes, CFG);
        assertArrayEquals(bytes, back.toBytes());
        io.sidewinder.ssm.oracle.Tolerance.assertClose(io.sidewinder.ssm.oracle.Tolerance.toDouble(f.advance(s, times[9], values[9]).mean()), f.advance(back, times[9], values[9]).mean(), 1e-5, 1e-4, "forecast (fp32 rounding, relative: values near 1000)");

        // A v2 state (the same model before it had a cycle) upgrades with phases counted back from its last reading.
        ModelConfig before = CFG.withCycle(0, 0);
        StreamState old = StreamState.fresh(before);
        Forecaster plain = new Forecaster(new MambaModel(LagReadoutTest.withRandomReadout(before, 6)));
        long[] regular = new long[4];
        for (int t = 0; t < regular.length; t++) {
            regular[t] = 100 * HOUR + t * HOUR;
            plain.advance(old, regular[t], values[t]);
        }
        StreamState upgraded = StreamState.fromBytes(old.toBytes(), CFG);
        int[] phases = new int[CFG.readoutLags()];
        assertEquals(4, upgraded.history().lagPhases(phases));
        assertArrayEquals(new int[] {7, 6, 5, 4}, java.util.Arrays.copyOf(phases, 4)); // hours 103, 102, 101, 100
        var e = assertThrows(IllegalArgumentException.class, () -> StreamState.fromBytes(bytes, before));
        assertTrue(e.getMessage().contains("cycle"), e.getMessage());
    }

    @Test
    void configRoundTripsTheCycleAndRejectsImpossibleOnes() {
        assertEquals(CFG, ModelConfig.fromMap(CFG.toMap()));
        assertEquals(24, CFG.cycleLength());
        assertEquals(4, CFG.cycleColumns());
        assertTrue(!LagReadoutTest.CFG.toMap().containsKey("cycle.length"));
        assertEquals(0, ModelConfig.fromMap(LagReadoutTest.CFG.toMap()).cycleSeries());
        assertThrows(IllegalArgumentException.class, () -> CFG.withCycle(1, 2));
        assertThrows(IllegalArgumentException.class, () -> CFG.withCycle(24, 0));
        assertEquals(0, CFG.withCycle(0, 5).cycleSeries());
        int[] shape = ModelParameters.expectedShapes(CFG).get(SeasonalCycle.WEIGHT);
        assertArrayEquals(new int[] {24, 4}, shape);
    }
}
