package io.sidewinder.ssm;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Everything one sensor key carries between readings: the model's recurrent state (per-layer h and conv
 * window), the causal normaliser, the last event time and the step count. It has a compact, versioned binary
 * form ({@link #toBytes()} / {@link #fromBytes}) for state stores and changelogs.
 *
 * <p>Binary layout v1 (little-endian): magic 'S''W', format version (1 byte), channels, layers, d_inner,
 * d_state, d_conv (int each), steps, last event time (long), normaliser count (long), means, variances
 * (double × channels each), then per layer h (float × d_inner·d_state) and conv window
 * (float × (d_conv−1)·d_inner). Layout v2 (models with readout lags K &gt; 0) appends the readout history: its
 * count (int), then K readings (float × channels each), oldest first, zero-padded. Layout v3 (models with readout
 * lags and a {@link SeasonalCycle}) appends the K readings' phases (int each, oldest first, zero-padded) to v2. A v1
 * state read for a model with readout lags starts with an empty history; a v2 state read for a model with a cycle
 * takes its readings' phases from the last event time, one phase per reading back.
 */
public final class StreamState {
    static final byte MAGIC_0 = 'S', MAGIC_1 = 'W';
    public static final byte FORMAT_VERSION = 1;
    /** The version written for models with readout lags. */
    public static final byte FORMAT_VERSION_WITH_HISTORY = 2;
    /** The version written for models with readout lags and a seasonal cycle. */
    public static final byte FORMAT_VERSION_WITH_PHASES = 3;

    private final ModelConfig config;
    private final ModelState model;
    private final CausalNormalizer normalizer;
    private final LagReadout.History history; // null when the model has no readout lags
    private long steps;
    private long lastEventTime = GapScaling.NONE;

    private StreamState(ModelConfig config, ModelState model, CausalNormalizer normalizer, LagReadout.History history) {
        this.config = config;
        this.model = model;
        this.normalizer = normalizer;
        this.history = history;
    }

    /** The state of a key that has not been seen yet. */
    public static StreamState fresh(ModelConfig config) {
        return new StreamState(config, ModelState.zeros(config), CausalNormalizer.forConfig(config),
                config.readoutLags() > 0 ? new LagReadout.History(config.readoutLags(), config.channels()) : null);
    }

    public ModelState modelState() {
        return model;
    }

    public CausalNormalizer normalizer() {
        return normalizer;
    }

    /** The raw readings the head's readout sees, or null when the model has no readout lags. */
    public LagReadout.History history() {
        return history;
    }

    public long steps() {
        return steps;
    }

    /** Event time of the last reading applied, or {@link GapScaling#NONE}. */
    public long lastEventTime() {
        return lastEventTime;
    }

    void advanced(long eventTime) {
        steps++;
        lastEventTime = eventTime;
    }

    public ModelConfig config() {
        return config;
    }

    public StreamState copy() {
        StreamState s = new StreamState(config, model.copy(), normalizer.copy(), history == null ? null : history.copy());
        s.steps = steps;
        s.lastEventTime = lastEventTime;
        return s;
    }

    /** Bytes of {@link #toBytes()} for a config. */
    public static int serializedSize(ModelConfig c) {
        return serializedSize(c, c.readoutLags() > 0, c.cycleLength() > 0);
    }

    /** The size of a state of this model written with or without a readout history and cycle phases. */
    private static int serializedSize(ModelConfig c, boolean withHistory, boolean withPhases) {
        int header = 2 + 1 + 5 * 4 + 3 * 8;
        int norm = 2 * 8 * c.channels();
        int layers = c.stateLayers() * (c.dInner() * c.dState() + (c.dConv() - 1) * c.dInner()) * 4;
        int readout = withHistory ? LagReadout.History.serializedSize(c.readoutLags(), c.channels(), withPhases) : 0;
        return header + norm + layers + readout;
    }

    public byte[] toBytes() {
        ByteBuffer b = ByteBuffer.allocate(serializedSize(config)).order(ByteOrder.LITTLE_ENDIAN);
        writeTo(b);
        return b.array();
    }

    /** Writes the binary form at the buffer's position (any byte order; the form itself is little-endian). */
    public void writeTo(ByteBuffer out) {
        ByteBuffer b = out.slice().order(ByteOrder.LITTLE_ENDIAN);
        b.put(MAGIC_0).put(MAGIC_1).put(formatVersion(config));
        b.putInt(config.channels()).putInt(config.stateLayers()).putInt(config.dInner()).putInt(config.dState())
                .putInt(config.dConv());
        b.putLong(steps).putLong(lastEventTime).putLong(normalizer.count);
        for (double m : normalizer.mean) b.putDouble(m);
        for (double v : normalizer.var) b.putDouble(v);
        for (int l = 0; l < config.stateLayers(); l++) {
            // Bulk float copies: this runs for every reading of every key.
            b.asFloatBuffer().put(model.h[l]);
            b.position(b.position() + 4 * model.h[l].length);
            b.asFloatBuffer().put(model.conv[l]);
            b.position(b.position() + 4 * model.conv[l].length);
        }
        if (history != null) {
            history.writeTo(b, config.cycleLength() > 0);
        }
        out.position(out.position() + b.position());
    }

    private static byte formatVersion(ModelConfig c) {
        if (c.readoutLags() == 0) return FORMAT_VERSION;
        return c.cycleLength() > 0 ? FORMAT_VERSION_WITH_PHASES : FORMAT_VERSION_WITH_HISTORY;
    }

    /**
     * Decodes {@link #toBytes()} output for a model config.
     *
     * @throws IllegalArgumentException naming what does not match (magic, version, shapes, length)
     */
    public static StreamState fromBytes(byte[] bytes, ModelConfig config) {
        try {
            ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
            if (b.get() != MAGIC_0 || b.get() != MAGIC_1) {
                throw new IllegalArgumentException("not a Sidewinder stream state (bad magic)");
            }
            byte version = b.get();
            if (version < FORMAT_VERSION || version > FORMAT_VERSION_WITH_PHASES) {
                throw new IllegalArgumentException("unsupported stream state format version " + version);
            }
            boolean withHistory = version >= FORMAT_VERSION_WITH_HISTORY, withPhases = version == FORMAT_VERSION_WITH_PHASES;
            if (withHistory && config.readoutLags() == 0) {
                throw new IllegalArgumentException("stream state carries a readout history, the model has no readout lags");
            }
            if (withPhases && config.cycleLength() == 0) {
                throw new IllegalArgumentException("stream state carries cycle phases, the model has no seasonal cycle");
            }
            int[] dims = {b.getInt(), b.getInt(), b.getInt(), b.getInt(), b.getInt()};
            int[] want = {config.channels(), config.stateLayers(), config.dInner(), config.dState(), config.dConv()};
            if (!java.util.Arrays.equals(dims, want)) {
                throw new IllegalArgumentException("stream state shape (channels, state layers = members × layers, d_inner, d_state, d_conv) "
                        + java.util.Arrays.toString(dims) + " does not match the model's " + java.util.Arrays.toString(want));
            }
            // Sized from the format's own flags, not a config: a model whose readout form needs lags has no
            // lag-free config to size an older state with.
            int expected = serializedSize(config, withHistory, withPhases);
            if (bytes.length != expected) {
                throw new IllegalArgumentException("stream state has " + bytes.length + " bytes, expected " + expected);
            }
            StreamState s = fresh(config);
            s.steps = b.getLong();
            s.lastEventTime = b.getLong();
            long count = b.getLong();
            double[] means = new double[config.channels()], vars = new double[config.channels()];
            for (int i = 0; i < means.length; i++) means[i] = b.getDouble();
            for (int i = 0; i < vars.length; i++) vars[i] = b.getDouble();
            s.normalizer.restore(count, means, vars);
            for (int l = 0; l < config.stateLayers(); l++) {
                b.asFloatBuffer().get(s.model.h[l]);
                b.position(b.position() + 4 * s.model.h[l].length);
                b.asFloatBuffer().get(s.model.conv[l]);
                b.position(b.position() + 4 * s.model.conv[l].length);
            }
            if (withHistory) {
                int newest = !withPhases && config.cycleLength() > 0 && s.lastEventTime != GapScaling.NONE
                        ? SeasonalCycle.phase(config, s.lastEventTime) : -1;
                s.history.readFrom(b, withPhases, newest, config.cycleLength());
            }
            return s;
        } catch (BufferUnderflowException e) {
            throw new IllegalArgumentException("stream state is truncated (" + bytes.length + " bytes)", e);
        }
    }
}
