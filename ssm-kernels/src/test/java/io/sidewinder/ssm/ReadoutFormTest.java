package io.sidewinder.ssm;

import static io.sidewinder.ssm.oracle.Tolerance.assertClose;
import static io.sidewinder.ssm.oracle.Tolerance.toDouble;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class ReadoutFormTest {
    /** Hourly readings, a daily cycle for 2 series, 2 channels, 5 lags, under the RESIDUAL form. */
    static final ModelConfig CFG = SeasonalCycleTest.CFG.withReadoutForm(ReadoutForm.RESIDUAL);

    /** p with its readout and cycle zeroed, in the NORMALISED form: the same Mamba stack and head alone. */
    static ModelParameters headOnly(ModelParameters p) {
        ModelParameters h = ModelParameters.initialise(p.config().withReadoutForm(ReadoutForm.NORMALISED), 0);
        p.all().stream().filter(t -> !t.name().equals(LagReadout.OFFSET))
                .forEach(t -> System.arraycopy(t.data(), 0, h.data(t.name()), 0, t.data().length));
        java.util.Arrays.fill(h.data(LagReadout.WEIGHT), 0f);
        java.util.Arrays.fill(h.data(SeasonalCycle.WEIGHT), 0f);
        return h;
    }

    @ParameterizedTest
    @EnumSource(value = ReadoutForm.class, names = {"RESIDUAL", "LAST_VALUE"})
    void aCentredFormForecastsTheLagsLessTheirCycleAroundTheirCentreAndAddsTheCycleInSeriesUnits(ReadoutForm form) {
        ModelConfig cfg = CFG.withReadoutForm(form);
        ModelParameters p = SeasonalCycleTest.withRandomCycle(cfg, 7);
        float[] offset = form.hasOffset() ? p.data(LagReadout.OFFSET) : new float[cfg.horizon() * 2];
        for (int i = 0; form.hasOffset() && i < offset.length; i++) offset[i] = 0.4f * (i % 5 - 2); // series' units
        // 3 readings (fewer than the 5 lags: the mean is over those the key has) and 40 (a full history)
        for (int len : new int[] {3, 40}) {
            long[] times = SeasonalCycleTest.hourlyWithGaps(len);
            float[][] values = ForecasterTest.readings(len);
            StreamState a = StreamState.fresh(cfg), b = StreamState.fresh(cfg);
            Forecaster residual = new Forecaster(new MambaModel(p)).forSeries(1);
            Forecaster plain = new Forecaster(new MambaModel(headOnly(p)));
            Forecaster.Prediction pa = null, pb = null;
            for (int t = 0; t < len; t++) {
                pa = residual.advance(a, times[t], values[t]);
                pb = plain.advance(b, times[t], values[t]);
            }
            // By hand: plain is μ + σ·o_h; centred is m + Q[φ_h] + σ·o_h + Σ_j W[h][j]·(r_j − m), r_j = x_{t−j} − Q[φ_j],
            // m the mean of the r (RESIDUAL) or r_0, the latest (LAST_VALUE), which adds its offset b[h][c] too.
            float[] q = p.data(SeasonalCycle.WEIGHT), w = p.data(LagReadout.WEIGHT);
            int last = len - 1, k = CFG.readoutLags(), n = Math.min(k, len), hz = CFG.horizon();
            for (int c = 0; c < 2; c++) {
                double[] r = new double[n];
                double m = 0;
                for (int j = 0; j < n; j++) {
                    r[j] = values[last - j][c] - q[SeasonalCycle.phase(CFG, times[last - j]) * 4 + 2 + c];
                    m += r[j] / n;
                }
                if (form == ReadoutForm.LAST_VALUE) m = r[0];
                double mu = b.normalizer().mean(c), sd = b.normalizer().std(c);
                for (int h = 0; h < hz; h++) {
                    double want = m - mu + q[SeasonalCycle.futurePhase(SeasonalCycle.phase(CFG, times[last]), h, 24) * 4 + 2 + c]
                            + offset[h * 2 + c];
                    double logStd = 0;
                    for (int j = 0; j < n; j++) {
                        want += w[h * k + j] * (r[j] - m);
                        logStd += w[(hz + h) * k + j] * (r[j] - m) / sd;
                    }
                    assertEquals(want, pa.mean(h, c) - pb.mean(h, c), 1e-3 * Math.max(1, Math.abs(want)),
                            len + " readings, step " + h + " channel " + c);
                    // the log-variance rows read the same centred lags, in normalised units
                    assertEquals(0.5 * logStd, Math.log(pa.stddev(h, c) / pb.stddev(h, c)), 1e-3 * Math.max(1, Math.abs(logStd)),
                            len + " readings, log stddev step " + h + " channel " + c);
                }
            }
        }
    }

    @Test
    void theResidualFormDoesNotScaleTheCycleWithTheWindowsSpread() {
        ModelParameters p = SeasonalCycleTest.withRandomCycle(CFG, 3);
        java.util.Arrays.fill(p.data(LagReadout.WEIGHT), 0f);
        long[] times = SeasonalCycleTest.hourlyWithGaps(30);
        float[][] calm = ForecasterTest.readings(30), wild = new float[30][];
        for (int t = 0; t < 30; t++) wild[t] = new float[] {calm[t][0] * 10, calm[t][1] * 10};
        // With W = 0 the forecast's cycle part is Q itself, whatever the readings' spread (NORMALISED: σ·Q).
        Forecaster f = new Forecaster(new MambaModel(p)).forSeries(0);
        ModelParameters noCycle = SeasonalCycleTest.withRandomCycle(CFG, 3);
        java.util.Arrays.fill(noCycle.data(LagReadout.WEIGHT), 0f);
        java.util.Arrays.fill(noCycle.data(SeasonalCycle.WEIGHT), 0f);
        Forecaster g = new Forecaster(new MambaModel(noCycle)).forSeries(0);
        for (float[][] v : new float[][][] {calm, wild}) {
            Forecaster.Prediction with = f.forwardSequence(StreamState.fresh(CFG), times, v)[29];
            Forecaster.Prediction without = g.forwardSequence(StreamState.fresh(CFG), times, v)[29];
            float[] q = p.data(SeasonalCycle.WEIGHT);
            double lagMeanQ = 0;
            for (int j = 0; j < 5; j++) lagMeanQ += q[SeasonalCycle.phase(CFG, times[29 - j]) * 4] / 5;
            for (int h = 0; h < CFG.horizon(); h++) {
                double want = q[SeasonalCycle.futurePhase(SeasonalCycle.phase(CFG, times[29]), h, 24) * 4] - lagMeanQ;
                assertEquals(want, with.mean(h, 0) - without.mean(h, 0), 2e-3 * Math.max(1, Math.abs(want)), "step " + h);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = ReadoutForm.class, names = {"RESIDUAL", "LAST_VALUE"})
    void streamingAdvanceEqualsBatchForwardInACentredFormThroughGaps(ReadoutForm form) {
        Forecaster f = new Forecaster(new MambaModel(SeasonalCycleTest.withRandomCycle(CFG.withReadoutForm(form), 4)))
                .forSeries(1);
        SeasonalCycleTest.assertStreamingEqualsBatchHourly(f, 200);
    }

    @Test
    void withoutACycleAndWithANormaliserOverExactlyTheLagsBothFormsAreTheSameModel() {
        // While a key has at most K readings, a normaliser of window K holds their exact mean: the lags' own.
        int k = LagReadoutTest.CFG.readoutLags();
        ModelConfig normalised = LagReadoutTest.CFG.withNormalizer(k, 1e-3);
        ModelParameters p = LagReadoutTest.withRandomReadout(normalised, 9);
        ModelParameters r = ModelParameters.initialise(normalised.withReadoutForm(ReadoutForm.RESIDUAL), 0);
        p.all().forEach(t -> System.arraycopy(t.data(), 0, r.data(t.name()), 0, t.data().length));
        long[] times = SeasonalCycleTest.hourlyWithGaps(k);
        float[][] values = ForecasterTest.readings(k);
        Forecaster.Prediction[] a = new Forecaster(new MambaModel(p)).forwardSequence(StreamState.fresh(normalised), times, values);
        Forecaster.Prediction[] b = new Forecaster(new MambaModel(r)).forwardSequence(
                StreamState.fresh(r.config()), times, values);
        for (int t = 0; t < k; t++) {
            assertClose(toDouble(a[t].mean()), b[t].mean(), 1e-5, 1e-4, "mean at position " + t);
            assertClose(toDouble(a[t].stddev()), b[t].stddev(), 1e-5, 1e-4, "stddev at position " + t);
        }
    }

    @Test
    void theCentreIsTheLagsMeanUnderResidualAndTheLatestLagUnderLastValueAndItsSharesSumToIt() {
        double[] lags = {2.5, -1, 4, 0.25};
        for (int count = 0; count <= lags.length; count++) {
            double mean = 0;
            for (int j = 0; j < count; j++) mean += lags[j] / count;
            assertEquals(mean, ReadoutForm.RESIDUAL.centre(j -> lags[j], count), 1e-12);
            assertEquals(count == 0 ? 0 : lags[0], ReadoutForm.LAST_VALUE.centre(j -> lags[j], count));
            for (ReadoutForm form : new ReadoutForm[] {ReadoutForm.RESIDUAL, ReadoutForm.LAST_VALUE}) {
                double shares = 0;
                for (int j = 0; j < count; j++) shares += form.centreShare(lags[j], j, count);
                assertEquals(form.centre(j -> lags[j], count), shares, 1e-12, form + " over " + count + " lags");
            }
        }
        assertFalse(ReadoutForm.NORMALISED.centred());
        assertFalse(ReadoutForm.MIXED.centred());
        assertThrows(IllegalStateException.class, () -> ReadoutForm.NORMALISED.centre(j -> 1, 1));
        assertThrows(IllegalArgumentException.class, () -> ReadoutForm.LAST_VALUE.centreShare(1, 3, 3));
    }

    @Test
    void theFormRoundTripsThroughTheConfigAndAnOlderConfigIsNormalised() {
        assertEquals(CFG, ModelConfig.fromMap(CFG.toMap()));
        assertEquals("RESIDUAL", CFG.toMap().get("readout.form"));
        ModelConfig lastValue = CFG.withReadoutForm(ReadoutForm.LAST_VALUE);
        assertEquals(lastValue, ModelConfig.fromMap(lastValue.toMap()));
        assertThrows(IllegalArgumentException.class, () -> ForecasterTest.CFG.withReadoutForm(ReadoutForm.LAST_VALUE));
        assertFalse(SeasonalCycleTest.CFG.toMap().containsKey("readout.form"), "the first form writes no key");
        assertEquals(ReadoutForm.NORMALISED, ModelConfig.fromMap(SeasonalCycleTest.CFG.toMap()).readoutForm());
        Map<String, String> bad = new HashMap<>(CFG.toMap());
        bad.put("readout.form", "SIDEWAYS");
        var e = assertThrows(IllegalArgumentException.class, () -> ModelConfig.fromMap(bad));
        assertTrue(e.getMessage().contains("readout.form"), e.getMessage());
        var noLags = assertThrows(IllegalArgumentException.class,
                () -> ForecasterTest.CFG.withReadoutForm(ReadoutForm.RESIDUAL));
        assertTrue(noLags.getMessage().contains("lags"), noLags.getMessage());
        ModelParameters p = SeasonalCycleTest.withRandomCycle(CFG, 2);
        ModelParameters back = ModelSnapshots.toParameters(ModelSnapshots.toSnapshot(p, "m", 1, Map.of(), Map.of()));
        assertEquals(ReadoutForm.RESIDUAL, back.config().readoutForm(), "a snapshot keeps the form");
    }
}
