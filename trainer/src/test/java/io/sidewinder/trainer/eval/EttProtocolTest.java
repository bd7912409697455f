package io.sidewinder.trainer.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class EttProtocolTest {

    @Test
    void theRowSpacingIsTheMedianSoALeftOutRowDoesNotMakeAFileIrregular() {
        assertEquals(3_600_000L, EttExperiment.medianSpacing(new long[] {0, 7_200_000, 10_800_000, 14_400_000}));
    }

    @Test
    void aColumnConstantOverTheTrainingSplitIsRefusedNotTurnedIntoNaN() {
        EttProtocol p = EttProtocol.forFile("ETTh1.csv", 96, 96);
        float[][] rows = new float[p.testEnd()][2];
        for (int t = 0; t < rows.length; t++) {
            rows[t][0] = (float) Math.sin(t / 10.0);
            rows[t][1] = t < p.trainEnd() ? 5f : t;   // stuck during the whole training split
        }
        var e = assertThrows(IllegalArgumentException.class, () -> p.standardise(rows));
        assertTrue(e.getMessage().contains("value column 1 is constant"), e.getMessage());
    }
}
