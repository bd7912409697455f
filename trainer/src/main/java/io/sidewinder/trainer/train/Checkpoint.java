package io.sidewinder.trainer.train;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Everything needed to resume training exactly: parameters, the best parameters so far, AdamW's moments and step,
 * and the early-stopping bookkeeping, with the run they belong to (the model config and the options that shape
 * the trajectory), so that a checkpoint is never resumed into another run. Written atomically after every epoch
 * (binary, versioned; v1 files carry no run and are resumed unchecked).
 */
record Checkpoint(String run, int nextEpoch, long adamStep, double bestVal, int bestEpoch, int stale, long samples,
                  Map<String, double[]> params, Map<String, double[]> best, Map<String, double[]> first,
                  Map<String, double[]> second) {
    private static final int MAGIC = 0x53574350; // "SWCP"
    private static final int VERSION = 2;

    /** What a checkpoint must match to resume: the model and every option but the thread count and the path. */
    static String run(io.sidewinder.ssm.ModelConfig config, ForecastTrainer.Options o) {
        return config + " epochs=" + o.epochs() + " batch=" + o.batchSize() + " lr=" + o.learningRate() + " wd="
                + o.weightDecay() + " clip=" + o.clipNorm() + " warmup=" + o.warmupFraction() + " patience="
                + o.patience() + " seed=" + o.seed() + " samples/epoch=" + o.samplesPerEpoch() + " loss=" + o.loss()
                + " huber=" + o.huberDelta() + " precision=" + o.precision();
    }

    /** Refuses to resume another run's checkpoint, naming what differs. */
    void requireRun(String expected, Path file) throws IOException {
        if (run != null && !run.equals(expected)) {
            throw new IOException("checkpoint " + file + " belongs to another run (" + difference(run, expected)
                    + "); delete it or give --checkpoint another path");
        }
    }

    private static String difference(String had, String want) {
        java.util.List<String> a = java.util.List.of(had.split("[ ,()]+")), b = java.util.List.of(want.split("[ ,()]+"));
        String was = a.stream().filter(x -> !b.contains(x)).collect(java.util.stream.Collectors.joining(" "));
        String is = b.stream().filter(x -> !a.contains(x)).collect(java.util.stream.Collectors.joining(" "));
        return "it has " + was + ", this run " + is;
    }

    void write(Path file) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (DataOutputStream out = new DataOutputStream(new java.io.BufferedOutputStream(Files.newOutputStream(tmp)))) {
            out.writeInt(MAGIC);
            out.writeInt(VERSION);
            out.writeUTF(run);
            out.writeInt(nextEpoch);
            out.writeLong(adamStep);
            out.writeDouble(bestVal);
            out.writeInt(bestEpoch);
            out.writeInt(stale);
            out.writeLong(samples);
            for (Map<String, double[]> m : java.util.List.of(params, best, first, second)) {
                out.writeInt(m.size());
                for (var e : m.entrySet()) {
                    out.writeUTF(e.getKey());
                    out.writeInt(e.getValue().length);
                    for (double d : e.getValue()) out.writeDouble(d);
                }
            }
        }
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    static Checkpoint read(Path file) throws IOException {
        try (DataInputStream in = new DataInputStream(new java.io.BufferedInputStream(Files.newInputStream(file)))) {
            int version = in.readInt() == MAGIC ? in.readInt() : -1;
            if (version != 1 && version != VERSION) {
                throw new IOException(file + " is not a Sidewinder training checkpoint (v1 or v" + VERSION + ")");
            }
            String run = version >= 2 ? in.readUTF() : null;
            int nextEpoch = in.readInt();
            long step = in.readLong();
            double bestVal = in.readDouble();
            int bestEpoch = in.readInt(), stale = in.readInt();
            long samples = in.readLong();
            @SuppressWarnings("unchecked")
            Map<String, double[]>[] maps = new Map[4];
            for (int k = 0; k < 4; k++) {
                maps[k] = new LinkedHashMap<>();
                int n = in.readInt();
                for (int i = 0; i < n; i++) {
                    String name = in.readUTF();
                    double[] d = new double[in.readInt()];
                    for (int j = 0; j < d.length; j++) d[j] = in.readDouble();
                    maps[k].put(name, d);
                }
            }
            return new Checkpoint(run, nextEpoch, step, bestVal, bestEpoch, stale, samples, maps[0], maps[1], maps[2], maps[3]);
        }
    }
}
