package io.sidewinder.ssm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MixedEnsembleTest {
    /** Member 0: the NORMALISED form; member 1: RESIDUAL; each its own random stack, readout and cycle. */
    static ModelParameters normalisedMember() {
        return SeasonalCycleTest.withRandomCycle(SeasonalCycleTest.CFG, 11);
    }

    static ModelParameters residualMember() {
        return SeasonalCycleTest.withRandomCycle(ReadoutFormTest.CFG, 12);
    }

    static ModelParameters mixed() {
        return ModelParameters.ensemble(List.of(normalisedMember(), residualMember()));
    }

    @Test
    void aMixedEnsembleServesTheMeanOfItsMembersForecastsEachInItsOwnForm() {
        ModelParameters m = mixed();
        assertEquals(ReadoutForm.MIXED, m.config().readoutForm());
        Forecaster both = new Forecaster(new MambaModel(m)).forSeries(1);
        Forecaster normalised = new Forecaster(new MambaModel(normalisedMember())).forSeries(1);
        Forecaster residual = new Forecaster(new MambaModel(residualMember())).forSeries(1);
        StreamState s = StreamState.fresh(m.config()), sn = StreamState.fresh(SeasonalCycleTest.CFG),
                sr = StreamState.fresh(ReadoutFormTest.CFG);
        long[] times = SeasonalCycleTest.hourlyWithGaps(40);
        float[][] values = ForecasterTest.readings(40);
        for (int t = 0; t < 40; t++) {
            Forecaster.Prediction p = both.advance(s, times[t], values[t]);
            Forecaster.Prediction a = normalised.advance(sn, times[t], values[t]);
            Forecaster.Prediction b = residual.advance(sr, times[t], values[t]);
            for (int i = 0; i < p.mean().length; i++) {
                double mean = (a.mean()[i] + b.mean()[i]) / 2.0;
                assertEquals(mean, p.mean()[i], 1e-4 * Math.max(1, Math.abs(mean)), "mean " + i + " at reading " + t);
                // the log-variance rows are averaged: the geometric mean of the members' standard deviations
                double std = Math.sqrt((double) a.stddev()[i] * b.stddev()[i]);
                assertEquals(std, p.stddev()[i], 1e-4 * std, "stddev " + i + " at reading " + t);
            }
        }
        // The two members' forms differ enough that the test could not pass with one form for both.
        double apart = 0;
        Forecaster.Prediction a = normalised.advance(sn, times[39] + SeasonalCycleTest.HOUR, values[0]);
        Forecaster.Prediction b = residual.advance(sr, times[39] + SeasonalCycleTest.HOUR, values[0]);
        for (int i = 0; i < a.mean().length; i++) apart = Math.max(apart, Math.abs(a.mean()[i] - b.mean()[i]));
        assertTrue(apart > 0.1, "members forecast alike: " + apart);
    }

    @Test
    void streamingAdvanceEqualsBatchForwardForAMixedEnsembleThroughGaps() {
        ModelParameters m = mixed();
        SeasonalCycleTest.assertStreamingEqualsBatchHourly(new Forecaster(new MambaModel(m)).forSeries(0), 120);
    }

    @Test
    void eachMemberKeepsItsOwnFormReadoutAndCycleThroughASnapshot() {
        ModelParameters m = mixed();
        ModelParameters back = ModelSnapshots.toParameters(ModelSnapshots.toSnapshot(m, "m", 1, Map.of(), Map.of()));
        assertEquals(m.config(), back.config());
        assertEquals("MIXED", back.config().toMap().get("readout.form"));
        assertEquals("2", back.config().toMap().get("members"));
        ModelParameters[] members = {normalisedMember(), residualMember()};
        for (int k = 0; k < 2; k++) {
            ModelParameters member = back.member(k);
            assertEquals(members[k].config(), member.config(), "member " + k + "'s config");
            for (Parameter t : members[k].all()) {
                assertArrayEquals(t.data(), member.data(t.name()), "member " + k + " " + t.name());
            }
        }
        assertArrayEquals(members[1].data(LagReadout.WEIGHT), back.data("members.1." + LagReadout.WEIGHT));
    }

    @Test
    void aMixedEnsembleIsRefusedWithoutItsShape() {
        ModelConfig two = SeasonalCycleTest.CFG.withMembers(2);
        var single = assertThrows(IllegalArgumentException.class,
                () -> SeasonalCycleTest.CFG.withReadoutForm(ReadoutForm.MIXED));
        assertTrue(single.getMessage().contains("members"), single.getMessage());
        var noLags = assertThrows(IllegalArgumentException.class,
                () -> ForecasterTest.CFG.withMembers(2).withReadoutForm(ReadoutForm.MIXED));
        assertTrue(noLags.getMessage().contains("lags"), noLags.getMessage());
        assertEquals(two.withReadoutForm(ReadoutForm.MIXED), ModelConfig.fromMap(two.withReadoutForm(ReadoutForm.MIXED).toMap()));
        // residual first, or a third member out of turn
        assertThrows(IllegalArgumentException.class,
                () -> ModelParameters.ensemble(List.of(residualMember(), normalisedMember())));
        var third = assertThrows(IllegalArgumentException.class,
                () -> ModelParameters.ensemble(List.of(normalisedMember(), residualMember(), residualMember())));
        assertTrue(third.getMessage().contains("member 2"), third.getMessage());
        assertEquals(ReadoutForm.RESIDUAL, ReadoutForm.MIXED.ofMember(3));
        assertEquals(ReadoutForm.NORMALISED, ReadoutForm.MIXED.ofMember(4));
    }
}
