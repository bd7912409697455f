package io.sidewinder.app.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class DemoDataTest {

    @Test
    void theNextEventTimeIsTheTimeOfTheNextReadingAndTimeMovesForward() {
        DemoData data = new DemoData(4, 1_000_000, 0.01, 0, 7);
        long previous = Long.MIN_VALUE;
        for (int i = 0; i < 1_000; i++) {
            long announced = data.nextEventTime();
            DemoData.Item item = data.next();
            assertEquals(announced, item.eventTime(), "item " + i);
            assertTrue(item.eventTime() >= previous, "the demo's readings come in event-time order");
            previous = item.eventTime();
        }
    }
}
