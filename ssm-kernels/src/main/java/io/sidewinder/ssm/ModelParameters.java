package io.sidewinder.ssm;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * All weights of a {@link MambaModel}, by name, in a fixed order. Names follow state-spaces/mamba:
 * {@code embed.*}, {@code layers.<i>.{norm,in_proj,conv,x_proj,dt_proj,out_proj}.*}, {@code layers.<i>.A_log},
 * {@code layers.<i>.D}, {@code norm_f.weight}, {@code head.*}, {@code readout.weight} when the config has
 * readout lags ({@link LagReadout}), with {@code readout.offset} in a form that has one ({@link ReadoutForm#hasOffset}),
 * and {@code cycle.weight} when it has a seasonal cycle ({@link SeasonalCycle}).
 * An ensemble of K members ({@link ModelConfig#members()}) has member 0's stack under these names and member m's
 * under {@code members.<m>.} + the same names; the readout and the cycle are shared, except under
 * {@link ReadoutForm#MIXED}, where each member has its own under its prefix.
 */
public final class ModelParameters {
    /** Blocks (layers × members) beyond which the tensor list is checked by its size before it is listed by name. */
    static final long MAX_LISTED_BLOCKS = 4096;

    /** Largest A_log a model may carry: -exp(80) is a finite float with room for Δ·a. */
    static final float MAX_A_LOG = 80f;

    private final ModelConfig config;
    private final Map<String, Parameter> byName;

    private ModelParameters(ModelConfig config, Map<String, Parameter> byName) {
        this.config = config;
        this.byName = byName;
    }

    /**
     * The number of parameter values a config needs, without listing its tensors; an InvalidModelException when a
     * dimension or the total does not fit an int (a config no model can have).
     */
    public static long parameterCount(ModelConfig c) {
        try {
            long dm = c.dModel(), n = c.dState(), r = c.dtRank(), h = c.horizon(), ch = c.channels();
            long di = Math.multiplyExact((long) c.expand(), dm), hw = Math.multiplyExact(2L * h, ch);
            if (di > Integer.MAX_VALUE || hw > Integer.MAX_VALUE || r + 2 * n > Integer.MAX_VALUE) {
                throw new InvalidModelException("config dimensions overflow: d_inner " + di + ", head width " + hw);
            }
            long layer = Math.addExact(Math.addExact(dm + 3 * di + di * c.dConv(), Math.multiplyExact(2 * di, dm)),
                    Math.addExact(Math.multiplyExact(r + 2 * n, di), Math.addExact(di * r, di * n + dm * di)));
            long stack = Math.addExact(Math.addExact(dm * (ch + 1) + 2 * dm, Math.multiplyExact(layer, c.layers())),
                    Math.multiplyExact(hw, dm + 1));
            long readout = 0;
            if (c.readoutLags() > 0) {
                readout += Math.multiplyExact(2 * h, c.readoutLags()) + (c.readoutForm().hasOffset() ? h * ch : 0);
            }
            if (c.cycleLength() > 0) {
                readout += Math.multiplyExact((long) c.cycleLength(), Math.multiplyExact((long) c.cycleSeries(), ch));
            }
            long members = c.members();
            long total = Math.addExact(Math.multiplyExact(stack, members),
                    Math.multiplyExact(readout, c.readoutPerMember() ? members : 1));
            if (total > Integer.MAX_VALUE) {
                throw new InvalidModelException("the config needs " + total + " parameter values, more than any model has");
            }
            return total;
        } catch (ArithmeticException e) {
            throw new InvalidModelException("the config's parameter count overflows: " + c);
        }
    }

    /** The expected name → shape of every tensor for a config, in canonical order. */
    public static Map<String, int[]> expectedShapes(ModelConfig c) {
        Map<String, int[]> s = new LinkedHashMap<>();
        for (int k = 0; k < c.members(); k++) {
            String m = memberPrefix(k);
            stackShapes(c).forEach((name, shape) -> s.put(m + name, shape));
            if (c.readoutPerMember()) readoutShapes(c).forEach((name, shape) -> s.put(m + name, shape));
        }
        if (!c.readoutPerMember()) s.putAll(readoutShapes(c));
        return s;
    }

    /** Name → shape of the lag readout and the cycle, where the config has them. */
    private static Map<String, int[]> readoutShapes(ModelConfig c) {
        Map<String, int[]> s = new LinkedHashMap<>();
        if (c.readoutLags() > 0) {
            s.put(LagReadout.WEIGHT, new int[] {2 * c.horizon(), c.readoutLags()});
            if (c.readoutForm().hasOffset()) s.put(LagReadout.OFFSET, new int[] {c.horizon(), c.channels()});
        }
        if (c.cycleLength() > 0) {
            s.put(SeasonalCycle.WEIGHT, new int[] {c.cycleLength(), c.cycleColumns()});
        }
        return s;
    }

    /** The prefix of member k's stack tensors: none for member 0 (a single model's names), else members.k. */
    public static String memberPrefix(int k) {
        return k == 0 ? "" : "members." + k + ".";
    }

    /** Name → shape of one member's stack: embedding, blocks, final norm and head. */
    private static Map<String, int[]> stackShapes(ModelConfig c) {
        Map<String, int[]> s = new LinkedHashMap<>();
        int dm = c.dModel(), di = c.dInner(), n = c.dState(), r = c.dtRank();
        s.put("embed.weight", new int[] {dm, c.inputWidth()});
        s.put("embed.bias", new int[] {dm});
        for (int l = 0; l < c.layers(); l++) {
            String p = "layers." + l + ".";
            s.put(p + "norm.weight", new int[] {dm});
            s.put(p + "in_proj.weight", new int[] {2 * di, dm});
            s.put(p + "conv.weight", new int[] {di, c.dConv()});
            s.put(p + "conv.bias", new int[] {di});
            s.put(p + "x_proj.weight", new int[] {r + 2 * n, di});
            s.put(p + "dt_proj.weight", new int[] {di, r});
            s.put(p + "dt_proj.bias", new int[] {di});
            s.put(p + "A_log", new int[] {di, n});
            s.put(p + "D", new int[] {di});
            s.put(p + "out_proj.weight", new int[] {dm, di});
        }
        s.put("norm_f.weight", new int[] {dm});
        s.put("head.weight", new int[] {c.headWidth(), dm});
        s.put("head.bias", new int[] {c.headWidth()});
        return s;
    }

    /** Mamba's initialisation (see README): deterministic for a seed. */
    public static ModelParameters initialise(ModelConfig c, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        Map<String, Parameter> m = new LinkedHashMap<>();
        for (int k = 0; k < c.members(); k++) {
            // member 0 draws exactly what a single model of this seed draws; the others continue the stream
            String prefix = memberPrefix(k);
            initialiseStack(c, rnd).forEach((name, p) -> m.put(prefix + name, new Parameter(prefix + name, p.shape(), p.data())));
        }
        // Zero: the readout starts as a no-op and the model learns how much recent history to pass through; no cycle
        // until the trainer fits one (SeasonalCycle).
        for (int k = 0; k < (c.readoutPerMember() ? c.members() : 1); k++) {
            String prefix = c.readoutPerMember() ? memberPrefix(k) : "";
            readoutShapes(c).forEach((name, shape) ->
                    put(m, prefix + name, new float[shape[0] * shape[1]], shape));
        }
        return new ModelParameters(c, m);
    }

    private static Map<String, Parameter> initialiseStack(ModelConfig c, SplittableRandom rnd) {
        Map<String, Parameter> m = new LinkedHashMap<>();
        int dm = c.dModel(), di = c.dInner(), n = c.dState(), r = c.dtRank();
        put(m, "embed.weight", Initializers.linear(dm, c.inputWidth(), rnd), dm, c.inputWidth());
        put(m, "embed.bias", new float[dm], dm);
        for (int l = 0; l < c.layers(); l++) {
            String p = "layers." + l + ".";
            put(m, p + "norm.weight", Initializers.filled(dm, 1f), dm);
            put(m, p + "in_proj.weight", Initializers.linear(2 * di, dm, rnd), 2 * di, dm);
            put(m, p + "conv.weight", Initializers.uniform(di * c.dConv(), 1 / Math.sqrt(c.dConv()), rnd), di, c.dConv());
            put(m, p + "conv.bias", Initializers.uniform(di, 1 / Math.sqrt(c.dConv()), rnd), di);
            put(m, p + "x_proj.weight", Initializers.linear(r + 2 * n, di, rnd), r + 2 * n, di);
            put(m, p + "dt_proj.weight", Initializers.dtProjWeight(di, r, rnd), di, r);
            put(m, p + "dt_proj.bias", Initializers.mambaDtBias(di, c.dtMin(), c.dtMax(), c.dtFloor(), rnd), di);
            put(m, p + "A_log", Initializers.mambaALog(di, n), di, n);
            put(m, p + "D", Initializers.filled(di, 1f), di);
            float[] out = Initializers.linear(dm, di, rnd);
            Initializers.scaleOutProj(out, c.layers());
            put(m, p + "out_proj.weight", out, dm, di);
        }
        put(m, "norm_f.weight", Initializers.filled(dm, 1f), dm);
        put(m, "head.weight", Initializers.linear(c.headWidth(), dm, rnd), c.headWidth(), dm);
        put(m, "head.bias", new float[c.headWidth()], c.headWidth());
        return m;
    }

    private static void put(Map<String, Parameter> m, String name, float[] data, int... shape) {
        m.put(name, new Parameter(name, shape, data));
    }

    /**
     * Wraps given tensors after checking that exactly the expected names are present with the expected shapes
     * and only finite values.
     */
    public static ModelParameters of(ModelConfig c, List<Parameter> tensors) {
        // The count first, in long arithmetic: a config of a hundred million layers (a few hundred bytes on the models
        // topic) must be refused before its shape map is built, not run every instance out of memory.
        long need = parameterCount(c), have = 0;
        for (Parameter p : tensors) have += p.data().length;
        if ((long) c.layers() * c.members() > MAX_LISTED_BLOCKS && need != have) {
            throw new InvalidModelException("the config needs " + need + " parameter values (" + c.layers() + " layers, "
                    + c.members() + " members), the tensors hold " + have);
        }
        Map<String, int[]> expected = expectedShapes(c);
        Map<String, Parameter> m = new LinkedHashMap<>();
        for (Parameter p : tensors) {
            int[] shape = expected.get(p.name());
            if (shape == null) {
                throw new InvalidModelException("unexpected parameter '" + p.name() + "' for this config");
            }
            if (!Arrays.equals(shape, p.shape())) {
                throw new InvalidModelException("parameter '" + p.name() + "' has shape " + Arrays.toString(p.shape())
                        + ", the config needs " + Arrays.toString(shape));
            }
            float[] d = p.data();
            for (int i = 0; i < d.length; i++) {
                if (!Float.isFinite(d[i])) {
                    throw new InvalidModelException("parameter '" + p.name() + "' has a non-finite value (" + d[i]
                            + ") at index " + i);
                }
                if (d[i] > MAX_A_LOG && p.name().endsWith("A_log")) {
                    // a = -exp(A_log) overflows fp32 above ~88.7: -Inf poles make every key's state NaN.
                    throw new InvalidModelException("parameter '" + p.name() + "' has A_log " + d[i] + " at index " + i
                            + ", above " + MAX_A_LOG + " (the pole -exp(A_log) would not be a finite float)");
                }
            }
            if (m.put(p.name(), p) != null) {
                throw new InvalidModelException("parameter '" + p.name() + "' appears twice");
            }
        }
        List<String> missing = new ArrayList<>();
        for (String name : expected.keySet()) {
            if (!m.containsKey(name)) {
                missing.add(name);
            }
        }
        if (!missing.isEmpty()) {
            throw new InvalidModelException("missing parameters " + missing);
        }
        Map<String, Parameter> ordered = new LinkedHashMap<>();
        expected.keySet().forEach(name -> ordered.put(name, m.get(name)));
        return new ModelParameters(c, ordered);
    }

    public ModelConfig config() {
        return config;
    }

    public Parameter get(String name) {
        Parameter p = byName.get(name);
        if (p == null) {
            throw new IllegalArgumentException("no parameter named " + name);
        }
        return p;
    }

    public float[] data(String name) {
        return get(name).data();
    }

    /** All tensors in canonical order. */
    public List<Parameter> all() {
        return Collections.unmodifiableList(new ArrayList<>(byName.values()));
    }

    public long count() {
        long n = 0;
        for (Parameter p : byName.values()) {
            n += p.size();
        }
        return n;
    }

    /**
     * Member k of an ensemble as a single model ({@link ModelConfig#member}), sharing this model's tensors: its stack
     * under the single model's names, and the shared readout and cycle (its own under {@link ReadoutForm#MIXED}).
     */
    public ModelParameters member(int k) {
        ModelConfig single = config.member(k);
        String prefix = memberPrefix(k), readoutPrefix = config.readoutPerMember() ? prefix : "";
        Map<String, Parameter> m = new LinkedHashMap<>();
        for (String name : stackShapes(single).keySet()) {
            Parameter p = get(prefix + name);
            m.put(name, new Parameter(name, p.shape(), p.data()));
        }
        for (String name : readoutShapes(single).keySet()) {
            Parameter p = get(readoutPrefix + name);
            m.put(name, new Parameter(name, p.shape(), p.data()));
        }
        return new ModelParameters(single, m);
    }

    /**
     * The ensemble of single models of one config: member k's stack from {@code members.get(k)}, and the mean of
     * their readouts and of their cycles. The forecast is linear in the readout for a fixed cycle and in the cycle
     * for a fixed readout (the readout reads lags less the cycle), so while the members share at least one of the
     * two the ensemble's forecast is the mean of the members' forecasts (the log-variance too: the geometric mean
     * of their variances). Members that differ in both are refused. The trainer's members share both: their
     * closed-form start does not depend on the seed.
     */
    public static ModelParameters ensemble(List<ModelParameters> members) {
        if (members.isEmpty()) {
            throw new IllegalArgumentException("an ensemble needs at least one member");
        }
        if (members.size() > 1 && members.get(0).config().readoutForm() != members.get(1).config().readoutForm()) {
            return mixedEnsemble(members);
        }
        ModelConfig c = members.get(0).config();
        for (ModelParameters p : members) {
            if (!p.config().equals(c) || c.members() != 1) {
                throw new IllegalArgumentException("ensemble members must be single models of one config; got "
                        + p.config().toMap() + " and " + c.toMap());
            }
        }
        if (differ(members, LagReadout.WEIGHT) && differ(members, SeasonalCycle.WEIGHT)) {
            throw new IllegalArgumentException("ensemble members differ in both their readout and their cycle: the "
                    + "readout reads lags less the cycle, so no one model forecasts the members' mean; share one of "
                    + "them (the trainer's closed-form start gives members the same readout and cycle)");
        }
        Map<String, Parameter> m = new LinkedHashMap<>();
        for (int k = 0; k < members.size(); k++) {
            String prefix = memberPrefix(k);
            for (String name : stackShapes(c).keySet()) {
                Parameter p = members.get(k).get(name);
                m.put(prefix + name, new Parameter(prefix + name, p.shape(), p.data().clone()));
            }
        }
        for (String name : List.of(LagReadout.WEIGHT, LagReadout.OFFSET, SeasonalCycle.WEIGHT)) {
            if (!members.get(0).byName.containsKey(name)) continue;
            float[] mean = new float[members.get(0).get(name).size()];
            for (ModelParameters p : members) {
                float[] d = p.data(name);
                for (int i = 0; i < mean.length; i++) mean[i] += d[i] / members.size();
            }
            m.put(name, new Parameter(name, members.get(0).get(name).shape(), mean));
        }
        return new ModelParameters(c.withMembers(members.size()), m);
    }

    /**
     * The {@link ReadoutForm#MIXED} ensemble of single models that alternate NORMALISED and RESIDUAL (member 0
     * NORMALISED) and are otherwise of one config: each member keeps its own stack, readout and cycle.
     */
    private static ModelParameters mixedEnsemble(List<ModelParameters> members) {
        ModelConfig mixed = members.get(0).config().withMembers(members.size()).withReadoutForm(ReadoutForm.MIXED);
        Map<String, Parameter> m = new LinkedHashMap<>();
        for (int k = 0; k < members.size(); k++) {
            ModelParameters p = members.get(k);
            if (!p.config().equals(mixed.member(k))) {
                throw new IllegalArgumentException("a mixed ensemble's members alternate the NORMALISED and RESIDUAL "
                        + "forms (member 0 NORMALISED) and are otherwise of one single-model config; member " + k
                        + " is " + p.config().toMap());
            }
            String prefix = memberPrefix(k);
            for (Parameter t : p.all()) {
                m.put(prefix + t.name(), new Parameter(prefix + t.name(), t.shape(), t.data().clone()));
            }
        }
        return of(mixed, new ArrayList<>(m.values()));
    }

    /** True when the models have tensor {@code name} and not all of them hold the same values. */
    private static boolean differ(List<ModelParameters> models, String name) {
        if (!models.get(0).byName.containsKey(name)) return false;
        float[] first = models.get(0).data(name);
        return models.stream().anyMatch(p -> !Arrays.equals(first, p.data(name)));
    }

    public ModelParameters copy() {
        Map<String, Parameter> m = new LinkedHashMap<>();
        byName.forEach((k, v) -> m.put(k, v.copy()));
        return new ModelParameters(config, m);
    }
}
