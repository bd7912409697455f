package io.sidewinder.processors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class BaselineDeviationTest {
    static final long NEVER = Long.MAX_VALUE;

    static float[] gaussian(SplittableRandom r, int channels, double level) {
        float[] v = new float[channels];
        for (int c = 0; c < channels; c++) v[c] = (float) (level + r.nextGaussian());
        return v;
    }

    @Test
    void nothingIsScoredWhileTheBaselineIsLearned() {
        BaselineDeviation b = new BaselineDeviation(50, 10, 3000, 6.25, NEVER);
        BaselineDeviation.Stats st = new BaselineDeviation.Stats(2);
        SplittableRandom r = new SplittableRandom(1);
        for (int t = 0; t < 50; t++) {
            BaselineDeviation.Deviation d = b.observe(st, t == 30 ? new float[] {1e6f, -1e6f} : gaussian(r, 2, 0));
            assertFalse(d.baselineReady());
            assertEquals(0, d.score());
            assertFalse(d.deviating());
        }
        assertTrue(b.observe(st, gaussian(r, 2, 0)).baselineReady());
    }

    @Test
    void aUnivariateDistanceIsTheSquaredStandardisedGapOfTheSmoothedReading() {
        // No smoothing, a reference of 1, 2, 3, 4: mean 2.5, population variance 1.25.
        BaselineDeviation b = new BaselineDeviation(4, 1, 1_000_000, 100, NEVER);
        BaselineDeviation.Stats st = new BaselineDeviation.Stats(1);
        for (int v = 1; v <= 4; v++) b.observe(st, new float[] {v});
        BaselineDeviation.Deviation d = b.observe(st, new float[] {5});
        double distance = 2.5 * 2.5 / 1.25 / (1 + BaselineDeviation.CORRELATION_RIDGE);
        assertEquals(distance, d.distance(), 1e-12);
        assertEquals((distance - 1) / distance, d.score(), 1e-12);
        assertEquals(0, b.observe(st, new float[] {2.5f}).score(), 0, "a reading at the mean is not deviating at all");
    }

    @Test
    void smoothingAveragesTheReadingsBeforeTheDistance() {
        // Smoothing over 2 readings: x̄ moves half way to each reading. Reference: 0, 2, 1, 1.5 -> mean 1.125.
        BaselineDeviation b = new BaselineDeviation(4, 2, 1_000_000, 100, NEVER);
        BaselineDeviation.Stats st = new BaselineDeviation.Stats(1);
        for (float v : new float[] {0, 4, 0, 2}) b.observe(st, new float[] {v});
        double[] ref = {0, 2, 1, 1.5};
        double mean = 1.125, var = 0;
        for (double x : ref) var += (x - mean) * (x - mean) / 4;
        double smoothed = 1.5 + 0.5 * (9 - 1.5);
        BaselineDeviation.Deviation d = b.observe(st, new float[] {9});
        assertEquals((smoothed - mean) * (smoothed - mean) / var / (1 + BaselineDeviation.CORRELATION_RIDGE), d.distance(), 1e-9);
    }

    @Test
    void aLevelShiftStaysDeviatingForItsWholeLengthWhereAForecastSurpriseWouldFade() {
        BaselineDeviation b = new BaselineDeviation(200, 10, 3000, 6.25, NEVER);
        BaselineDeviation.Stats st = new BaselineDeviation.Stats(3);
        SplittableRandom r = new SplittableRandom(2);
        int falseAlarms = 0;
        for (int t = 0; t < 1000; t++) if (b.observe(st, gaussian(r, 3, 0)).deviating()) falseAlarms++;
        assertTrue(falseAlarms < 10, falseAlarms + " of 1000 normal readings deviating");
        int deviating = 0;
        for (int t = 0; t < 1000; t++) if (b.observe(st, gaussian(r, 3, 3)).deviating()) deviating++;
        assertTrue(deviating > 980, "only " + deviating + " of 1000 shifted readings deviating"); // the first few smooth in
        int after = 0;
        for (int t = 0; t < 1000; t++) if (b.observe(st, gaussian(r, 3, 0)).deviating() && t > 20) after++;
        assertTrue(after < 10, after + " readings still deviating after the sensor came back");
    }

    @Test
    void aDeviationLastingTheRelearnLengthBecomesTheNewNormal() {
        BaselineDeviation b = new BaselineDeviation(100, 5, 3000, 6.25, 300);
        BaselineDeviation.Stats st = new BaselineDeviation.Stats(1);
        SplittableRandom r = new SplittableRandom(3);
        for (int t = 0; t < 500; t++) b.observe(st, gaussian(r, 1, 0));
        int deviating = 0;
        for (int t = 0; t < 300; t++) if (b.observe(st, gaussian(r, 1, 10)).deviating()) deviating++;
        assertTrue(deviating > 290, "shift flagged " + deviating + " times");
        // The 300th deviating reading restarted the baseline: it is learned from the new level, then normal.
        for (int t = 0; t < 100; t++) assertFalse(b.observe(st, gaussian(r, 1, 10)).baselineReady(), "reading " + t);
        int later = 0;
        for (int t = 0; t < 500; t++) if (b.observe(st, gaussian(r, 1, 10)).deviating()) later++;
        // A short, smoothed reference estimates the spread roughly, hence a few percent rather than none.
        assertTrue(later < 25, later + " of 500 readings at the new level still deviating");
    }

    @Test
    void channelsThatLeaveTheirUsualRelationAreCaughtWhileEachStaysInItsOwnRange() {
        BaselineDeviation b = new BaselineDeviation(400, 1, 1_000_000, 6.25, NEVER);
        BaselineDeviation.Stats st = new BaselineDeviation.Stats(2);
        SplittableRandom r = new SplittableRandom(4);
        for (int t = 0; t < 400; t++) {
            double x = r.nextGaussian();
            b.observe(st, new float[] {(float) x, (float) (x + 0.05 * r.nextGaussian())});
        }
        // Both channels at +1.5σ together: usual; one at +1.5σ and the other at −1.5σ: never seen.
        BaselineDeviation.Deviation together = b.observe(st, new float[] {1.5f, 1.5f});
        assertFalse(together.deviating(), "distance " + together.distance());
        BaselineDeviation.Deviation apart = b.observe(st, new float[] {1.5f, -1.5f});
        assertTrue(apart.deviating() && apart.score() > 0.99, "distance " + apart.distance());
    }

    @Test
    void aSensorWithManyChannelsKeepsOnlyPerChannelVariancesSoItsStateStaysSmall() {
        int c = BaselineDeviation.MAX_CORRELATED_CHANNELS + 8;
        assertTrue(BaselineDeviation.Stats.bytes(c) <= 16 + 8 * 3 * c + 1, "bytes " + BaselineDeviation.Stats.bytes(c));
        BaselineDeviation b = new BaselineDeviation(100, 1, 3000, 6.25, NEVER);
        BaselineDeviation.Stats st = new BaselineDeviation.Stats(c);
        SplittableRandom r = new SplittableRandom(9);
        for (int t = 0; t < 100; t++) b.observe(st, gaussian(r, c, 0));
        // Without correlations the distance is the mean squared z-score over the channels.
        float[] v = new float[c];
        v[3] = 40;
        double z = (40 - st.mean[3]) / Math.sqrt(st.cov[3]);
        BaselineDeviation.Deviation d = b.observe(st, v);
        // The other channels read 0, a little off their means; the baseline did not move, as the reading deviates.
        double sum = z * z;
        for (int i = 0; i < c; i++) if (i != 3) sum += st.mean[i] * st.mean[i] / st.cov[i];
        assertEquals(sum / (1 + BaselineDeviation.CORRELATION_RIDGE) / c, d.distance(), 1e-9);
        assertTrue(d.deviating());
        ByteBuffer buf = ByteBuffer.allocate(BaselineDeviation.Stats.bytes(c));
        st.write(buf);
        assertEquals(0, buf.remaining());
        BaselineDeviation.Stats copy = BaselineDeviation.Stats.read(buf.flip(), c, true);
        float[] next = gaussian(r, c, 0);
        assertEquals(b.observe(st, next), b.observe(copy, next));
    }

    @Test
    void slowDriftIsFollowedButOnlyByReadingsThatAreNotDeviating() {
        SplittableRandom r = new SplittableRandom(5);
        BaselineDeviation adapting = new BaselineDeviation(200, 10, 500, 6.25, NEVER);
        BaselineDeviation frozen = new BaselineDeviation(200, 10, Integer.MAX_VALUE, 6.25, NEVER);
        BaselineDeviation.Stats a = new BaselineDeviation.Stats(1), f = new BaselineDeviation.Stats(1);
        int adaptingFlags = 0, frozenFlags = 0;
        for (int t = 0; t < 20_000; t++) {
            // Drifts 0.25σ of the raw noise per 1,000 readings: 5σ in all.
            float[] v = {(float) (t * 2.5e-4 + r.nextGaussian())};
            if (adapting.observe(a, v).deviating()) adaptingFlags++;
            if (frozen.observe(f, v).deviating()) frozenFlags++;
        }
        assertTrue(adaptingFlags < 400, "adapting baseline: " + adaptingFlags + " deviating readings");
        assertTrue(frozenFlags > 10_000, "a frozen baseline would flag the drift: " + frozenFlags);
    }

    @Test
    void aChannelConstantThroughTheReferenceFlagsAnyLaterChange() {
        BaselineDeviation b = new BaselineDeviation(50, 1, 3000, 6.25, NEVER);
        BaselineDeviation.Stats st = new BaselineDeviation.Stats(2);
        SplittableRandom r = new SplittableRandom(6);
        for (int t = 0; t < 50; t++) b.observe(st, new float[] {(float) r.nextGaussian(), 32});
        assertFalse(b.observe(st, new float[] {0, 32}).deviating());
        BaselineDeviation.Deviation d = b.observe(st, new float[] {0, 32.5f});
        assertTrue(d.deviating() && Double.isFinite(d.distance()), "distance " + d.distance());
    }

    @Test
    void theBaselineContinuesExactlyAfterAByteRoundTrip() {
        BaselineDeviation b = new BaselineDeviation(100, 10, 500, 6.25, 200);
        BaselineDeviation.Stats st = new BaselineDeviation.Stats(3);
        SplittableRandom r = new SplittableRandom(7);
        for (int t = 0; t < 400; t++) b.observe(st, gaussian(r, 3, t > 300 ? 8 : 0));
        ByteBuffer buf = ByteBuffer.allocate(BaselineDeviation.Stats.bytes(3));
        st.write(buf);
        assertEquals(0, buf.remaining());
        BaselineDeviation.Stats copy = BaselineDeviation.Stats.read(buf.flip(), 3, true);
        for (int t = 0; t < 300; t++) {
            float[] v = gaussian(r, 3, 8);
            assertEquals(b.observe(st, v), b.observe(copy, v), "reading " + t);
        }
    }

    @Test
    void settingsComeFromTheProcessorConfigAndNonsenseIsRefused() {
        SidewinderConfig c = new SidewinderConfig(Map.of(SidewinderConfig.DEVIATION_REFERENCE, "3",
                SidewinderConfig.DEVIATION_SMOOTHING, "1"));
        BaselineDeviation b = BaselineDeviation.from(c);
        BaselineDeviation.Stats st = new BaselineDeviation.Stats(1);
        for (int t = 0; t < 3; t++) assertFalse(b.observe(st, new float[] {t}).baselineReady());
        assertTrue(b.observe(st, new float[] {1}).baselineReady());
        assertThrows(IllegalArgumentException.class, () -> new BaselineDeviation(1, 10, 3000, 6.25, 10));
        assertThrows(IllegalArgumentException.class, () -> new BaselineDeviation(10, 0, 3000, 6.25, 10));
        assertThrows(IllegalArgumentException.class, () -> new BaselineDeviation(10, 10, 3000, 0.5, 10));
        assertThrows(IllegalArgumentException.class, () -> new BaselineDeviation(10, 10, 3000, 6.25, 0));
        assertThrows(IllegalArgumentException.class, () -> b.observe(st, new float[] {1, 2}));
        assertThrows(org.apache.kafka.common.config.ConfigException.class,
                () -> new SidewinderConfig(Map.of(SidewinderConfig.DEVIATION_GATE, "0.5")));
    }
}
