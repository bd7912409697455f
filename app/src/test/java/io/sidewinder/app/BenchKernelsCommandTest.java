package io.sidewinder.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.sidewinder.ssm.kernels.Kernels;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** {@code bench kernels --quick} runs every section and prints one parsable line per kernel, so it cannot rot. */
class BenchKernelsCommandTest {
    static final Pattern LINE = Pattern.compile("(\\S.*?)\\s+(scalar|threads1)=([0-9.]+) (simd|threads2)=([0-9.]+) speedup=([0-9.]+).*");

    @Test
    void quickRunPrintsEveryKernelLineWithPositiveFigures() {
        assumeTrue(ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent() && Kernels.simdOrNull() != null,
                "bench kernels compares against the SIMD backend: needs --add-modules jdk.incubator.vector");
        StringWriter out = new StringWriter();
        var cmd = Main.commandLine();
        cmd.setOut(new PrintWriter(out));
        int code = cmd.execute("bench", "kernels", "--quick");
        assertEquals(0, code, out.toString());
        List<String> lines = out.toString().lines().filter(l -> !l.isBlank()).toList();
        for (String kernel : List.of("matvec", "scan-step", "silu", "scan-fwd b=", "scan-bwd", "scan-fwd simd", "gemm 512",
                "gemm in_proj", "model-step default", "model-step 1000", "model-step-batch", "train-step")) {
            assertTrue(lines.stream().anyMatch(l -> l.startsWith(kernel)), "no line for " + kernel + " in\n" + out);
        }
        for (String line : lines) {
            Matcher m = LINE.matcher(line);
            assertTrue(m.matches(), "unparsable line: " + line);
            for (int group : new int[] {3, 5, 6}) {
                double v = Double.parseDouble(m.group(group));
                assertTrue(v > 0 && Double.isFinite(v), "non-positive figure in: " + line);
            }
        }
    }

    @Test
    void oneSectionRunsAloneAndAnUnknownOneIsAUsageError() {
        assumeTrue(ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent() && Kernels.simdOrNull() != null);
        StringWriter out = new StringWriter();
        var cmd = Main.commandLine();
        cmd.setOut(new PrintWriter(out));
        cmd.setErr(new PrintWriter(new StringWriter()));
        assertEquals(0, cmd.execute("bench", "kernels", "--quick", "--only", "gemm"));
        List<String> lines = out.toString().lines().filter(l -> !l.isBlank()).toList();
        assertEquals(3, lines.size(), out.toString());
        assertTrue(lines.stream().allMatch(l -> l.startsWith("gemm ")), out.toString());
        assertEquals(2, cmd.execute("bench", "kernels", "--quick", "--only", "none"));
    }
}
