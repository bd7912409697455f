package io.sidewinder.processors;

import static org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.REPLACE_THREAD;
import static org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.streams.errors.StreamsException;
import org.junit.jupiter.api.Test;

class ThreadFailurePolicyTest {
    private final AtomicLong clock = new AtomicLong();
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final ThreadFailurePolicy policy = new ThreadFailurePolicy(2, Duration.ofMinutes(10), clock::get, registry);

    private double count(String exception, String response) {
        var c = registry.find("sidewinder.stream.thread.failures").tag("exception", exception).tag("response", response)
                .counter();
        return c == null ? 0 : c.count();
    }

    @Test
    void failuresThatKeepComingBackShutTheClientDownAfterTheAllowedReplacements() {
        StreamsException failure = new StreamsException(new IllegalStateException("broken punctuation"));
        assertEquals(REPLACE_THREAD, policy.handle(failure));
        clock.addAndGet(Duration.ofMinutes(1).toNanos());
        assertEquals(REPLACE_THREAD, policy.handle(failure));
        clock.addAndGet(Duration.ofMinutes(1).toNanos());
        assertEquals(SHUTDOWN_CLIENT, policy.handle(failure));
        assertEquals(2, count("IllegalStateException", "replace_thread"));
        assertEquals(1, count("IllegalStateException", "shutdown_client"));
    }

    @Test
    void failuresFurtherApartThanTheWindowAreEachReplaced() {
        StreamsException failure = new StreamsException("fenced");
        for (int i = 0; i < 5; i++) {
            assertEquals(REPLACE_THREAD, policy.handle(failure), "failure " + i);
            clock.addAndGet(Duration.ofMinutes(6).toNanos());
        }
    }

    @Test
    void anErrorShutsTheClientDownAtOnce() {
        assertEquals(SHUTDOWN_CLIENT, policy.handle(new StreamsException(new OutOfMemoryError("Java heap space"))));
        assertEquals(1, count("OutOfMemoryError", "shutdown_client"));
    }

    @Test
    void failuresNoNewThreadCanGetPastShutTheClientDownAtOnceWithoutAReplacementRebalance() {
        assertEquals(SHUTDOWN_CLIENT, policy.handle(new StreamsException(
                new org.apache.kafka.common.errors.TopicAuthorizationException("Not authorized to access topics: [sensor-forecasts]"))));
        assertEquals(SHUTDOWN_CLIENT, policy.handle(new org.apache.kafka.streams.errors.MissingSourceTopicException(
                "One or more source topics were missing during rebalance")));
        assertEquals(SHUTDOWN_CLIENT, policy.handle(new StreamsException(new org.apache.kafka.streams.errors.ProcessorStateException(
                "Error while putting key into store sensor-state", new java.io.IOException("No space left on device")))));
        // A broker away for a while, or a login that fails while the identity provider is down, heal: replaced.
        assertEquals(REPLACE_THREAD, policy.handle(new StreamsException(
                new org.apache.kafka.common.errors.SaslAuthenticationException("Authentication failed"))));
        clock.addAndGet(Duration.ofMinutes(11).toNanos());
        assertEquals(REPLACE_THREAD, policy.handle(new StreamsException(
                new org.apache.kafka.common.errors.TimeoutException("Expiring 3 record(s)"))));
        assertEquals(0, count("TimeoutException", "shutdown_client"));
        assertEquals(1, count("TopicAuthorizationException", "shutdown_client"));
    }
}
