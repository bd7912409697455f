package io.sidewinder.ssm;

import io.sidewinder.schemas.ModelSnapshot;
import io.sidewinder.schemas.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.avro.file.DataFileReader;
import org.apache.avro.file.DataFileWriter;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;

/**
 * Converts models to and from {@link ModelSnapshot} records and files, verifying on the way in.
 *
 * <p>The checksum is the hex SHA-256 of: every config entry as "key=value\n" in key order, then for every
 * tensor in order its name, '\n', its shape as int32s and its float32 data, all little-endian. A snapshot is
 * refused (with {@link InvalidModelException}) when the checksum differs, the config does not parse, a tensor
 * is missing, unexpected, of the wrong shape, or holds NaN/Inf.
 */
public final class ModelSnapshots {
    private ModelSnapshots() {}

    public static ModelSnapshot toSnapshot(ModelParameters params, String modelId, long version,
                                           Map<String, String> provenance, Map<String, Double> metrics) {
        Map<String, String> config = params.config().toMap();
        List<Tensor> tensors = new ArrayList<>();
        for (Parameter p : params.all()) {
            List<Integer> shape = new ArrayList<>();
            for (int s : p.shape()) shape.add(s);
            tensors.add(Tensor.newBuilder().setName(p.name()).setShape(shape).setData(ByteBuffer.wrap(toBytes(p.data())))
                    .build());
        }
        return ModelSnapshot.newBuilder()
                .setModelId(modelId)
                .setVersion(version)
                .setCreatedAt(Instant.ofEpochMilli(System.currentTimeMillis()))
                .setConfig(new TreeMap<>(config))
                .setParameters(tensors)
                .setProvenance(new TreeMap<>(provenance))
                .setMetrics(new TreeMap<>(metrics))
                .setChecksum(checksum(config, tensors))
                .build();
    }

    /** Verifies a snapshot and builds its parameters. */
    public static ModelParameters toParameters(ModelSnapshot snapshot) {
        String expected = checksum(snapshot.getConfig(), snapshot.getParameters());
        if (!expected.equalsIgnoreCase(snapshot.getChecksum())) {
            throw new InvalidModelException("model " + snapshot.getModelId() + " v" + snapshot.getVersion()
                    + ": checksum mismatch (stored " + snapshot.getChecksum() + ", computed " + expected + ")");
        }
        ModelConfig config;
        try {
            config = ModelConfig.fromMap(snapshot.getConfig());
        } catch (IllegalArgumentException e) {
            throw new InvalidModelException("model " + snapshot.getModelId() + " v" + snapshot.getVersion()
                    + ": bad config: " + e.getMessage(), e);
        }
        List<Parameter> params = new ArrayList<>();
        for (Tensor t : snapshot.getParameters()) {
            int[] shape = t.getShape().stream().mapToInt(Integer::intValue).toArray();
            float[] data = toFloats(t.getData(), t.getName());
            try {
                params.add(new Parameter(t.getName(), shape, data));
            } catch (IllegalArgumentException e) {
                throw new InvalidModelException("model " + snapshot.getModelId() + ": " + e.getMessage(), e);
            }
        }
        return ModelParameters.of(config, params);
    }

    public static MambaModel toModel(ModelSnapshot snapshot) {
        return new MambaModel(toParameters(snapshot));
    }

    public static void write(ModelSnapshot snapshot, Path file) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        // A fresh name beside the target (owner-only on POSIX): no one else's file is written through or moved in.
        Path tmp = Files.createTempFile(parent == null ? Path.of(".") : parent, file.getFileName() + ".", ".tmp");
        try {
            try (DataFileWriter<ModelSnapshot> w = new DataFileWriter<>(new SpecificDatumWriter<>(ModelSnapshot.class))) {
                w.create(ModelSnapshot.getClassSchema(), tmp.toFile());
                w.append(snapshot);
            }
            // A model is read by other users and containers (info, eval, a bind mount): not the temp file's 0600.
            if (Files.getFileStore(tmp).supportsFileAttributeView(java.nio.file.attribute.PosixFileAttributeView.class)) {
                Files.setPosixFilePermissions(tmp, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
            }
            // Readers never see a half-written model.
            Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(tmp);   // a failed write or move leaves no stray file behind
            throw e;
        }
    }

    /** Reads the (single) snapshot in an Avro container file, without verifying it. */
    public static ModelSnapshot read(Path file) throws IOException {
        try (DataFileReader<ModelSnapshot> r = new DataFileReader<>(file.toFile(),
                new SpecificDatumReader<>(ModelSnapshot.class))) {
            if (!r.hasNext()) {
                throw new InvalidModelException(file + " holds no model snapshot");
            }
            return r.next();
        } catch (IOException | org.apache.avro.AvroRuntimeException e) {
            if (!Files.exists(file)) {
                throw new java.io.FileNotFoundException("model file " + file + " does not exist");
            }
            throw new InvalidModelException(file + " is not a readable model snapshot ("
                    + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()) + ")", e);
        }
    }

    public static String checksum(Map<String, String> config, List<Tensor> tensors) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (Map.Entry<String, String> e : new TreeMap<>(config).entrySet()) {
                md.update((e.getKey() + "=" + e.getValue() + "\n").getBytes(StandardCharsets.UTF_8));
            }
            ByteBuffer intBuf = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
            for (Tensor t : tensors) {
                md.update((t.getName() + "\n").getBytes(StandardCharsets.UTF_8));
                for (int s : t.getShape()) {
                    intBuf.clear();
                    md.update(intBuf.putInt(s).array());
                }
                md.update(t.getData().duplicate());
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required by every Java platform", e);
        }
    }

    static byte[] toBytes(float[] data) {
        ByteBuffer b = ByteBuffer.allocate(data.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(data);
        return b.array();
    }

    static float[] toFloats(ByteBuffer bytes, String name) {
        ByteBuffer b = bytes.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        if (b.remaining() % 4 != 0) {
            throw new InvalidModelException("tensor '" + name + "' has " + b.remaining() + " bytes, not a multiple of 4");
        }
        float[] out = new float[b.remaining() / 4];
        b.asFloatBuffer().get(out);
        return out;
    }
}
