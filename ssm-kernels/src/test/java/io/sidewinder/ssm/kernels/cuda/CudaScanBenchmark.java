package io.sidewinder.ssm.kernels.cuda;

import io.sidewinder.ssm.kernels.ScanBatch;
import io.sidewinder.ssm.Discretization;
import java.util.Arrays;
import java.util.Locale;

/**
 * Times the device-resident scan kernels (inputs uploaded once): per iteration one pair of CUDA events around
 * the launch, after warm-up; prints the median and the minimum with GB/s and exps/s against the floors.
 * Run on the GPU machine: {@code java -cp ... io.sidewinder.ssm.kernels.cuda.CudaScanBenchmark [batch L D N]}.
 */
public final class CudaScanBenchmark {
    private static final double HBM_BYTES_PER_S = 4.3e12;   // measured H200 copy bandwidth (ssm-reference.md)

    public static void main(String[] args) {
        int batch = arg(args, 0, 8), len = arg(args, 1, 2048), channels = arg(args, 2, 1024), n = arg(args, 3, 16);
        int warmup = 20, iters = 200;
        CudaRuntime rt = Cuda.runtime().orElseThrow(() -> new IllegalStateException(Cuda.unavailableReason()));
        System.out.println("device: " + rt.description());
        System.out.printf(Locale.ROOT, "shape: batch %d, L %d, d_inner %d, N %d, fp32, z gate, Δ bias + softplus%n",
                batch, len, channels, n);
        double elems = (double) batch * len * channels * n;
        double fwdBytes = 4.0 * batch * len * (4.0 * channels + 2 * n);            // read u, Δ, z, B, C; write y
        double bwdBytes = 4.0 * batch * len * (7.0 * channels + 4 * n);            // + dout; write du, dΔ, dz, dB, dC
        System.out.printf(Locale.ROOT, "floors: forward HBM %.0f µs, exps %.0f µs (1 exp per element at 16/clk/SM, "
                + "132 SMs, 1.98 GHz)%n", fwdBytes / HBM_BYTES_PER_S * 1e6, elems / (132 * 16 * 1.98e9) * 1e6);
        for (Discretization disc : new Discretization[] {Discretization.EULER, Discretization.ZOH}) {
            ScanBatch in = ScanProblems.random(batch, len, channels, n, disc, true, false, 42);
            // {chunk, kernel family}
            int[][] variants = {{256, DeviceScan.BWD2_P2}, {128, DeviceScan.BWD2_P2}, {256, DeviceScan.BWD2},
                    {128, DeviceScan.BWD2}, {256, DeviceScan.L_SPLIT}};
            for (int[] variant : variants) {
                int chunk = variant[0], family = variant[1];
                if (family == DeviceScan.BWD2_P2 && n != 16) continue;
                try (DeviceScan scan = new DeviceScan(rt, in, chunk, family)) {
                    scan.h.fill(0f);
                    scan.dy.upload(ScanProblems.uniform(new java.util.SplittableRandom(7), batch * len * channels, 1f));
                    double statesBytes = 4.0 * scan.chunks() * batch * channels * n;
                    double[] fwd = time(rt, warmup, iters, scan::forward);
                    scan.backward(false);
                    System.out.println("  " + scan.occupancy());
                    String tag = disc + (family == DeviceScan.L_SPLIT ? " L-split" : family == DeviceScan.BWD2
                            ? " 4/thread (bwd2)" : " 2/thread (bwd2)") + " chunk " + chunk;
                    report(tag + " forward", fwd, fwdBytes + statesBytes, elems);
                    for (boolean det : new boolean[] {false, true}) {
                        double[] bwd = time(rt, warmup, iters, () -> scan.backward(det));
                        report(tag + " backward" + (det ? " deterministic" : " atomics"), bwd,
                                bwdBytes + statesBytes, 2 * elems);
                    }
                }
            }
        }
    }

    /** Warm-up lasts at least this long as well as {@code warmup} launches: a GPU fresh from idle clocks up over
     *  the first ~100 ms, which a count of launches alone left in the first variant's median (+25 %). */
    private static final long WARMUP_NANOS = 300_000_000L;

    private static double[] time(CudaRuntime rt, int warmup, int iters, Runnable launch) {
        long start = System.nanoTime();
        for (int i = 0; i < warmup || System.nanoTime() - start < WARMUP_NANOS; i++) {
            launch.run();
            if (i % 16 == 15) rt.synchronize();   // the clock counts device time, not queued launches
        }
        rt.synchronize();
        double[] us = new double[iters];
        for (int i = 0; i < iters; i++) us[i] = rt.timeMillis(launch) * 1e3;
        Arrays.sort(us);
        return us;
    }

    private static void report(String what, double[] sortedUs, double bytes, double exps) {
        double med = sortedUs[sortedUs.length / 2], min = sortedUs[0];
        System.out.printf(Locale.ROOT, "%-52s median %8.1f µs  min %8.1f µs  %6.0f GB/s  %6.2f Texp/s%n", what, med, min,
                bytes / (med * 1e-6) / 1e9, exps / (med * 1e-6) / 1e12);
    }

    private static int arg(String[] args, int i, int dflt) {
        return args.length > i ? Integer.parseInt(args[i]) : dflt;
    }
}
