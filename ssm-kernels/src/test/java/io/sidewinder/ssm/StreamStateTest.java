package io.sidewinder.ssm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class StreamStateTest {

    @Test
    void stateRoundTripsThroughItsBinaryFormAndContinuesIdentically() {
        ModelConfig cfg = ModelConfig.defaults(3);
        Forecaster f = new Forecaster(new MambaModel(ModelParameters.initialise(cfg, 2)));
        StreamState s = StreamState.fresh(cfg);
        for (int t = 0; t < 50; t++) {
            f.advance(s, t * 1000L, new float[] {t, (float) Math.sin(t), 5});
        }
        byte[] bytes = s.toBytes();
        StreamState back = StreamState.fromBytes(bytes, cfg);
        assertArrayEquals(bytes, back.toBytes());
        assertEquals(s.steps(), back.steps());
        assertEquals(s.lastEventTime(), back.lastEventTime());
        Forecaster.Prediction a = f.advance(s, 51_000, new float[] {1, 2, 3});
        Forecaster.Prediction b = f.advance(back, 51_000, new float[] {1, 2, 3});
        assertArrayEquals(a.mean(), b.mean(), 1e-4f);   // two runs may straddle a JIT switch: fp32 rounding
        assertArrayEquals(a.stddev(), b.stddev(), 1e-4f);
    }

    @Test
    void defaultModelStateFitsIn16KiB() {
        ModelConfig cfg = ModelConfig.defaults(1);
        int bytes = StreamState.fresh(cfg).toBytes().length;
        int expected = 2 + 1 + 5 * 4 + 3 * 8 + 2 * 8
                + cfg.layers() * (cfg.dInner() * cfg.dState() + (cfg.dConv() - 1) * cfg.dInner()) * 4;
        assertEquals(expected, bytes);
        assertTrue(bytes < 16 * 1024, "a key's state fits in 16 KiB");
    }

    @Test
    void corruptOrMismatchedStateIsRefusedWithAReason() {
        ModelConfig cfg = ModelConfig.defaults(2);
        byte[] bytes = StreamState.fresh(cfg).toBytes();
        var badMagic = assertThrows(IllegalArgumentException.class,
                () -> StreamState.fromBytes(new byte[] {1, 2, 3, 4}, cfg));
        assertTrue(badMagic.getMessage().contains("magic"));
        var truncated = assertThrows(IllegalArgumentException.class,
                () -> StreamState.fromBytes(Arrays.copyOf(bytes, bytes.length - 7), cfg));
        assertTrue(truncated.getMessage().contains("bytes"), truncated.getMessage());
        var shape = assertThrows(IllegalArgumentException.class,
                () -> StreamState.fromBytes(bytes, cfg.withChannels(3)));
        assertTrue(shape.getMessage().contains("does not match"));
        byte[] future = bytes.clone();
        future[2] = 9;
        assertThrows(IllegalArgumentException.class, () -> StreamState.fromBytes(future, cfg));
    }

    @Test
    void aStateWrittenWithoutAReadoutLoadsIntoAModelWhoseReadoutFormNeedsLags() {
        ModelConfig before = ModelConfig.defaults(1);
        Forecaster f = new Forecaster(new MambaModel(ModelParameters.initialise(before, 2)));
        StreamState old = StreamState.fresh(before);
        for (int t = 0; t < 20; t++) {
            f.advance(old, 5_000L + t * 1000L, new float[] {3 + (float) Math.sin(t)});
        }
        assertEquals(20, old.steps());
        assertEquals(24_000L, old.lastEventTime());
        assertTrue(anyNonZero(old.modelState().ssmState(0)), "the old state has moved off zero");
        byte[] bytes = old.toBytes();
        for (ReadoutForm form : new ReadoutForm[] {ReadoutForm.NORMALISED, ReadoutForm.RESIDUAL, ReadoutForm.LAST_VALUE}) {
            ModelConfig after = before.withReadoutLags(24).withReadoutForm(form);
            StreamState s = StreamState.fromBytes(bytes, after);
            assertEquals(StreamState.fresh(after).toBytes().length, s.toBytes().length, form + ": upgraded");
            // What the old state carried survives the upgrade; only the readout history starts empty.
            assertEquals(old.steps(), s.steps(), form + ": steps");
            assertEquals(old.lastEventTime(), s.lastEventTime(), form + ": last event time");
            assertEquals(old.normalizer().count(), s.normalizer().count(), form + ": normaliser count");
            assertEquals(old.normalizer().mean(0), s.normalizer().mean(0), 0, form + ": normaliser mean");
            assertEquals(old.normalizer().std(0), s.normalizer().std(0), 0, form + ": normaliser std");
            for (int l = 0; l < before.stateLayers(); l++) {
                assertArrayEquals(old.modelState().ssmState(l), s.modelState().ssmState(l), form + ": SSM state, layer " + l);
                assertArrayEquals(old.modelState().convWindow(l), s.modelState().convWindow(l), form + ": conv window, layer " + l);
            }
            assertEquals(0, s.history().count(), form + ": history empty");
        }
    }

    static boolean anyNonZero(float[] x) {
        for (float v : x) if (v != 0) return true;
        return false;
    }
}
