package io.sidewinder.trainer.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sidewinder.ssm.ModelParameters;
import io.sidewinder.ssm.kernels.ScalarKernels;
import io.sidewinder.trainer.grad.TrainableModel;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The trainers' resource lifetime without a GPU: {@link ForecastTrainer#close} and {@link Fp32BatchGradients#close}
 * are idempotent no-ops when nothing is resident, {@code train} leaves nothing resident, and a closed trainer trains
 * again to the same model. (With a GPU, {@code CudaBatchGradientsTest} checks that the resident steps are released.)
 */
class ForecastTrainerCloseTest {

    @Test
    void closingTwiceIsHarmlessAndAClosedTrainerTrainsTheSameModelAgain() throws Exception {
        List<Windows.Series> data = List.of(ForecastTrainerTest.sine(600, 2));
        for (ForecastTrainer.Precision precision : ForecastTrainer.Precision.values()) {
            ForecastTrainer.Options o = ForecastTrainerTest.options(2).withPrecision(precision);
            Map<String, double[]> first, second;
            // The scalar kernels for fp32: bit-repeatable, where the SIMD kernels' last bits may change with the JIT
            // tier and AdamW can turn that into a visible step. (Residency on a GPU: CudaBatchGradientsTest.)
            try (ForecastTrainer trainer = ForecastTrainer.withKernels(data, o, ScalarKernels.INSTANCE)) {
                first = trainOnce(trainer);
                trainer.close();
                trainer.close();
                second = trainOnce(trainer);
            } // and once more by try-with-resources
            first.forEach((k, v) -> assertArrayEquals(v, second.get(k), 0, precision + " " + k));
        }
    }

    @Test
    void fp32BatchGradientsWithoutAGpuCloseCleanlyAndAClosedTrainerTrainsLikeAFreshOne() throws Exception {
        Fp32BatchGradients fp32 = new Fp32BatchGradients(ScalarKernels.INSTANCE);
        assertDoesNotThrow(fp32::close);
        assertDoesNotThrow(fp32::close);
        List<Windows.Series> data = List.of(ForecastTrainerTest.sine(600, 1));
        ForecastTrainer.Options o = ForecastTrainerTest.options(1).withPrecision(ForecastTrainer.Precision.FP32);
        ForecastTrainer closed = ForecastTrainer.withKernels(data, o, ScalarKernels.INSTANCE);
        assertDoesNotThrow(closed::close);
        assertDoesNotThrow(closed::close);
        // Closing released nothing the trainer needs: it trains, on the scalar kernels bit for bit, as a fresh one.
        Map<String, double[]> afterClose = trainOnce(closed);
        Map<String, double[]> fresh = trainOnce(ForecastTrainer.withKernels(data, o, ScalarKernels.INSTANCE));
        fresh.forEach((k, v) -> assertArrayEquals(v, afterClose.get(k), 0, "closed vs fresh trainer: " + k));
        Map<String, double[]> untrained = new TrainableModel(ModelParameters.initialise(ForecastTrainerTest.CFG, 5)).parameters();
        assertTrue(fresh.entrySet().stream().anyMatch(e -> !Arrays.equals(e.getValue(), untrained.get(e.getKey()))),
                "training moved the parameters");
    }

    private static Map<String, double[]> trainOnce(ForecastTrainer trainer) throws Exception {
        TrainableModel m = new TrainableModel(ModelParameters.initialise(ForecastTrainerTest.CFG, 5));
        trainer.train(m, ForecastTrainerTest.windows(0, 450, 40), ForecastTrainerTest.windows(450, 600, 40),
                ForecastTrainerTest.QUIET);
        return m.parameters();
    }
}
