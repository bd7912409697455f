package io.sidewinder.trainer.train;

import io.sidewinder.ssm.LagReadout;
import io.sidewinder.ssm.ModelParameters;
import io.sidewinder.ssm.kernels.SsmKernels;
import io.sidewinder.ssm.kernels.cuda.CudaKernels;
import io.sidewinder.ssm.kernels.cuda.CudaRuntime;
import io.sidewinder.ssm.kernels.cuda.CudaTrainStep;
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
 *
 * <p>With the cuda backend it keeps resident training steps ({@link CudaTrainStep}: device memory, CUDA graphs,
 * page-locked staging) between batches; {@link #close} releases them. Closing is idempotent and does not end the
 * object's use: a later {@link #compute} makes the steps it needs again. Without a GPU there is nothing to release.
 */
final class Fp32BatchGradients implements AutoCloseable {
    private final SsmKernels kernels;
    /** With the cuda backend: the whole forward/backward of a group resident on the GPU ({@link CudaTrainStep}). */
    private final CudaRuntime gpu;
    /** Resident steps by (batch, length), the most recently used last; at most {@link #MAX_STEPS} kept. */
    private final Map<Long, CudaTrainStep> steps = new java.util.LinkedHashMap<>(16, 0.75f, true);
    /** (batch, length) shapes whose resident step could not be built on this GPU. */
    private final java.util.Set<Long> unsupported = new java.util.HashSet<>();
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Fp32BatchGradients.class);
    private static final int MAX_STEPS = 4;

    Fp32BatchGradients(SsmKernels kernels) {
        this.kernels = kernels;
        this.gpu = kernels instanceof CudaKernels ck ? ck.runtime() : null;
    }

    /** The resident step for this shape with the model's current parameters, or null (no GPU, or a shape it lacks). */
    private CudaTrainStep residentStep(ModelParameters params, int batch, int len) {
        if (gpu == null || !CudaTrainStep.supports(params.config())) return null;
        long key = (long) batch << 32 | len;
        if (unsupported.contains(key)) return null;
        CudaTrainStep step = steps.get(key);
        if (step == null) {
            if (steps.size() >= MAX_STEPS) {
                long eldest = steps.keySet().iterator().next();
                steps.remove(eldest).close();
            }
            try {
                step = new CudaTrainStep(gpu, params, batch, len);
            } catch (RuntimeException e) {
                // A shape this GPU cannot hold resident (shared memory, device memory): the per-call scans serve it.
                if (unsupported.add(key)) {
                    LOG.warn("resident GPU training step unavailable for batch {} x L {} ({}); using per-call GPU scans",
                            batch, len, e.getMessage());
                }
                return null;
            }
            steps.put(key, step);
        } else {
            step.setParameters(params);
        }
        return step;
    }

    /** Resident GPU steps held now (0 without a GPU, and after {@link #close}). */
    synchronized int residentSteps() {
        return steps.size();
    }

    /** Closes every resident step (frees its GPU memory now rather than at JVM exit); idempotent. */
    @Override
    public synchronized void close() {
        RuntimeException first = null;
        for (CudaTrainStep step : steps.values()) {
            try {
                step.close();
            } catch (RuntimeException e) {
                if (first == null) first = e;
                else first.addSuppressed(e);
            }
        }
        steps.clear();
        if (first != null) throw first;
    }

    /** Sets model.gradients() to the batch's gradients of Σ loss·scale; returns the summed element loss. */
    double compute(TrainableModel model, Sample[] samples, int[] lengths, TrainableModel.Loss loss, double scale) {
        if (gpu != null && CudaTrainStep.supports(model.config())) {
            synchronized (this) {
                return computeResident(model, samples, lengths, loss, scale);
            }
        }
        Fp32Backprop fp = new Fp32Backprop(model.toParameters(), kernels);
        Map<Integer, List<Integer>> byLength = new TreeMap<>(); // fixed order: deterministic sums
        for (int i = 0; i < samples.length; i++) byLength.computeIfAbsent(lengths[i], l -> new ArrayList<>()).add(i);
        double sum = 0;
        float[] readoutGrad = model.config().readoutLags() > 0 ? new float[model.gradients().get(LagReadout.WEIGHT).length] : null;
        for (var group : byLength.entrySet()) {
            sum += group(model, fp, samples, group.getValue(), group.getKey(), loss, scale, readoutGrad);
        }
        model.zeroGradients();
        for (var e : model.gradients().entrySet()) {
            double[] g = e.getValue();
            float[] f = fp.gradients().get(e.getKey());
            for (int i = 0; i < g.length; i++) g[i] = f[i];
        }
        if (readoutGrad != null) {
            double[] g = model.gradients().get(LagReadout.WEIGHT);
            for (int i = 0; i < g.length; i++) g[i] = readoutGrad[i];
        }
        return sum;
    }

    /**
     * {@link #compute} with each group's forward and backward resident on the GPU: the same loss, readout and
     * gradients, the group's gradients summed on the host (the step's are per call).
     */
    private double computeResident(TrainableModel model, Sample[] samples, int[] lengths, TrainableModel.Loss loss,
                                   double scale) {
        ModelParameters params = model.toParameters();
        Map<Integer, List<Integer>> byLength = new TreeMap<>();
        for (int i = 0; i < samples.length; i++) byLength.computeIfAbsent(lengths[i], l -> new ArrayList<>()).add(i);
        var c = model.config();
        int ch = c.channels(), hw = c.headWidth();
        Map<String, double[]> sums = new java.util.LinkedHashMap<>();
        float[] readoutGrad = c.readoutLags() > 0 ? new float[model.gradients().get(LagReadout.WEIGHT).length] : null;
        double sum = 0;
        for (var group : byLength.entrySet()) {
            List<Integer> members = group.getValue();
            int len = group.getKey(), batch = members.size();
            CudaTrainStep step = residentStep(params, batch, len);
            float[] x = new float[batch * len * ch], gaps = new float[batch * len];
            for (int b = 0; b < batch; b++) {
                Sample s = samples[members.get(b)];
                for (int i = 0; i < len * ch; i++) x[b * len * ch + i] = (float) s.x()[i];
                for (int t = 0; t < len; t++) gaps[b * len + t] = (float) s.gaps()[t];
            }
            float[] headOut = step.forward(x, gaps);
            Readout readout = readoutGrad == null ? null : new Readout(model, samples, members, len);
            if (readout != null) readout.addTo(headOut);
            float[] dHead = new float[batch * len * hw];
            double[] head = new double[len * hw], dh = new double[len * hw];
            for (int b = 0; b < batch; b++) {
                for (int i = 0; i < head.length; i++) head[i] = headOut[b * len * hw + i];
                java.util.Arrays.fill(dh, 0);
                Sample smp = samples[members.get(b)];
                sum += model.headLoss(head, smp.targets(), smp.std(), len, loss, scale, dh)[0];
                for (int i = 0; i < dh.length; i++) dHead[b * len * hw + i] = (float) dh[i];
            }
            if (readout != null) readout.gradient(dHead, readoutGrad);
            step.backward(dHead);
            for (var e : step.gradients().entrySet()) {
                double[] acc = sums.computeIfAbsent(e.getKey(), k -> new double[e.getValue().length]);
                float[] g = e.getValue();
                for (int i = 0; i < g.length; i++) acc[i] += g[i];
            }
        }
        model.zeroGradients();
        for (var e : model.gradients().entrySet()) {
            double[] s = sums.get(e.getKey());
            if (s != null) System.arraycopy(s, 0, e.getValue(), 0, s.length);
        }
        if (readoutGrad != null) {
            double[] g = model.gradients().get(LagReadout.WEIGHT);
            for (int i = 0; i < g.length; i++) g[i] = readoutGrad[i];
        }
        return sum;
    }

    /** Windows per fp32 forward when only heads are needed (bounds the tape's memory). */
    private static final int HEADS_BATCH = 128;

    /**
     * The forecast at each window's last position ([window][headWidth], normalised units, readout included) through
     * the fp32 forward: validation at the speed of training instead of the double model's, window by window.
     */
    double[][] lastPositionHeads(TrainableModel model, Sample[] samples, int[] lengths) {
        Fp32Backprop fp = new Fp32Backprop(model.toParameters(), kernels);
        var c = model.config();
        int ch = c.channels(), hw = c.headWidth(), kk = c.readoutLags();
        double[][] out = new double[samples.length][];
        Map<Integer, List<Integer>> byLength = new TreeMap<>();
        for (int i = 0; i < samples.length; i++) byLength.computeIfAbsent(lengths[i], l -> new ArrayList<>()).add(i);
        for (var group : byLength.entrySet()) {
            int len = group.getKey();
            List<Integer> all = group.getValue();
            for (int from = 0; from < all.size(); from += HEADS_BATCH) {
                List<Integer> members = all.subList(from, Math.min(all.size(), from + HEADS_BATCH));
                int batch = members.size();
                float[] x = new float[batch * len * ch], gaps = new float[batch * len];
                for (int b = 0; b < batch; b++) {
                    Sample s = samples[members.get(b)];
                    for (int i = 0; i < len * ch; i++) x[b * len * ch + i] = (float) s.x()[i];
                    for (int t = 0; t < len; t++) gaps[b * len + t] = (float) s.gaps()[t];
                }
                float[] head = fp.forward(x, gaps, batch, len).head;
                for (int b = 0; b < batch; b++) {
                    double[] row = new double[hw];
                    for (int i = 0; i < hw; i++) row[i] = head[(b * len + len - 1) * hw + i];
                    double[] lags = samples[members.get(b)].lags();
                    if (lags != null) {
                        model.addReadout(java.util.Arrays.copyOfRange(lags, (len - 1) * kk * ch, len * kk * ch), 1, row);
                    }
                    out[members.get(b)] = row;
                }
            }
        }
        return out;
    }

    private double group(TrainableModel model, Fp32Backprop fp, Sample[] samples, List<Integer> members, int len,
                         TrainableModel.Loss loss, double scale, float[] readoutGrad) {
        int ch = model.config().channels(), hw = model.config().headWidth(), batch = members.size();
        float[] x = new float[batch * len * ch], gaps = new float[batch * len];
        for (int b = 0; b < batch; b++) {
            Sample s = samples[members.get(b)];
            for (int i = 0; i < len * ch; i++) x[b * len * ch + i] = (float) s.x()[i];
            for (int t = 0; t < len; t++) gaps[b * len + t] = (float) s.gaps()[t];
        }
        Fp32Backprop.Tape tape = fp.forward(x, gaps, batch, len);
        Readout readout = readoutGrad == null ? null : new Readout(model, samples, members, len);
        if (readout != null) readout.addTo(tape.head);
        float[] dHead = new float[batch * len * hw];
        double[] head = new double[len * hw], dh = new double[len * hw];
        double sum = 0;
        for (int b = 0; b < batch; b++) {
            for (int i = 0; i < head.length; i++) head[i] = tape.head[b * len * hw + i];
            java.util.Arrays.fill(dh, 0);
            Sample smp = samples[members.get(b)];
            sum += model.headLoss(head, smp.targets(), smp.std(), len, loss, scale, dh)[0];
            for (int i = 0; i < dh.length; i++) dHead[b * len * hw + i] = (float) dh[i];
        }
        if (readout != null) readout.gradient(dHead, readoutGrad);
        fp.backward(tape, dHead);
        return sum;
    }

    /**
     * The lag readout of a group in fp32 as two GEMMs per channel on the kernels: rows (window, position) × K lags
     * times Wᵀ into the 2H head rows, and dW += dHeadᵀ·lags. (In double, per position, it cost as much as the whole
     * fp32 model pass.)
     */
    private final class Readout {
        final int rows, lags, channels, horizon, width, hw;
        final float[] weight;
        final float[] inputs; // [rows][K][C], the windows' lag inputs back to back

        Readout(TrainableModel model, Sample[] samples, List<Integer> members, int len) {
            var c = model.config();
            rows = members.size() * len;
            lags = c.readoutLags();
            channels = c.channels();
            horizon = c.horizon();
            width = 2 * horizon;
            hw = c.headWidth();
            double[] w = model.parameters().get(LagReadout.WEIGHT);
            weight = new float[w.length];
            for (int i = 0; i < w.length; i++) weight[i] = (float) w[i];
            int perWindow = len * lags * channels;
            inputs = new float[rows * lags * channels];
            for (int b = 0; b < members.size(); b++) {
                double[] l = samples[members.get(b)].lags();
                for (int i = 0; i < perWindow; i++) inputs[b * perWindow + i] = (float) l[i];
            }
        }

        /** head [rows][hw] += the readout: the served {@link LagReadout#addTo}. */
        void addTo(float[] head) {
            LagReadout.addTo(kernels, weight, horizon, channels, lags, rows, inputs, head, 0);
        }

        /** dW [2H][K] += Σ over rows and channels of dHead ⊗ lags. */
        void gradient(float[] dHead, float[] dWeight) {
            float[] d = new float[rows * width];
            float[] in = channels == 1 ? inputs : new float[rows * lags];
            for (int k = 0; k < channels; k++) {
                if (channels > 1) {
                    for (int i = 0; i < rows * lags; i++) in[i] = inputs[i * channels + k];
                }
                for (int r = 0; r < rows; r++) {
                    for (int h = 0; h < width; h++) d[r * width + h] = dHead[r * hw + h * channels + k];
                }
                kernels.gemm(true, false, width, lags, rows, d, in, null, dWeight, true);
            }
        }
    }
}
