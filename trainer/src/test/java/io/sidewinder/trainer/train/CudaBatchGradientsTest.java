package io.sidewinder.trainer.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.sidewinder.ssm.ModelConfig;
import io.sidewinder.ssm.ModelParameters;
import io.sidewinder.ssm.kernels.ScalarKernels;
import io.sidewinder.ssm.kernels.cuda.Cuda;
import io.sidewinder.ssm.kernels.cuda.CudaKernels;
import io.sidewinder.trainer.grad.TrainableModel;
import io.sidewinder.trainer.train.Windows.Sample;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@code train --backend cuda}'s batch gradients ({@link Fp32BatchGradients} on {@link CudaKernels}: each group's
 * forward and backward resident on the GPU) against the same class on the scalar kernels: the summed loss and every
 * gradient tensor, for a batch of windows of two lengths, three times with different parameters (the cached resident
 * steps take the new ones; before the third, the steps are closed and made again), and that training releases them. Tolerances as {@code CudaTrainStepParityTest}'s. Skipped without a GPU.
 */
class CudaBatchGradientsTest {

    @BeforeEach
    void gpu() {
        assumeTrue(Cuda.available(), () -> "CUDA tests skipped: " + Cuda.unavailableReason());
    }

    @ParameterizedTest(name = "readout lags {0}, loss {1}")
    @CsvSource({"0, GAUSSIAN_NLL", "4, SCALED_MSE"})
    void residentGradientsMatchTheCpuPath(int lags, TrainableModel.Loss loss) {
        ModelConfig cfg = ModelConfig.defaults(2).withReadoutLags(lags);
        SplittableRandom r = new SplittableRandom(5 + lags);
        int[] lengths = {96, 96, 96, 130, 130};
        Sample[] samples = new Sample[lengths.length];
        int ch = cfg.channels(), h = cfg.horizon();
        for (int i = 0; i < samples.length; i++) {
            int len = lengths[i];
            double[] x = new double[len * ch], gaps = new double[len], targets = new double[len * h * ch];
            double[][] mean = new double[len][ch], std = new double[len][ch];
            double[] lagValues = lags > 0 ? new double[len * lags * ch] : null;
            for (int j = 0; j < x.length; j++) x[j] = r.nextGaussian();
            for (int j = 0; j < len; j++) gaps[j] = 0.3 + 2 * r.nextDouble();
            for (int j = 0; j < targets.length; j++) targets[j] = j % 7 == 0 ? Double.NaN : r.nextGaussian();
            for (double[] row : std) java.util.Arrays.fill(row, 1.0);
            if (lagValues != null) for (int j = 0; j < lagValues.length; j++) lagValues[j] = r.nextGaussian();
            samples[i] = new Sample(x, gaps, targets, mean, std, lagValues);
        }
        Fp32BatchGradients gpu = new Fp32BatchGradients(new CudaKernels(Cuda.runtime().orElseThrow(), ScalarKernels.INSTANCE));
        Fp32BatchGradients cpu = new Fp32BatchGradients(ScalarKernels.INSTANCE);
        for (int round = 0; round < 3; round++) {
            if (round == 2) {
                // Closing releases the resident steps (one per length), is idempotent, and the next batch
                // makes them again.
                assertEquals(2, gpu.residentSteps(), "resident steps before close");
                gpu.close();
                gpu.close();
                assertEquals(0, gpu.residentSteps(), "resident steps after close");
            }
            ModelParameters p = ModelParameters.initialise(cfg, 100 + round);
            for (var t : p.all()) {
                for (int i = 0; i < t.data().length; i++) t.data()[i] += (float) (0.1 * r.nextGaussian());
            }
            TrainableModel onGpu = new TrainableModel(p), onCpu = new TrainableModel(p);
            double lossGpu = gpu.compute(onGpu, samples, lengths, loss, 1e-3);
            double lossCpu = cpu.compute(onCpu, samples, lengths, loss, 1e-3);
            System.out.printf("  lags %d %s round %d: loss gpu %.9g cpu %.9g%n", lags, loss, round, lossGpu, lossCpu);
            assertEquals(lossCpu, lossGpu, 1e-4 * Math.abs(lossCpu), "loss");
            for (Map.Entry<String, double[]> e : onCpu.gradients().entrySet()) {
                close(e.getValue(), onGpu.gradients().get(e.getKey()), "round " + round + " d" + e.getKey());
            }
        }
        gpu.close();
    }

    @org.junit.jupiter.api.Test
    void trainingReleasesTheResidentSteps() throws Exception {
        ModelConfig cfg = ForecastTrainerTest.CFG.withShape(16, 1, 8, 4);
        List<Windows.Series> data = List.of(ForecastTrainerTest.sine(600, 2));
        int[] residentDuringTraining = {0};
        ForecastTrainer trainer = ForecastTrainer.withKernels(data,
                ForecastTrainerTest.options(1).withPrecision(ForecastTrainer.Precision.FP32),
                new CudaKernels(Cuda.runtime().orElseThrow(), ScalarKernels.INSTANCE));
        TrainableModel m = new TrainableModel(ModelParameters.initialise(cfg, 5));
        trainer.train(m, ForecastTrainerTest.windows(0, 450, 40), ForecastTrainerTest.windows(450, 600, 40),
                (e, es, s, ss, l, v, sps) -> residentDuringTraining[0] = Math.max(residentDuringTraining[0],
                        trainer.residentSteps()));
        System.out.printf("  trainer: %d resident step(s) during training, %d after%n", residentDuringTraining[0],
                trainer.residentSteps());
        assertTrue(residentDuringTraining[0] > 0, "the cuda trainer used no resident step");
        assertEquals(0, trainer.residentSteps(), "train() released its resident steps");
        trainer.close(); // idempotent after train()
    }

    static void close(double[] expected, double[] actual, String what) {
        double max = 0;
        for (double v : expected) max = Math.max(max, Math.abs(v));
        assertTrue(max > 0, what + ": the reference is all zero, the check would be vacuous");
        for (int i = 0; i < expected.length; i++) {
            double err = Math.abs(actual[i] - expected[i]);
            if (!(err <= 1e-3 * Math.abs(expected[i]) + 1e-3 * max)) {
                fail(String.format("%s[%d]: gpu %.8g vs cpu %.8g (max |ref| %.3g)", what, i, actual[i], expected[i], max));
            }
        }
    }
}
