package io.sidewinder.evaluation.anomaly;

/** NAB's application profiles: weights of a true positive, a missed window and a false positive. */
public enum NabProfile {
    STANDARD("standard", 1.0, 1.0, 0.11),
    REWARD_LOW_FP("low-fp", 1.0, 1.0, 0.22),
    REWARD_LOW_FN("low-fn", 1.0, 2.0, 0.11);

    private final String label;
    final double tpWeight;
    final double fnWeight;
    final double fpWeight;

    NabProfile(String label, double tp, double fn, double fp) {
        this.label = label;
        this.tpWeight = tp;
        this.fnWeight = fn;
        this.fpWeight = fp;
    }

    /** The short name used in reports ({@code standard}, {@code low-fp}, {@code low-fn}). */
    public String label() {
        return label;
    }
}
