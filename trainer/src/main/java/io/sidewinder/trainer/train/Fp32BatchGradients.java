package io.sidewinder.trainer.train;

import io.sidewinder.ssm.kernels.SsmKernels;
import io.sidewinder.trainer.grad.Fp32Backprop;
import io.sidewinder.trainer.grad.TrainableModel;
import io.sidewinder.trainer.train.Windows.Sample;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The trainer's fp32 backend for one batch: windows of equal length go through {@link Fp32Backprop} together
 * (one batched forward/backward on the kernel façade), the loss and its derivative are the double model's
 * ({@link TrainableModel#headLoss}), and the fp32 gradients are written into the double model's gradients — so
 * AdamW, clipping, early stopping and checkpoints work unchanged on the double parameters.
 */
final class Fp32BatchGradients {
    private final SsmKernels kernels;

    Fp32BatchGradients(SsmKernels kernels) {
        this.kernels = kernels;
    }

    /** Sets model.gradients() to the batch's gradients of Σ loss·scale; returns the summed element loss. */
    double compute(TrainableModel model, Sample[] samples, int[] lengths, TrainableModel.Loss loss, double scale) {
        Fp32Backprop fp = new Fp32Backprop(model.toParameters(), kernels);
        Map<Integer, List<Integer>> byLength = new TreeMap<>(); // fixed order: deterministic sums
        for (int i = 0; i < samples.length; i++) byLength.computeIfAbsent(lengths[i], l -> new ArrayList<>()).add(i);
        double sum = 0;
        for (var group : byLength.entrySet()) {
            sum += group(model, fp, samples, group.getValue(), group.getKey(), loss, scale);
        }
        model.zeroGradients();
        for (var e : model.gradients().entrySet()) {
            double[] g = e.getValue();
            float[] f = fp.gradients().get(e.getKey());
            for (int i = 0; i < g.length; i++) g[i] = f[i];
        }
        return sum;
    }

    private double group(TrainableModel model, Fp32Backprop fp, Sample[] samples, List<Integer> members, int len,
                         TrainableModel.Loss loss, double scale) {
        int ch = model.config().channels(), hw = model.config().headWidth(), batch = members.size();
        float[] x = new float[batch * len * ch], gaps = new float[batch * len];
        for (int b = 0; b < batch; b++) {
            Sample s = samples[members.get(b)];
            for (int i = 0; i < len * ch; i++) x[b * len * ch + i] = (float) s.x()[i];
            for (int t = 0; t < len; t++) gaps[b * len + t] = (float) s.gaps()[t];
        }
        Fp32Backprop.Tape tape = fp.forward(x, gaps, batch, len);
        float[] dHead = new float[batch * len * hw];
        double[] head = new double[len * hw], dh = new double[len * hw];
        double sum = 0;
        for (int b = 0; b < batch; b++) {
            for (int i = 0; i < head.length; i++) head[i] = tape.head[b * len * hw + i];
            java.util.Arrays.fill(dh, 0);
            sum += model.headLoss(head, samples[members.get(b)].targets(), len, loss, scale, dh)[0];
            for (int i = 0; i < dh.length; i++) dHead[b * len * hw + i] = (float) dh[i];
        }
        fp.backward(tape, dHead);
        return sum;
    }
}
