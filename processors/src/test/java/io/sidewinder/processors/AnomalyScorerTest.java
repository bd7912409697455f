package io.sidewinder.processors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class AnomalyScorerTest {

    /** Stats whose log-surprise has mean m and variance v, as after a long quiet history. */
    static AnomalyScorer.Stats stats(double m, double v) {
        AnomalyScorer.Stats s = new AnomalyScorer.Stats();
        s.count = 500;
        s.longMean = m;
        s.longVar = v;
        s.shortMean = m;
        return s;
    }

    @Test
    void theLikelihoodIsTheNormalCdfOfTheLogSurpriseAgainstTheSensorsUsualSurprise() {
        AnomalyScorer scorer = new AnomalyScorer(10, 0.999, 1, 1000);
        double surprise = Math.expm1(2.0); // log1p(surprise) = 2
        AnomalyScorer.Score s = scorer.score(stats(1.0, 0.25), surprise);
        assertEquals(AnomalyScorer.normalCdf((2.0 - 1.0) / 0.5), s.likelihood(), 1e-12);
        assertEquals(surprise, s.surprise());
    }

    @Test
    void extremeValueEvidenceCountsAsAForecastMissOneOverItsWeightTimesAsProbable() {
        AnomalyScorer scorer = new AnomalyScorer(10, 0.999, 1, 1000, 0.1);
        double zForecast = 2.0, zExtreme = 4.0;
        double pForecast = 1 - AnomalyScorer.normalCdf(zForecast), pExtreme = 1 - AnomalyScorer.normalCdf(zExtreme);
        AnomalyScorer.Score s = scorer.score(stats(0, 1), Math.expm1(zForecast), stats(0, 1), Math.expm1(zExtreme));
        // p_extreme (3.2e-5) / 0.1 = 3.2e-4 is rarer than the forecast's 0.023: the extreme value decides.
        assertEquals(1 - pExtreme / 0.1, s.likelihood(), 1e-9);
        assertTrue(pExtreme / 0.1 < pForecast);
        // A merely unusual value (z = 2.5, p 0.0062 → 0.062) does not outweigh a forecast miss of p 0.023.
        AnomalyScorer.Score mild = scorer.score(stats(0, 1), Math.expm1(zForecast), stats(0, 1), Math.expm1(2.5));
        assertEquals(1 - pForecast, mild.likelihood(), 1e-9);
    }

    @Test
    void withWeightZeroOnlyTheForecastSurpriseCounts() {
        AnomalyScorer alone = new AnomalyScorer(10, 0.999, 1, 1000, 0);
        AnomalyScorer.Score s = alone.score(stats(0, 1), Math.expm1(1.0), stats(0, 1), 1e9);
        assertEquals(AnomalyScorer.normalCdf(1.0), s.likelihood(), 1e-12);
        assertThrows(IllegalArgumentException.class, () -> new AnomalyScorer(10, 0.999, 1, 1000, 1.5));
    }

    @Test
    void nothingIsFlaggedDuringTheWarmupHoweverSurprising() {
        AnomalyScorer scorer = new AnomalyScorer(5, 0.99, 1, 1000);
        AnomalyScorer.Stats st = new AnomalyScorer.Stats();
        SplittableRandom r = new SplittableRandom(1);
        for (int i = 0; i < 5; i++) assertFalse(scorer.score(st, i == 4 ? 1e9 : r.nextDouble()).flagged(), "reading " + i);
        for (int i = 0; i < 50; i++) scorer.score(st, r.nextDouble());
        assertTrue(scorer.score(st, 1e6).flagged());
    }

    @Test
    void extremeValueSurpriseIsTheMeanSquaredZScoreAgainstTheReadingsBefore() {
        ExtremeValues.Stats st = new ExtremeValues.Stats(2);
        assertEquals(0, ExtremeValues.surprise(st, new float[] {1, 10}, 1000)); // nothing to compare with yet
        assertEquals(0, ExtremeValues.surprise(st, new float[] {3, 10}, 1000));
        // Channel 0: mean 2, variance 1 (population); channel 1: constant, variance floored at 1e-12.
        assertEquals(((5 - 2) * (5 - 2) / 1.0 + 0) / 2, ExtremeValues.surprise(st, new float[] {5, 10}, 1000), 1e-12);
        ByteBuffer buf = ByteBuffer.allocate(ExtremeValues.Stats.bytes(2));
        st.write(buf);
        ExtremeValues.Stats copy = ExtremeValues.Stats.read(buf.flip(), 2);
        assertEquals(ExtremeValues.surprise(st, new float[] {0, 11}, 1000), ExtremeValues.surprise(copy, new float[] {0, 11}, 1000));
    }

    @Test
    void aValueFarOutsideTheSensorsRangeRaisesTheLikelihoodEvenWhenTheForecastExpectedIt() {
        AnomalyScorer scorer = new AnomalyScorer(10, 0.999, 1, 1000, 0.1);
        AnomalyScorer.Stats forecast = new AnomalyScorer.Stats();
        ExtremeValues.Stats values = new ExtremeValues.Stats(1);
        SplittableRandom r = new SplittableRandom(2);
        AnomalyScorer.Score last = null;
        for (int i = 0; i < 600; i++) {
            float v = (float) r.nextGaussian();
            last = scorer.score(forecast, r.nextDouble(), values.surprises, ExtremeValues.surprise(values, new float[] {v}, 1000));
        }
        assertFalse(last.flagged());
        // The forecast saw it coming (an ordinary forecast surprise), but 12 is far outside everything so far.
        AnomalyScorer.Score s = scorer.score(forecast, 0.5, values.surprises, ExtremeValues.surprise(values, new float[] {12}, 1000));
        assertTrue(s.flagged(), "likelihood " + s.likelihood());
        AnomalyScorer.Score alone = new AnomalyScorer(10, 0.999, 1, 1000).score(forecast, 0.5);
        assertFalse(alone.flagged());
    }
}
