package io.sidewinder.trainer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sidewinder.ssm.Forecaster;
import io.sidewinder.ssm.GapScaling;
import io.sidewinder.ssm.MambaModel;
import io.sidewinder.ssm.ModelConfig;
import io.sidewinder.ssm.ModelParameters;
import io.sidewinder.ssm.ReadoutForm;
import io.sidewinder.ssm.SeasonalCycle;
import io.sidewinder.ssm.StreamState;
import io.sidewinder.trainer.grad.TrainableModel;
import io.sidewinder.trainer.train.ForecastTrainer;
import io.sidewinder.trainer.train.Windows;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class CycleFitTest {
    static final long HOUR = 3_600_000L;
    static final int LOOKBACK = 12, HORIZON = 6;
    /** Hourly readings with a daily cycle, but a lookback of only half a day: the lags alone cannot see the cycle. */
    static final ModelConfig CFG = ModelConfig.defaults(1).withShape(8, 1, 4, HORIZON)
            .withGap(new GapScaling(HOUR, 0.05, 1_000)).withNormalizer(LOOKBACK, 0.1).withReadoutLags(LOOKBACK);

    /** Two series with different daily profiles plus AR(1) noise; every 17th reading is missing. */
    static List<Windows.Series> dailySeries(int days) {
        List<Windows.Series> out = new ArrayList<>();
        for (int series = 0; series < 2; series++) {
            SplittableRandom r = new SplittableRandom(11 + series);
            List<Long> times = new ArrayList<>();
            List<Float> values = new ArrayList<>();
            double noise = 0;
            for (int i = 0; i < days * 24; i++) {
                noise = 0.6 * noise + 0.3 * r.nextGaussian();
                if (i % 17 == 16) continue;
                int hour = i % 24;
                double profile = series == 0 ? (hour >= 7 && hour < 10 ? 3 : 0) : Math.sin(2 * Math.PI * hour / 24) * 2;
                times.add(i * HOUR);
                values.add((float) (profile + noise));
            }
            long[] t = times.stream().mapToLong(Long::longValue).toArray();
            float[][] v = new float[t.length][1];
            for (int i = 0; i < t.length; i++) v[i][0] = values.get(i);
            out.add(new Windows.Series(t, v));
        }
        return out;
    }

    static List<Windows.Window> windows(List<Windows.Series> data, double from, double to) {
        List<Windows.Window> w = new ArrayList<>();
        for (int s = 0; s < data.size(); s++) {
            int rows = data.get(s).rows(), start = (int) (rows * from), end = (int) (rows * to);
            for (int i = start; i + LOOKBACK + HORIZON <= end; i++) w.add(new Windows.Window(s, i, LOOKBACK, end));
        }
        return w;
    }

    static TrainableModel fitted(ModelConfig cfg, List<Windows.Series> data, List<Windows.Window> train) {
        TrainableModel m = new TrainableModel(ModelParameters.initialise(cfg, 3));
        ReadoutFit.fit(m, data, train, 1e-4, false);
        if (cfg.cycleLength() > 0) {
            CycleFit.fit(m, data, train, 1e-4, false);
            ReadoutFit.fit(m, data, train, 1e-4, false);
        }
        return m;
    }

    static TrainableModel fittedHuber(ModelConfig cfg, List<Windows.Series> data, List<Windows.Window> train, double delta) {
        TrainableModel m = new TrainableModel(ModelParameters.initialise(cfg, 3));
        ReadoutFit.fit(m, data, train, 1e-4, false, delta);
        CycleFit.fit(m, data, train, 1e-4, false, delta);
        ReadoutFit.fit(m, data, train, 1e-4, false, delta);
        return m;
    }

    /** dailySeries with a spike of +25 on about 2% of the readings before {@code until} (a fraction of each series). */
    static List<Windows.Series> withSpikes(List<Windows.Series> clean, double until) {
        List<Windows.Series> out = new ArrayList<>();
        SplittableRandom r = new SplittableRandom(5);
        for (Windows.Series s : clean) {
            float[][] v = new float[s.rows()][];
            for (int i = 0; i < v.length; i++) {
                v[i] = s.values()[i].clone();
                if (i < until * v.length && r.nextDouble() < 0.02) v[i][0] += 25;
            }
            out.add(new Windows.Series(s.times(), v));
        }
        return out;
    }

    @Test
    void theHuberFitIsNotPulledAsFarBySpikesInTheTrainingDataAsLeastSquares() {
        List<Windows.Series> data = withSpikes(dailySeries(120), 0.7);
        List<Windows.Window> train = windows(data, 0, 0.7), val = windows(data, 0.7, 1);
        ModelConfig cfg = CFG.withCycle(24, 2);
        ForecastTrainer trainer = new ForecastTrainer(data, ForecastTrainer.Options.defaults());
        double leastSquares = trainer.validationMse(fitted(cfg, data, train), val);
        double huber = trainer.validationMse(fittedHuber(cfg, data, train, 0.5), val);
        assertTrue(huber < 0.7 * leastSquares, "clean validation MSE: least squares " + leastSquares + ", Huber " + huber);
    }

    @ParameterizedTest
    @EnumSource(value = ReadoutForm.class, names = {"NORMALISED", "RESIDUAL", "LAST_VALUE"})
    void aHuberFitWhoseDeltaNoErrorReachesIsTheLeastSquaresFit(ReadoutForm form) {
        List<Windows.Series> data = dailySeries(40);
        List<Windows.Window> train = windows(data, 0, 0.7);
        ModelConfig cfg = CFG.withCycle(24, 2).withReadoutForm(form);
        TrainableModel leastSquares = fitted(cfg, data, train), huber = fittedHuber(cfg, data, train, 1e9);
        for (String name : List.of(SeasonalCycle.WEIGHT, io.sidewinder.ssm.LagReadout.WEIGHT, "head.bias")) {
            double[] a = leastSquares.parameters().get(name), b = huber.parameters().get(name);
            for (int i = 0; i < a.length; i++) assertEquals(a[i], b[i], 1e-9 * (1 + Math.abs(a[i])), name + "[" + i + "]");
        }
    }

    @ParameterizedTest
    @EnumSource(value = ReadoutForm.class, names = {"NORMALISED", "RESIDUAL", "LAST_VALUE"})
    void aFittedDailyCycleCutsTheLinearForecastersErrorWhenTheLookbackIsShorterThanADay(ReadoutForm form) {
        List<Windows.Series> data = dailySeries(120);
        List<Windows.Window> train = windows(data, 0, 0.7), val = windows(data, 0.7, 1);
        ForecastTrainer trainer = new ForecastTrainer(data, ForecastTrainer.Options.defaults());
        double linear = trainer.validationMse(fitted(CFG.withReadoutForm(form), data, train), val);
        TrainableModel cycled = fitted(CFG.withCycle(24, 2).withReadoutForm(form), data, train);
        double withCycle = trainer.validationMse(cycled, val);
        assertTrue(withCycle < 0.6 * linear, "validation MSE: linear " + linear + ", with the cycle " + withCycle);
        // Q is what carries it: the same fit with Q zeroed afterwards falls back to about the linear error.
        Arrays.fill(cycled.parameters().get(SeasonalCycle.WEIGHT), 0);
        assertTrue(trainer.validationMse(cycled, val) > 0.9 * linear, "without its Q the fit is no better than linear");
    }

    @ParameterizedTest
    @EnumSource(value = ReadoutForm.class, names = {"NORMALISED", "RESIDUAL", "LAST_VALUE"})
    void theTrainersCycleTermsAreTheServedForecastersOnes(ReadoutForm form) {
        List<Windows.Series> data = dailySeries(40);
        List<Windows.Window> train = windows(data, 0, 0.7), val = windows(data, 0.7, 1);
        ModelConfig cfg = CFG.withCycle(24, 2).withReadoutForm(form);
        TrainableModel model = fitted(cfg, data, train);
        // Give the Mamba head a part too, so the comparison covers the whole forecast and not the linear terms only.
        SplittableRandom r = new SplittableRandom(2);
        double[] hw = model.parameters().get("head.weight");
        for (int i = 0; i < hw.length; i++) hw[i] = 0.05 * r.nextGaussian();
        double trained = new ForecastTrainer(data, ForecastTrainer.Options.defaults()).validationMse(model, val);
        Forecaster served = new Forecaster(new MambaModel(model.toParameters()));
        double se = 0;
        long n = 0;
        for (Windows.Window w : val) {
            Windows.Series s = data.get(w.series());
            long[] t = Arrays.copyOfRange(s.times(), w.start(), w.start() + w.length());
            float[][] v = Arrays.copyOfRange(s.values(), w.start(), w.start() + w.length());
            Forecaster.Prediction p = served.forSeries(w.series()).forwardSequence(StreamState.fresh(cfg), t, v)[w.length() - 1];
            for (int h = 0; h < HORIZON; h++) {
                double e = p.mean(h, 0) - s.values()[w.start() + w.length() + h][0];
                se += e * e;
                n++;
            }
        }
        assertEquals(trained, se / n, 1e-4 * trained, "trainer's validation vs the served forecaster");
    }

    @ParameterizedTest
    @EnumSource(value = ReadoutForm.class, names = {"NORMALISED", "RESIDUAL", "LAST_VALUE"})
    void trainingKeepsTheFittedCycleAndStartsAtTheClosedFormFit(ReadoutForm form) throws Exception {
        List<Windows.Series> data = dailySeries(40);
        List<Windows.Window> train = windows(data, 0, 0.7), val = windows(data, 0.7, 1);
        ModelConfig cfg = CFG.withCycle(24, 2).withReadoutForm(form);
        ForecastTrainer.Options options = new ForecastTrainer.Options(2, 16, 1e-3, 0.01, 1.0, 0.1, 10, 7, 2, 128,
                TrainableModel.Loss.MSE);
        ForecastTrainer trainer = new ForecastTrainer(data, options);
        TrainableModel start = fitted(cfg, data, train);
        double startVal = trainer.validationMse(start, ForecastTrainer.validationSample(val));
        TrainableModel model = new TrainableModel(ModelParameters.initialise(cfg, 3));
        ForecastTrainer.Result result = trainer.train(model, train, val, (e, es, s, ss, l, v, sps) -> { });
        assertTrue(Double.isFinite(result.bestValidationMse()), "trained " + result.bestValidationMse());
        assertArrayEquals(start.parameters().get(SeasonalCycle.WEIGHT),
                model.parameters().get(SeasonalCycle.WEIGHT), "AdamW does not move the fitted cycle");
        // A zero learning rate never moves the parameters, so no epoch beats the start: the result must be the
        // closed-form fit (readout, cycle, readout) itself, scored and kept as the best (epoch -1).
        TrainableModel frozen = new TrainableModel(ModelParameters.initialise(cfg, 3));
        ForecastTrainer.Result still = new ForecastTrainer(data, options.withLearningRate(0))
                .train(frozen, train, val, (e, es, s, ss, l, v, sps) -> { });
        assertEquals(-1, still.bestEpoch(), "the start is the best");
        assertEquals(startVal, still.bestValidationMse(), 1e-12, "the start's validation MSE is the closed-form fit's");
        start.parameters().forEach((k, v) -> assertArrayEquals(v, frozen.parameters().get(k), 0, k));
    }

    @ParameterizedTest
    @EnumSource(value = ReadoutForm.class, names = {"NORMALISED", "RESIDUAL", "LAST_VALUE"})
    void noSmallChangeOfTheFittedCycleLowersTheServedForecastsTrainingError(ReadoutForm form) {
        // Unweighted least squares in the series' units (SCALED_MSE's weights) is what the served forecast's MSE
        // measures, so at the fit's optimum (a ridge of 1e-9: least squares) no direction of Q may lower that MSE.
        List<Windows.Series> data = dailySeries(40);
        List<Windows.Window> train = windows(data, 0, 0.7);
        ModelConfig cfg = CFG.withCycle(24, 2).withReadoutForm(form);
        TrainableModel m = new TrainableModel(ModelParameters.initialise(cfg, 3));
        ReadoutFit.fit(m, data, train, 1e-9, true);
        CycleFit.fit(m, data, train, 1e-9, true);
        ForecastTrainer trainer = new ForecastTrainer(data, ForecastTrainer.Options.defaults());
        double[] q = m.parameters().get(SeasonalCycle.WEIGHT);
        double at = trainer.validationMse(m, train);
        SplittableRandom r = new SplittableRandom(8);
        for (int trial = 0; trial < 12; trial++) {
            double[] d = new double[q.length];
            if (trial < 4) {
                d[r.nextInt(q.length)] = 1; // one phase of one series
            } else {
                for (int i = 0; i < d.length; i++) d[i] = r.nextGaussian(); // a random direction
            }
            for (double step : new double[] {0.02, -0.02}) {
                for (int i = 0; i < q.length; i++) q[i] += step * d[i];
                double moved = trainer.validationMse(m, train);
                for (int i = 0; i < q.length; i++) q[i] -= step * d[i];
                assertTrue(moved > at - 1e-6 * at, "trial " + trial + " step " + step + ": " + moved + " < " + at);
            }
        }
    }

    @Test
    void theLastValueFormsOffsetIsInTheSeriesUnitsAndFittedJointlyWithTheReadoutByLeastSquares() {
        // A drift in the series' own units: each day the level rises by 0.5, whatever the window's spread.
        List<Windows.Series> data = new ArrayList<>();
        for (Windows.Series s : dailySeries(40)) {
            float[][] v = new float[s.rows()][];
            for (int i = 0; i < v.length; i++) v[i] = new float[] {s.values()[i][0] + 0.5f * s.times()[i] / (24 * HOUR)};
            data.add(new Windows.Series(s.times(), v));
        }
        List<Windows.Window> train = windows(data, 0, 0.7);
        ModelConfig cfg = CFG.withReadoutForm(ReadoutForm.LAST_VALUE);
        TrainableModel m = new TrainableModel(ModelParameters.initialise(cfg, 3));
        ReadoutFit.fit(m, data, train, 1e-9, true);
        double[] offset = m.parameters().get(io.sidewinder.ssm.LagReadout.OFFSET);
        double[] bias = m.parameters().get("head.bias");
        for (int h = 0; h < HORIZON; h++) assertEquals(0, bias[h], "the means' head bias stays zero: the offset is the intercept");
        // Unweighted least squares in the series' units (SCALED_MSE's weights) over W and the offset together: no
        // small change of either lowers the served forecast's training MSE.
        ForecastTrainer trainer = new ForecastTrainer(data, ForecastTrainer.Options.defaults());
        double at = trainer.validationMse(m, train);
        double[] w = m.parameters().get(io.sidewinder.ssm.LagReadout.WEIGHT);
        SplittableRandom r = new SplittableRandom(4);
        for (double[] tensor : List.of(offset, w)) {
            for (int trial = 0; trial < 6; trial++) {
                int i = tensor == w ? r.nextInt(HORIZON * LOOKBACK) : r.nextInt(tensor.length); // W's mean rows
                for (double step : new double[] {0.02, -0.02}) {
                    tensor[i] += step;
                    double moved = trainer.validationMse(m, train);
                    tensor[i] -= step;
                    assertTrue(moved > at - 1e-6 * at, "entry " + i + " step " + step + ": " + moved + " < " + at);
                }
            }
        }
        assertTrue(Arrays.stream(offset).anyMatch(v -> Math.abs(v) > 1e-3), "the drift gives the offset a value");
    }

    @Test
    void theFormChoiceScoresEachFormsClosedFormStartAndTakesACentredFormOnlyBeyondTwoStandardErrors() {
        List<Windows.Series> data = dailySeries(60);
        List<Windows.Window> train = windows(data, 0, 0.7), val = windows(data, 0.7, 1);
        ModelConfig cfg = CFG.withCycle(24, 2);
        ForecastTrainer trainer = new ForecastTrainer(data, ForecastTrainer.Options.defaults());
        ForecastTrainer.FormChoice choice = trainer.chooseReadoutForm(cfg, train, val);
        List<ReadoutForm> forms = List.of(ReadoutForm.NORMALISED, ReadoutForm.RESIDUAL, ReadoutForm.LAST_VALUE);
        assertEquals(forms, List.copyOf(choice.validationMse().keySet()));
        assertEquals(forms.subList(1, 3), List.copyOf(choice.gains().keySet()));
        for (ReadoutForm form : forms) {
            double want = trainer.validationMse(fitted(cfg.withReadoutForm(form), data, train),
                    ForecastTrainer.validationSample(val));
            assertEquals(want, choice.validationMse().get(form), 1e-12 * want, form.name());
        }
        assertEquals(ReadoutForm.NORMALISED, choice.gains().get(ReadoutForm.RESIDUAL).over());
        assertEquals(choice.gains().get(ReadoutForm.RESIDUAL).mean() > 2 * choice.gains().get(ReadoutForm.RESIDUAL).standardError()
                ? ReadoutForm.RESIDUAL : ReadoutForm.NORMALISED, choice.gains().get(ReadoutForm.LAST_VALUE).over(),
                "LAST_VALUE is measured against the form chosen before it");
        for (ReadoutForm form : forms.subList(1, 3)) {
            // Every window has H points, so the per-window gain averages to the pooled difference.
            ForecastTrainer.Gain gain = choice.gains().get(form);
            double pooled = choice.validationMse().get(gain.over()) - choice.validationMse().get(form);
            assertEquals(pooled, gain.mean(), 1e-9 * Math.abs(pooled) + 1e-15, form.name());
            assertTrue(gain.standardError() > 0 && Double.isFinite(gain.standardError()), form.name());
        }
        assertEquals(expectedChoice(choice), choice.chosen());
        // Without a cycle, and with the normaliser over exactly the window's lags, NORMALISED and RESIDUAL are one
        // model: a tie, which never takes RESIDUAL.
        ForecastTrainer.FormChoice same = trainer.chooseReadoutForm(CFG, train, val);
        assertEquals(same.validationMse().get(ReadoutForm.NORMALISED), same.validationMse().get(ReadoutForm.RESIDUAL),
                1e-9 * same.validationMse().get(ReadoutForm.NORMALISED));
        assertNotEquals(ReadoutForm.RESIDUAL, same.chosen(), "a tie keeps the default form");
        assertEquals(expectedChoice(same), same.chosen());
        assertThrows(IllegalArgumentException.class, () -> trainer.chooseReadoutForm(
                CFG.withReadoutLags(0), train, val), "no readout, no form to choose");
    }

    /** The rule by hand: in the order NORMALISED, RESIDUAL, LAST_VALUE a form replaces the choice when it clears 2 s.e. */
    private static ReadoutForm expectedChoice(ForecastTrainer.FormChoice choice) {
        ReadoutForm chosen = ReadoutForm.NORMALISED;
        double tie = 1e-9 * choice.validationMse().get(ReadoutForm.NORMALISED);
        for (ReadoutForm form : List.of(ReadoutForm.RESIDUAL, ReadoutForm.LAST_VALUE)) {
            ForecastTrainer.Gain g = choice.gains().get(form);
            assertEquals(chosen, g.over(), form + " is measured against the choice so far");
            if (g.mean() > Math.max(2 * g.standardError(), tie)) chosen = form;
        }
        return chosen;
    }

    @Test
    void aModelWithoutACycleHasNoneToFit() {
        List<Windows.Series> data = dailySeries(10);
        var e = assertThrows(IllegalArgumentException.class, () -> CycleFit.fit(
                new TrainableModel(ModelParameters.initialise(CFG, 1)), data, windows(data, 0, 1), 1e-4, false));
        assertTrue(e.getMessage().contains("cycle"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Windows.sample(CFG.withCycle(24, 2), data.get(0),
                new Windows.Window(0, 0, LOOKBACK, 100)), "a cycle model's samples need its Q");
    }
}
