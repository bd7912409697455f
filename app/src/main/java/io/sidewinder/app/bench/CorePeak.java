package io.sidewinder.app.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * One core's fp32 FMA peak as the bench reports it: 2 FMA pipes (Zen 4 and server Intel cores with AVX-512)
 * × 16 fp32 lanes × 2 FLOP per FMA = 64 FLOP/cycle, × the clock from /proc/cpuinfo ("cpu MHz" of the first
 * core). The clock is the assumption: boost clocks are higher, and the figure is nominal on a VM.
 */
final class CorePeak {
    static final int FLOP_PER_CYCLE = 2 * 16 * 2;

    private CorePeak() {}

    static double gigahertz() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("cpu MHz")) {
                    return Double.parseDouble(line.substring(line.indexOf(':') + 1).trim()) / 1000;
                }
            }
        } catch (IOException | NumberFormatException e) {
            // fall through: no clock known
        }
        return Double.NaN;
    }

    static double gflops() {
        return FLOP_PER_CYCLE * gigahertz();
    }

    static String describe() {
        return String.format(Locale.ROOT, "peak %.0f = 64 FLOP/cycle x %.2f GHz", gflops(), gigahertz());
    }
}
