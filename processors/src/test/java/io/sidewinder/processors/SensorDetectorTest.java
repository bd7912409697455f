package io.sidewinder.processors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sidewinder.ssm.Forecaster;
import io.sidewinder.ssm.MambaModel;
import io.sidewinder.ssm.ModelConfig;
import io.sidewinder.ssm.ModelParameters;
import io.sidewinder.ssm.StreamState;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class SensorDetectorTest {
    static final Forecaster UNIVARIATE = new Forecaster(new MambaModel(ModelParameters.initialise(ModelConfig.defaults(1), 5)));
    static final AnomalyScorer SCORER = new AnomalyScorer(20, 0.999, 1, 1000);

    static SensorDetector detector(KeyCadence.Mode mode) {
        return new SensorDetector(UNIVARIATE, SCORER, mode);
    }

    /**
     * The same fp32 arithmetic, up to a few ulps: the JIT may compile one call site and not the other, and the
     * interpreted and intrinsic transcendental functions are allowed to differ in the last bit.
     */
    static void assertSameFloat(float expected, float actual) {
        assertEquals(expected, actual, 4 * Math.ulp(Math.max(1f, Math.abs(expected))));
    }

    @Test
    void aUnivariateModelServesEachChannelOfAWiderSensorOnItsOwn() {
        SensorDetector d = detector(KeyCadence.Mode.MODEL);
        SensorDetector.State s = d.newState(3);
        StreamState[] alone = {StreamState.fresh(UNIVARIATE.model().config()), StreamState.fresh(UNIVARIATE.model().config()),
                StreamState.fresh(UNIVARIATE.model().config())};
        SplittableRandom r = new SplittableRandom(1);
        for (int t = 0; t < 50; t++) {
            long time = 1_000L * t;
            float[] v = {(float) r.nextGaussian(), 100 + (float) r.nextGaussian(), -5 * t};
            SensorDetector.Observation o = d.observe(s, time, v);
            int h = o.horizon();
            for (int c = 0; c < 3; c++) {
                Forecaster.Prediction p = UNIVARIATE.advance(alone[c], time, new float[] {v[c]});
                for (int step = 0; step < h; step++) {
                    assertSameFloat(p.mean(step, 0), o.forecastMean()[step * 3 + c]);
                    assertSameFloat(p.stddev(step, 0), o.forecastStd()[step * 3 + c]);
                }
            }
        }
    }

    @Test
    void channelCOfAWiderSensorGetsSeriesCOfTheModelsCycleAndChannelsBeyondItGetNone() {
        ModelConfig cfg = ModelConfig.defaults(1).withReadoutLags(8).withCycle(24, 2);
        ModelParameters p = ModelParameters.initialise(cfg, 9);
        SplittableRandom r = new SplittableRandom(4);
        for (String name : new String[] {io.sidewinder.ssm.LagReadout.WEIGHT, io.sidewinder.ssm.SeasonalCycle.WEIGHT}) {
            float[] w = p.data(name);
            for (int i = 0; i < w.length; i++) w[i] = (float) (0.1 * r.nextGaussian());
        }
        Forecaster cycled = new Forecaster(new MambaModel(p));
        SensorDetector d = new SensorDetector(cycled, SCORER, KeyCadence.Mode.MODEL);
        SensorDetector.State s = d.newState(3);
        StreamState[] alone = {StreamState.fresh(cfg), StreamState.fresh(cfg), StreamState.fresh(cfg)};
        long step = cfg.gap().referenceMillis();
        for (int t = 0; t < 60; t++) {
            float[] v = {(float) r.nextGaussian(), 10 + (float) r.nextGaussian(), (float) Math.sin(t)};
            SensorDetector.Observation o = d.observe(s, step * t, v);
            for (int c = 0; c < 3; c++) {
                Forecaster.Prediction want = cycled.forSeries(c).advance(alone[c], step * t, new float[] {v[c]});
                for (int h = 0; h < o.horizon(); h++) assertSameFloat(want.mean(h, 0), o.forecastMean()[h * 3 + c]);
            }
        }
        // Series 0 and 1 differ by their profiles; the third channel is served without one.
        StreamState a = StreamState.fresh(cfg), b = StreamState.fresh(cfg);
        assertFalse(java.util.Arrays.equals(cycled.forSeries(0).advance(a, 0, new float[] {1}).mean(),
                cycled.forSeries(1).advance(b, 0, new float[] {1}).mean()));
    }

    @Test
    void withKeyCadenceASlowStreamIsForecastLikeTheSameStreamAtTheModelsInterval() {
        SensorDetector d = detector(KeyCadence.Mode.KEY);
        SensorDetector.State slow = d.newState(1), fast = d.newState(1);
        SplittableRandom r = new SplittableRandom(2);
        for (int t = 0; t < 100; t++) {
            float[] v = {(float) (Math.sin(t / 5.0) + 0.1 * r.nextGaussian())};
            SensorDetector.Observation a = d.observe(slow, 300_000L * t, v);
            SensorDetector.Observation b = d.observe(fast, 1_000L * t, v);
            assertArrayEquals(b.forecastMean(), a.forecastMean(), 1e-5f);
        }
    }

    @Test
    void theFirstReadingHasNoScoreAndLaterOnesDo() {
        SensorDetector d = detector(KeyCadence.Mode.MODEL);
        SensorDetector.State s = d.newState(2);
        assertNull(d.observe(s, 0, new float[] {1, 2}).score());
        AnomalyScorer.Score score = d.observe(s, 1_000, new float[] {1, 2}).score();
        assertTrue(score.likelihood() >= 0 && score.likelihood() <= 1);
    }

    @Test
    void aLevelShiftIsFlaggedOnceAndThenLearned() {
        SensorDetector d = detector(KeyCadence.Mode.MODEL);
        SensorDetector.State s = d.newState(1);
        SplittableRandom r = new SplittableRandom(3);
        for (int t = 0; t < 400; t++) d.observe(s, 1_000L * t, new float[] {(float) r.nextGaussian()});
        AnomalyScorer.Score atShift = d.observe(s, 400_000, new float[] {30}).score();
        assertTrue(atShift.flagged(), "likelihood at the shift " + atShift.likelihood());
        int flaggedLater = 0;
        for (int t = 500; t < 900; t++) {
            if (d.observe(s, 1_000L * t, new float[] {30 + (float) r.nextGaussian()}).score().flagged() && t > 600) flaggedLater++;
        }
        assertTrue(flaggedLater < 5, "still flagged " + flaggedLater + " times long after the shift");
    }

    @Test
    void readingsNearTheLargestFloatGiveFiniteForecastsAndScores() {
        SensorDetector d = detector(KeyCadence.Mode.MODEL);
        SensorDetector.State s = d.newState(1);
        SensorDetector.Observation o = null;
        for (int t = 0; t < 40; t++) {
            o = d.observe(s, 60_000L * t, new float[] {t % 2 == 0 ? 3e38f : -3e38f});
            for (float v : o.forecastMean()) assertTrue(Float.isFinite(v), "mean at t=" + t);
            for (float v : o.forecastStd()) assertTrue(Float.isFinite(v), "std at t=" + t);
        }
        assertTrue(o.score() != null && o.score().likelihood() >= 0 && o.score().likelihood() <= 1);
    }

    @Test
    void aDamagedStoredStateIsRefusedNotAllocated() {
        KeyState ks = new KeyState();
        ks.detector = detector(KeyCadence.Mode.MODEL).newState(1);
        byte[] bytes = ks.toBytes();
        // version (1) + model version (8) + model tag (8) + stream count (4), then the first state's length
        byte[] huge = bytes.clone();
        java.nio.ByteBuffer.wrap(huge).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(21, Integer.MAX_VALUE);
        assertThrows(IllegalArgumentException.class, () -> KeyState.fromBytes(huge));
        byte[] longer = java.util.Arrays.copyOf(bytes, bytes.length + 3);
        assertThrows(IllegalArgumentException.class, () -> KeyState.fromBytes(longer));
    }

    @Test
    void theStateKeepsItsSizeRightAsTheRingBufferFillsRollsAndIsTrimmed() {
        KeyState ks = new KeyState();
        ks.detector = detector(KeyCadence.Mode.MODEL).newState(3);
        for (int i = 0; i < 40; i++) {
            ks.remember(1_000L * i, new float[] {i, -i, 0.5f * i}, 16);
            byte[] bytes = ks.toBytes();   // an exact size: toBytes fails on a short buffer, fromBytes on a long one
            KeyState copy = KeyState.fromBytes(bytes);
            assertEquals(ks.recentReadings(), copy.recentReadings());
            assertArrayEquals(bytes, copy.toBytes(), "reading " + i);
        }
        ks.dropOldestReading();
        ks.dropOldestReading();
        assertEquals(14, KeyState.fromBytes(ks.toBytes()).recentReadings());
        ks.remember(99_000, new float[] {1, 2, 3}, 0);
        assertEquals(0, KeyState.fromBytes(ks.toBytes()).recentReadings());
    }

    @Test
    void aRingBufferOfSizeZeroKeepsNoReadings() {
        KeyState ks = new KeyState();
        ks.remember(1_000, new float[] {1}, 4);
        ks.remember(2_000, new float[] {2}, 0);
        assertEquals(0, ks.recentReadings());
    }

    @Test
    void aStateStoredAndDecodedContinuesExactlyAsTheOriginal() {
        SensorDetector d = detector(KeyCadence.Mode.KEY);
        KeyState original = new KeyState();
        original.detector = d.newState(2);
        for (int t = 0; t < 30; t++) d.observe(original.detector, 60_000L * t, new float[] {t, -t});
        KeyState copy = KeyState.fromBytes(original.toBytes());
        assertFalse(d.fits(copy.detector));
        d.attach(copy.detector, copy.encodedStreams);
        SensorDetector.Observation a = d.observe(original.detector, 60_000L * 31, new float[] {3, 4});
        SensorDetector.Observation b = d.observe(copy.detector, 60_000L * 31, new float[] {3, 4});
        assertScoresClose(a.score(), b.score());
        assertArrayEquals(a.forecastMean(), b.forecastMean(), 1e-4f);   // fp32 rounding across a JIT switch
    }

    @Test
    void theBaselineAndTheLastDeviationSurviveTheStore() {
        SensorDetector d = new SensorDetector(UNIVARIATE, SCORER, new BaselineDeviation(20, 5, 3000, 6.25, 3600), KeyCadence.Mode.MODEL);
        KeyState original = new KeyState();
        original.detector = d.newState(2);
        SplittableRandom r = new SplittableRandom(8);
        for (int t = 0; t < 60; t++) d.observe(original.detector, 1_000L * t, new float[] {(float) r.nextGaussian(), t % 3});
        original.lastDeviation = 0.25;
        original.lastDeviating = true;
        KeyState copy = KeyState.fromBytes(original.toBytes());
        assertEquals(0.25, copy.lastDeviation());
        assertTrue(copy.lastDeviating());
        d.attach(copy.detector, copy.encodedStreams);
        for (int t = 60; t < 90; t++) {
            float[] v = {(float) (t > 70 ? 9 : r.nextGaussian()), t % 3};
            SensorDetector.Observation a = d.observe(original.detector, 1_000L * t, v), b = d.observe(copy.detector, 1_000L * t, v);
            assertEquals(a.deviation(), b.deviation(), "reading " + t);
            assertScoresClose(a.score(), b.score());   // from the fp32 forecast: rounding may differ with the JIT tier
            assertTrue(a.deviation().baselineReady());
        }
    }

    @Test
    void aKeyStoredBeforeBaselinesExistedLoadsAndStartsLearningOne() {
        SensorDetector d = new SensorDetector(UNIVARIATE, SCORER, new BaselineDeviation(20, 5, 3000, 6.25, 3600), KeyCadence.Mode.MODEL);
        KeyState ks = new KeyState();
        ks.detector = d.newState(1);
        for (int t = 0; t < 40; t++) {
            float[] v = {(float) Math.sin(t)};
            SensorDetector.Observation o = d.observe(ks.detector, 1_000L * t, v);
            ks.forecastMean = o.forecastMean();
            ks.forecastStd = o.forecastStd();
            ks.remember(1_000L * t, v, 8);
        }
        KeyState old = KeyState.fromBytes(asVersion2(ks));
        assertEquals(ks.detector.scored(), old.readings());
        assertEquals(8, old.recentReadings());
        assertArrayEquals(ks.forecastMean(), old.forecastMean(), 1e-4f);
        d.attach(old.detector, old.encodedStreams);
        SensorDetector.Observation a = d.observe(ks.detector, 41_000, new float[] {0.5f}), b = d.observe(old.detector, 41_000, new float[] {0.5f});
        // the likelihood differs (extreme values start afresh); the surprise is the forecast's, up to fp32 rounding
        assertEquals(a.score().surprise(), b.score().surprise(), 1e-5 * Math.max(1, Math.abs(a.score().surprise())));
        assertArrayEquals(a.forecastMean(), b.forecastMean(), 1e-4f);   // fp32 rounding across a JIT switch
        assertTrue(a.deviation().baselineReady());
        assertFalse(b.deviation().baselineReady(), "a v2 key has no baseline yet");
    }

    /** Offsets in a v4 key state: after the model states, and the baseline within the detector state. */
    private record Layout(int streamsEnd, int baselineAt, int afterBaseline, int deviationAt) {
        static Layout of(KeyState ks) {
            int c = ks.detector.channels();
            int pos = 1 + 8 + 8 + 4;
            for (StreamState s : ks.detector.streams) pos += 4 + StreamState.serializedSize(s.config());
            int baselineAt = pos + 1 + SensorDetector.State.FIXED_BYTES + 8 * c;
            int afterBaseline = baselineAt + BaselineDeviation.Stats.bytes(c) + ExtremeValues.Stats.bytes(c);
            int deviationAt = afterBaseline + 8 + 4 + 4 * ks.forecastMean().length + 4 + 4 * ks.forecastStd().length + 8 + 8 + 1;
            return new Layout(pos, baselineAt, afterBaseline, deviationAt);
        }
    }

    /** The v2 layout: v4 without the model tag, the detector's baseline and extreme-value stats, and the last deviation. */
    static byte[] asVersion2(KeyState ks) {
        byte[] v4 = ks.toBytes();
        Layout at = Layout.of(ks);
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        out.write(KeyState.FORMAT_VERSION_WITHOUT_BASELINE);
        out.write(v4, 1, 8);
        out.write(v4, 17, at.baselineAt() - 17);
        out.write(v4, at.afterBaseline(), at.deviationAt() - at.afterBaseline());
        out.write(v4, at.deviationAt() + 9, v4.length - at.deviationAt() - 9);
        return out.toByteArray();
    }

    /** The v3 layout: v4 without the model tag and without the baseline's phase byte (its last). */
    static byte[] asVersion3(KeyState ks) {
        byte[] v4 = ks.toBytes();
        int c = ks.detector.channels();
        int phaseAt = Layout.of(ks).baselineAt() + BaselineDeviation.Stats.bytes(c) - 1;
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        out.write(KeyState.FORMAT_VERSION_WITHOUT_TAG);
        out.write(v4, 1, 8);
        out.write(v4, 17, phaseAt - 17);
        out.write(v4, phaseAt + 1, v4.length - phaseAt - 1);
        return out.toByteArray();
    }

    @Test
    void aKeyStoredByV3LoadsWithAnUnknownTagAndInfersItsBaselinePhase() {
        BaselineDeviation baseline = new BaselineDeviation(20, 1, 3000, 6.25, 3600);
        SensorDetector d = new SensorDetector(UNIVARIATE, SCORER, baseline, KeyCadence.Mode.MODEL);
        KeyState ks = new KeyState();
        ks.detector = d.newState(1);
        for (int t = 0; t < 30; t++) d.observe(ks.detector, 60_000L * t, new float[] {(float) Math.sin(t)});
        ks.modelTag = 77;
        ks.forecastMean = new float[] {1, 2};
        ks.forecastStd = new float[] {3, 4};
        KeyState old = KeyState.fromBytes(asVersion3(ks));
        assertEquals(0, old.modelTag);
        d.attach(old.detector, old.encodedStreams);
        SensorDetector.Observation a = d.observe(ks.detector, 60_000L * 31, new float[] {0.5f});
        SensorDetector.Observation b = d.observe(old.detector, 60_000L * 31, new float[] {0.5f});
        assertEquals(a.deviation(), b.deviation(), "the learned baseline is taken as learned");
    }

    @Test
    void aBaselineKeepsWorkingWhenItsReferenceLengthIsLoweredOrRaisedBetweenRuns() {
        SplittableRandom r = new SplittableRandom(3);
        BaselineDeviation long400 = new BaselineDeviation(400, 1, 3000, 6.25, 3600);
        BaselineDeviation.Stats st = new BaselineDeviation.Stats(1);
        for (int t = 0; t < 300; t++) long400.observe(st, new float[] {(float) r.nextGaussian()});
        // lowered to 200 at 300 readings: the 300 learned become the baseline, not an undivided scatter sum
        BaselineDeviation short200 = new BaselineDeviation(200, 1, 3000, 6.25, 3600);
        BaselineDeviation.Deviation normal = short200.observe(st, new float[] {0.5f});
        assertTrue(normal.baselineReady() && normal.distance() < 2, "a normal reading is near the baseline: " + normal);
        BaselineDeviation.Deviation far = short200.observe(st, new float[] {8f});
        assertTrue(far.deviating(), "eight standard deviations away deviates: " + far);
        // raised to 2000 afterwards: the finished baseline stays finished
        BaselineDeviation long2000 = new BaselineDeviation(2000, 1, 3000, 6.25, 3600);
        assertTrue(long2000.observe(st, new float[] {0.2f}).baselineReady());
    }

    @Test
    void aModelWithALagReadoutKeepsEachChannelsHistoryThroughTheStore() {
        ModelParameters p = ModelParameters.initialise(ModelConfig.defaults(1).withReadoutLags(8), 5);
        float[] w = p.data(io.sidewinder.ssm.LagReadout.WEIGHT);
        for (int i = 0; i < w.length; i++) w[i] = 0.05f * ((i % 7) - 3);
        SensorDetector d = new SensorDetector(new Forecaster(new MambaModel(p)), SCORER, KeyCadence.Mode.MODEL);
        KeyState original = new KeyState();
        original.detector = d.newState(2);
        for (int t = 0; t < 30; t++) d.observe(original.detector, 1_000L * t, new float[] {t % 5, -t});
        KeyState copy = KeyState.fromBytes(original.toBytes());
        d.attach(copy.detector, copy.encodedStreams);
        SensorDetector.Observation a = d.observe(original.detector, 31_000, new float[] {3, 4});
        SensorDetector.Observation b = d.observe(copy.detector, 31_000, new float[] {3, 4});
        assertScoresClose(a.score(), b.score());
        assertArrayEquals(a.forecastMean(), b.forecastMean(), 1e-4f); // a lost history would change the readout's term
    }

    @Test
    void aWarmRebuildEqualsReplayingTheRecentReadingsIntoAFreshState() {
        SensorDetector d = detector(KeyCadence.Mode.MODEL);
        KeyState ks = new KeyState();
        ks.detector = d.newState(1);
        for (int t = 0; t < 40; t++) {
            float[] v = {(float) Math.cos(t)};
            d.observe(ks.detector, 1_000L * t, v);
            ks.remember(1_000L * t, v, 16);
        }
        SensorDetector.Observation rebuilt = d.warm(ks.detector, ks.recent);
        SensorDetector.State fresh = d.newState(1);
        SensorDetector.Observation replayed = null;
        for (KeyState.Reading r : ks.recent) replayed = d.observe(fresh, r.eventTime(), r.values());
        // Within fp32 rounding, not bit for bit: the two loops may run one interpreted and one JIT-compiled, and the
        // Vector API's compiled kernels may fuse or order a sum differently (seen once in CI: 1 ulp at one step).
        assertArrayEquals(replayed.forecastMean(), rebuilt.forecastMean(), 1e-6f);
    }

    @Test
    void aMultivariateModelOnlyServesItsOwnChannelCount() {
        SensorDetector d = new SensorDetector(new Forecaster(new MambaModel(ModelParameters.initialise(ModelConfig.defaults(2), 1))),
                SCORER, KeyCadence.Mode.MODEL);
        assertTrue(d.serves(2));
        assertFalse(d.serves(3));
        assertFalse(d.serves(1));
        assertThrows(IllegalArgumentException.class, () -> d.newState(3));
        assertTrue(detector(KeyCadence.Mode.MODEL).serves(7));
    }

    /** Two scores of the same reading from equal states: equal up to fp32 rounding (a JIT switch between the runs). */
    private static void assertScoresClose(AnomalyScorer.Score a, AnomalyScorer.Score b) {
        assertEquals(a.surprise(), b.surprise(), 1e-5 * Math.max(1, Math.abs(a.surprise())));
        assertEquals(a.likelihood(), b.likelihood(), 1e-5);
        assertEquals(a.flagged(), b.flagged());
    }
}
