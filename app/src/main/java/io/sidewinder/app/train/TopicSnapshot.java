package io.sidewinder.app.train;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;

/**
 * Reads every partition of a topic from its start to its end offset at the time of the call, and nothing after:
 * records written meanwhile are left out, so what was read is what one snapshot of the topic held. Gives up when no
 * partition advances for {@code stall} (a partition without a leader would otherwise be waited on forever).
 */
final class TopicSnapshot {
    private TopicSnapshot() {}

    static <K, V> void read(KafkaConsumer<K, V> c, String topic, Duration stall, Consumer<ConsumerRecord<K, V>> each) {
        var infos = c.partitionsFor(topic, Duration.ofSeconds(30));
        if (infos == null || infos.isEmpty()) {
            throw new IllegalArgumentException("topic '" + topic + "' does not exist");
        }
        List<TopicPartition> parts = infos.stream().map(i -> new TopicPartition(topic, i.partition())).toList();
        c.assign(parts);
        c.seekToBeginning(parts);
        Map<TopicPartition, Long> end = c.endOffsets(parts);
        long lastProgress = System.nanoTime(), lastPositions = -1;
        while (parts.stream().anyMatch(tp -> c.position(tp) < end.get(tp))) {
            long positions = parts.stream().mapToLong(c::position).sum();
            if (positions != lastPositions) {
                lastPositions = positions;
                lastProgress = System.nanoTime();
            } else if (System.nanoTime() - lastProgress > stall.toNanos()) {
                throw new IllegalStateException("reading '" + topic + "' made no progress for " + stall.toSeconds()
                        + " s (partitions behind: " + parts.stream().filter(tp -> c.position(tp) < end.get(tp)).toList()
                        + "); is a partition offline?");
            }
            for (ConsumerRecord<K, V> r : c.poll(Duration.ofMillis(200))) {
                if (r.offset() < end.get(new TopicPartition(r.topic(), r.partition()))) {
                    each.accept(r);
                }
            }
            for (TopicPartition tp : parts) {   // a partition read to its end offset waits for the others, unread
                if (c.position(tp) >= end.get(tp)) c.pause(List.of(tp));
            }
        }
    }
}
