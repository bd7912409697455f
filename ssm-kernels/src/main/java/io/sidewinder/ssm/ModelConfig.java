package io.sidewinder.ssm;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Everything that fixes a model's shapes and behaviour. Stored in every ModelSnapshot as text, so a model
 * file is self-describing.
 *
 * @param channels sensor channels in (and forecast out)
 * @param dModel width of the residual stream
 * @param layers number of Mamba blocks
 * @param dState N, state size per channel
 * @param dConv causal depthwise conv width
 * @param expand d_inner = expand·dModel
 * @param dtRank R, rank of the Δ projection
 * @param horizon H, future steps forecast at every position
 * @param discretization how Δ turns (A, B) into (dA, dB); ZOH is right for gap-scaled Δ
 * @param gap the real-time gap scaling shared by trainer and stream
 * @param dtMin Δ init range low end
 * @param dtMax Δ init range high end
 * @param dtFloor smallest initial Δ
 * @param normEps RMSNorm epsilon
 * @param normalizerWindow readings over which the causal normaliser averages (exact mean before that)
 * @param normalizerMinStd smallest standard deviation the normaliser divides by
 * @param readoutLags K, recent readings the head also reads linearly (0: none); see {@link LagReadout}
 * @param cycleLength P, phases of a learned seasonal cycle of period P·gap.reference (0: none); see
 *     {@link SeasonalCycle}
 * @param cycleSeries S, series the cycle has its own profile for (e.g. the channels of the sensors a univariate
 *     model was trained on); 0 without a cycle
 * @param members K, independently trained Mamba stacks (embedding, blocks, final norm, head) whose head outputs
 *     the model averages, over one shared normaliser, readout and cycle (under {@link ReadoutForm#MIXED} each member
 *     has its own readout and cycle, and the model averages the members' forecasts); 1 for a single model
 * @param readoutForm how the lag readout and the cycle meet the normaliser; see {@link ReadoutForm}
 */
public record ModelConfig(int channels, int dModel, int layers, int dState, int dConv, int expand, int dtRank,
                          int horizon, Discretization discretization, GapScaling gap, double dtMin, double dtMax,
                          double dtFloor, double normEps, int normalizerWindow, double normalizerMinStd,
                          int readoutLags, int cycleLength, int cycleSeries, int members,
                          ReadoutForm readoutForm) {

    public ModelConfig {
        positive(channels, "channels");
        positive(dModel, "dModel");
        positive(layers, "layers");
        positive(dState, "dState");
        positive(dConv, "dConv");
        positive(expand, "expand");
        positive(dtRank, "dtRank");
        positive(horizon, "horizon");
        positive(normalizerWindow, "normalizerWindow");
        positive(members, "members");
        if (readoutLags < 0) {
            throw new IllegalArgumentException("readoutLags must be >= 0, got " + readoutLags);
        }
        if (cycleLength < 0 || cycleLength == 1) {
            throw new IllegalArgumentException("cycleLength must be 0 (none) or >= 2, got " + cycleLength);
        }
        if (cycleLength > 0 ? cycleSeries < 1 : cycleSeries != 0) {
            throw new IllegalArgumentException("cycleSeries must be >= 1 with a cycle and 0 without, got " + cycleSeries
                    + " for cycleLength " + cycleLength);
        }
        if (discretization == null || gap == null || readoutForm == null) {
            throw new IllegalArgumentException("discretization, gap and readoutForm are required");
        }
        if (readoutForm != ReadoutForm.NORMALISED && readoutLags == 0) {
            throw new IllegalArgumentException("the " + readoutForm + " readout form needs readout lags to centre on");
        }
        if (readoutForm == ReadoutForm.MIXED && members < 2) {
            throw new IllegalArgumentException("the MIXED readout form is an ensemble's: it needs >= 2 members, got "
                    + members);
        }
        if (!(dtMin > 0 && dtMax >= dtMin && dtFloor > 0 && normEps > 0 && normalizerMinStd > 0)) {
            throw new IllegalArgumentException("need 0 < dtMin <= dtMax, dtFloor > 0, normEps > 0, normalizerMinStd > 0");
        }
    }

    /** A model whose readout (if any) has the {@link ReadoutForm#NORMALISED} form. */
    public ModelConfig(int channels, int dModel, int layers, int dState, int dConv, int expand, int dtRank,
                       int horizon, Discretization discretization, GapScaling gap, double dtMin, double dtMax,
                       double dtFloor, double normEps, int normalizerWindow, double normalizerMinStd,
                       int readoutLags, int cycleLength, int cycleSeries, int members) {
        this(channels, dModel, layers, dState, dConv, expand, dtRank, horizon, discretization, gap, dtMin, dtMax, dtFloor,
                normEps, normalizerWindow, normalizerMinStd, readoutLags, cycleLength, cycleSeries, members,
                ReadoutForm.NORMALISED);
    }

    private static void positive(int v, String name) {
        if (v <= 0) {
            throw new IllegalArgumentException(name + " must be > 0, got " + v);
        }
    }

    /** The default streaming model: small enough to step many keys per core, big enough to forecast well. */
    public static ModelConfig defaults(int channels) {
        return new ModelConfig(channels, 32, 2, 16, 4, 2, 2, 16, Discretization.ZOH, GapScaling.DEFAULT,
                1e-3, 1e-1, 1e-4, 1e-5, 2_000, 1e-3, 0, 0, 0, 1);
    }

    public int dInner() {
        return expand * dModel;
    }

    /** Width of the model input: channel values plus the log-gap feature. */
    public int inputWidth() {
        return channels + 1;
    }

    /** Width of the head output: mean and log-variance for H steps × channels. */
    public int headWidth() {
        return 2 * horizon * channels;
    }

    public ModelConfig withChannels(int c) {
        return new ModelConfig(c, dModel, layers, dState, dConv, expand, dtRank, horizon, discretization, gap,
                dtMin, dtMax, dtFloor, normEps, normalizerWindow, normalizerMinStd, readoutLags, cycleLength, cycleSeries, members, readoutForm);
    }

    public ModelConfig withShape(int newDModel, int newLayers, int newDState, int newHorizon) {
        return new ModelConfig(channels, newDModel, newLayers, newDState, dConv, expand,
                (int) Math.ceil(newDModel / 16.0), newHorizon, discretization, gap, dtMin, dtMax, dtFloor, normEps,
                normalizerWindow, normalizerMinStd, readoutLags, cycleLength, cycleSeries, members, readoutForm);
    }

    public ModelConfig withDiscretization(Discretization d) {
        return new ModelConfig(channels, dModel, layers, dState, dConv, expand, dtRank, horizon, d, gap,
                dtMin, dtMax, dtFloor, normEps, normalizerWindow, normalizerMinStd, readoutLags, cycleLength, cycleSeries, members, readoutForm);
    }

    public ModelConfig withGap(GapScaling g) {
        return new ModelConfig(channels, dModel, layers, dState, dConv, expand, dtRank, horizon, discretization, g,
                dtMin, dtMax, dtFloor, normEps, normalizerWindow, normalizerMinStd, readoutLags, cycleLength, cycleSeries, members, readoutForm);
    }

    public ModelConfig withNormalizer(int window, double minStd) {
        return new ModelConfig(channels, dModel, layers, dState, dConv, expand, dtRank, horizon, discretization, gap,
                dtMin, dtMax, dtFloor, normEps, window, minStd, readoutLags, cycleLength, cycleSeries, members, readoutForm);
    }

    /** The same model with a linear readout of the last {@code lags} readings added to its head (0: none). */
    public ModelConfig withReadoutLags(int lags) {
        return new ModelConfig(channels, dModel, layers, dState, dConv, expand, dtRank, horizon, discretization, gap,
                dtMin, dtMax, dtFloor, normEps, normalizerWindow, normalizerMinStd, lags, cycleLength, cycleSeries, members, readoutForm);
    }

    /**
     * The same model with a learned seasonal cycle of {@code phases} steps of gap.reference each (0: none), e.g.
     * 24 for a daily cycle of hourly readings, with its own profile for each of {@code series} series.
     */
    public ModelConfig withCycle(int phases, int series) {
        return new ModelConfig(channels, dModel, layers, dState, dConv, expand, dtRank, horizon, discretization, gap,
                dtMin, dtMax, dtFloor, normEps, normalizerWindow, normalizerMinStd, readoutLags, phases,
                phases > 0 ? series : 0, members, readoutForm);
    }

    /** The same model as an ensemble of {@code k} member stacks (1: a single model). */
    public ModelConfig withMembers(int k) {
        return new ModelConfig(channels, dModel, layers, dState, dConv, expand, dtRank, horizon, discretization, gap,
                dtMin, dtMax, dtFloor, normEps, normalizerWindow, normalizerMinStd, readoutLags, cycleLength, cycleSeries, k, readoutForm);
    }

    /** The same model with its lag readout and cycle in {@code form}. */
    public ModelConfig withReadoutForm(ReadoutForm form) {
        return new ModelConfig(channels, dModel, layers, dState, dConv, expand, dtRank, horizon, discretization, gap,
                dtMin, dtMax, dtFloor, normEps, normalizerWindow, normalizerMinStd, readoutLags, cycleLength, cycleSeries,
                members, form);
    }

    /** Member k's own config: a single model in member k's readout form ({@link ReadoutForm#ofMember}). */
    public ModelConfig member(int k) {
        if (k < 0 || k >= members) {
            throw new IllegalArgumentException("member " + k + " of a model with " + members + " members");
        }
        return withReadoutForm(readoutForm.ofMember(k)).withMembers(1); // the form first: MIXED needs its members
    }

    /** True when each member has its own readout and cycle ({@link ReadoutForm#MIXED}); else they share them. */
    public boolean readoutPerMember() {
        return readoutForm == ReadoutForm.MIXED;
    }

    /** Layers of recurrent state a sequence carries: every member's blocks, member by member. */
    public int stateLayers() {
        return members * layers;
    }

    /** Columns of the cycle's Q: a profile per series and channel. */
    public int cycleColumns() {
        return cycleSeries * channels;
    }

    /** Every field as text, keyed by stable names (the ModelSnapshot config map). */
    public Map<String, String> toMap() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("channels", Integer.toString(channels));
        m.put("d_model", Integer.toString(dModel));
        m.put("layers", Integer.toString(layers));
        m.put("d_state", Integer.toString(dState));
        m.put("d_conv", Integer.toString(dConv));
        m.put("expand", Integer.toString(expand));
        m.put("dt_rank", Integer.toString(dtRank));
        m.put("horizon", Integer.toString(horizon));
        m.put("discretization", discretization.name());
        m.put("gap.reference_ms", Long.toString(gap.referenceMillis()));
        m.put("gap.min_ratio", Double.toString(gap.minRatio()));
        m.put("gap.max_ratio", Double.toString(gap.maxRatio()));
        m.put("dt_min", Double.toString(dtMin));
        m.put("dt_max", Double.toString(dtMax));
        m.put("dt_floor", Double.toString(dtFloor));
        m.put("norm_eps", Double.toString(normEps));
        m.put("normalizer.window", Integer.toString(normalizerWindow));
        m.put("normalizer.min_std", Double.toString(normalizerMinStd));
        if (readoutLags > 0) {
            m.put("readout.lags", Integer.toString(readoutLags)); // absent in models without a readout
        }
        if (cycleLength > 0) {
            m.put("cycle.length", Integer.toString(cycleLength)); // absent in models without a cycle
            m.put("cycle.series", Integer.toString(cycleSeries));
        }
        if (members > 1) {
            m.put("members", Integer.toString(members)); // absent in single models
        }
        if (readoutForm != ReadoutForm.NORMALISED) {
            m.put("readout.form", readoutForm.name()); // absent in models of the first form
        }
        return m;
    }

    /** Parses {@link #toMap()} output; a missing or malformed key is an IllegalArgumentException naming it. */
    public static ModelConfig fromMap(Map<String, String> m) {
        return new ModelConfig(i(m, "channels"), i(m, "d_model"), i(m, "layers"), i(m, "d_state"),
                i(m, "d_conv"), i(m, "expand"), i(m, "dt_rank"), i(m, "horizon"),
                Discretization.valueOf(s(m, "discretization")),
                new GapScaling(Long.parseLong(s(m, "gap.reference_ms")), d(m, "gap.min_ratio"), d(m, "gap.max_ratio")),
                d(m, "dt_min"), d(m, "dt_max"), d(m, "dt_floor"), d(m, "norm_eps"), i(m, "normalizer.window"),
                d(m, "normalizer.min_std"), m.containsKey("readout.lags") ? i(m, "readout.lags") : 0,
                m.containsKey("cycle.length") ? i(m, "cycle.length") : 0,
                m.containsKey("cycle.length") ? i(m, "cycle.series") : 0,
                m.containsKey("members") ? i(m, "members") : 1,
                m.containsKey("readout.form") ? readoutForm(s(m, "readout.form")) : ReadoutForm.NORMALISED);
    }

    private static ReadoutForm readoutForm(String name) {
        try {
            return ReadoutForm.valueOf(name);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("model config 'readout.form' is not one of "
                    + java.util.Arrays.toString(ReadoutForm.values()) + ": " + name, e);
        }
    }

    private static String s(Map<String, String> m, String k) {
        String v = m.get(k);
        if (v == null) {
            throw new IllegalArgumentException("model config is missing '" + k + "'");
        }
        return v.trim();
    }

    private static int i(Map<String, String> m, String k) {
        try {
            return Integer.parseInt(s(m, k));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("model config '" + k + "' is not an integer: " + m.get(k), e);
        }
    }

    private static double d(Map<String, String> m, String k) {
        try {
            return Double.parseDouble(s(m, k));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("model config '" + k + "' is not a number: " + m.get(k), e);
        }
    }
}
