package io.sidewinder.processors;

import java.util.Map;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.ProductionExceptionHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The backstop for an output the producer refuses as too large: logged with its source and skipped, because
 * failing would replace the stream thread, replay the same input and fail again, stalling the partition for good.
 * The step keeps its outputs far below the limit (states over sidewinder.max.state.bytes are refused, dead letters
 * carry at most {@link SensorReadingProcessor#MAX_DEAD_LETTER_VALUE} raw bytes). Retriable send errors are retried
 * and any other fails, as Streams' default handler does.
 */
public final class OversizedRecordHandler implements ProductionExceptionHandler {
    private static final Logger LOG = LoggerFactory.getLogger(OversizedRecordHandler.class);

    @Override
    public Response handleError(ErrorHandlerContext context, ProducerRecord<byte[], byte[]> record, Exception exception) {
        if (exception instanceof RecordTooLargeException) {
            LOG.error("an output of {} bytes to {} (key '{}') is over the producer's max.request.size and was skipped "
                            + "(input {}-{}@{}): {}", size(record), record.topic(), LogText.key(record.key()), context.topic(),
                    context.partition(), context.offset(), exception.getMessage());
            return Response.resume();
        }
        // A broker failover (NOT_ENOUGH_REPLICAS, a leader moving) or an outage past delivery.timeout.ms heals by
        // itself: retry as Streams' default handler does, instead of replacing the stream thread.
        return exception instanceof RetriableException ? Response.retry() : Response.fail();
    }

    private static int size(ProducerRecord<byte[], byte[]> r) {
        return (r.key() == null ? 0 : r.key().length) + (r.value() == null ? 0 : r.value().length);
    }

    @Override
    public void configure(Map<String, ?> configs) {}
}
