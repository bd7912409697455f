package io.sidewinder.ssm.kernels.cuda;

/**
 * Gradients of a scan batch, accumulated (+=) by the backward: du, dDeltaRaw, dz [batch][length][channels];
 * db, dc [batch][length][stateSize]; da [channels][stateSize]; dd, dDeltaBias [channels]; dh0
 * [batch][channels][stateSize]. dz, dd and dDeltaBias may be null when the batch has no gate, D or bias.
 */
public record ScanGradientArrays(float[] du, float[] dDeltaRaw, float[] dDeltaBias, float[] da, float[] db,
                                 float[] dc, float[] dd, float[] dz, float[] dh0) {}
