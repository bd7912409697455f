package io.sidewinder.ssm;

import java.util.Arrays;

/**
 * The recurrent state of a whole model for one sequence: per layer the SSM state h ([d_inner][N], fp32) and
 * the causal conv window (the last d_conv − 1 conv inputs, [d_conv − 1][d_inner], oldest first). An ensemble's
 * state holds every member's layers, member by member ({@link ModelConfig#stateLayers()}).
 */
public final class ModelState {
    final float[][] h;
    final float[][] conv;
    private ModelState[] memberViews; // an ensemble's per-member views, made on first use

    private ModelState(float[][] h, float[][] conv) {
        this.h = h;
        this.conv = conv;
    }

    public static ModelState zeros(ModelConfig c) {
        float[][] h = new float[c.stateLayers()][c.dInner() * c.dState()];
        float[][] conv = new float[c.stateLayers()][(c.dConv() - 1) * c.dInner()];
        return new ModelState(h, conv);
    }

    /**
     * Layers [k·layers, (k + 1)·layers) as a state of their own, sharing this state's arrays (member k's view).
     * Made once per state: an ensemble's every step goes through them, and its layers' arrays never change.
     */
    ModelState member(int k, int layers) {
        ModelState[] views = memberViews;
        if (views == null) {
            views = new ModelState[h.length / layers];
            for (int m = 0; m < views.length; m++) {
                views[m] = new ModelState(Arrays.copyOfRange(h, m * layers, (m + 1) * layers),
                        Arrays.copyOfRange(conv, m * layers, (m + 1) * layers));
            }
            memberViews = views; // a racing second set would be equivalent: the same arrays
        }
        return views[k];
    }

    public float[] ssmState(int layer) {
        return h[layer];
    }

    public float[] convWindow(int layer) {
        return conv[layer];
    }

    public int layers() {
        return h.length;
    }

    public ModelState copy() {
        float[][] h2 = new float[h.length][], c2 = new float[conv.length][];
        for (int i = 0; i < h.length; i++) {
            h2[i] = h[i].clone();
            c2[i] = conv[i].clone();
        }
        return new ModelState(h2, c2);
    }

    public void reset() {
        for (float[] x : h) Arrays.fill(x, 0f);
        for (float[] x : conv) Arrays.fill(x, 0f);
    }

    /** fp32 values this state holds (h and conv windows of every layer). */
    public int floats() {
        int n = 0;
        for (int i = 0; i < h.length; i++) {
            n += h[i].length + conv[i].length;
        }
        return n;
    }
}
