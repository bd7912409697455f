package io.sidewinder.trainer.train;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Everything needed to resume training exactly: parameters, the best parameters so far, AdamW's moments and step,
 * and the early-stopping bookkeeping, with the run they belong to (the model config and the options that shape
 * the trajectory, and a fingerprint of the data it trains and validates on), so that a checkpoint is never resumed
 * into another run. Written atomically after every epoch, synced to disk before it replaces the last one, with a CRC
 * of its contents checked on read (binary, versioned; v1 files carry no run and are resumed unchecked; a v2 file's run
 * has no data fingerprint, so it is refused as another run).
 */
record Checkpoint(String run, int nextEpoch, long adamStep, double bestVal, int bestEpoch, int stale, long samples,
                  Map<String, double[]> params, Map<String, double[]> best, Map<String, double[]> first,
                  Map<String, double[]> second) {
    private static final int MAGIC = 0x53574350; // "SWCP"
    private static final int VERSION = 3;

    /** What a checkpoint must match to resume: the model and every option but the thread count and the path. */
    static String run(io.sidewinder.ssm.ModelConfig config, ForecastTrainer.Options o) {
        return config + " epochs=" + o.epochs() + " batch=" + o.batchSize() + " lr=" + o.learningRate() + " wd="
                + o.weightDecay() + " clip=" + o.clipNorm() + " warmup=" + o.warmupFraction() + " patience="
                + o.patience() + " seed=" + o.seed() + " samples/epoch=" + o.samplesPerEpoch() + " loss=" + o.loss()
                + " huber=" + o.huberDelta() + " precision=" + o.precision();
    }

    /** The run plus a fingerprint of its data: the same command on other data (a topic read later) is another run. */
    static String run(io.sidewinder.ssm.ModelConfig config, ForecastTrainer.Options o, List<Windows.Series> data,
                      List<Windows.Window> train, List<Windows.Window> val) {
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(16);
        for (Windows.Series s : data) {
            for (int i = 0; i < s.times().length; i++) {
                b.clear();
                b.putLong(s.times()[i]).putInt(s.values()[i].length);
                crc.update(b.array(), 0, 12);
                for (float v : s.values()[i]) {
                    b.clear();
                    b.putFloat(v);
                    crc.update(b.array(), 0, 4);
                }
            }
        }
        for (List<Windows.Window> windows : List.of(train, val)) {
            for (Windows.Window w : windows) {
                b.clear();
                b.putInt(w.series()).putInt(w.start()).putInt(w.length()).putInt(w.targetLimit());
                crc.update(b.array(), 0, 16);
            }
        }
        return run(config, o) + " data=" + data.size() + "series/" + train.size() + "+" + val.size() + "windows/crc"
                + Long.toHexString(crc.getValue());
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
        Path dir = file.toAbsolutePath().getParent();
        Path tmp = Files.createTempFile(dir, file.getFileName() + ".", ".tmp");   // a fresh, owner-only name
        try {
            java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
            try (java.io.FileOutputStream raw = new java.io.FileOutputStream(tmp.toFile());
                 DataOutputStream out = new DataOutputStream(new java.io.BufferedOutputStream(
                         new java.util.zip.CheckedOutputStream(raw, crc)))) {
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
                out.flush();
                raw.write(java.nio.ByteBuffer.allocate(8).putLong(crc.getValue()).array());   // the trailer, not in the CRC
                raw.getFD().sync();   // on disk before the rename: after a power loss the name never points at zeros
            }
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(tmp);   // a full disk must not keep a partial copy per failed write
            throw e;
        }
    }

    static Checkpoint read(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        try (DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(bytes))) {
            int version = bytes.length >= 8 && in.readInt() == MAGIC ? in.readInt() : -1;
            if (version < 1 || version > VERSION) {
                throw new IOException(file + " is not a Sidewinder training checkpoint (v1 to v" + VERSION + ")");
            }
            if (version >= 3) {
                java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
                crc.update(bytes, 0, bytes.length - 8);
                long stored = java.nio.ByteBuffer.wrap(bytes, bytes.length - 8, 8).getLong();
                if (stored != crc.getValue()) {
                    throw new IOException("checkpoint " + file + " is damaged (CRC mismatch); delete it to start afresh");
                }
            }
            String run = version >= 2 ? in.readUTF() : null;   // v2 runs had no data fingerprint: they differ
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
