package io.sidewinder.processors;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.function.LongSupplier;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What happens when a stream thread dies. An exception is usually passing (a broker gone for a while, a fenced
 * producer): the thread is replaced. An {@link Error} (out of memory, a broken native library) or more than
 * {@code maxReplacements} failures within {@code window} mean it will keep failing: the client shuts down, Streams
 * leaves RUNNING, /health answers 503 and the orchestrator restarts the instance, instead of a loop of replacements
 * and rebalances behind a healthy-looking endpoint. Each failure counts in
 * {@code sidewinder.stream.thread.failures{exception, response}}.
 */
final class ThreadFailurePolicy {
    private static final Logger LOG = LoggerFactory.getLogger(ThreadFailurePolicy.class);

    static final int MAX_REPLACEMENTS = 5;
    static final Duration WINDOW = Duration.ofMinutes(10);

    private final int maxReplacements;
    private final long windowNanos;
    private final LongSupplier nanoClock;
    private final MeterRegistry registry;
    private final Deque<Long> replacements = new ArrayDeque<>();

    ThreadFailurePolicy(int maxReplacements, Duration window, LongSupplier nanoClock, MeterRegistry registry) {
        this.maxReplacements = maxReplacements;
        this.windowNanos = window.toNanos();
        this.nanoClock = nanoClock;
        this.registry = registry;
    }

    synchronized StreamThreadExceptionResponse handle(Throwable e) {
        long now = nanoClock.getAsLong();
        while (!replacements.isEmpty() && now - replacements.peekFirst() > windowNanos) {
            replacements.removeFirst();
        }
        StreamThreadExceptionResponse response;
        String fatal = neverHeals(e);
        if (rootIsError(e)) {
            LOG.error("stream thread failed with an error; shutting the client down", e);
            response = StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        } else if (fatal != null) {
            // A replacement would fail the same way, after a rebalance that stalls every instance of the group.
            LOG.error("stream thread failed on {}, which a new thread would meet again; shutting the client down", fatal, e);
            response = StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        } else if (replacements.size() >= maxReplacements) {
            LOG.error("stream thread failed for the {}th time within {}; shutting the client down", replacements.size() + 1,
                    Duration.ofNanos(windowNanos), e);
            response = StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        } else {
            replacements.addLast(now);
            if (root(e) instanceof org.apache.kafka.common.errors.RetriableException) {   // a broker away for a while
                LOG.warn("stream thread failed on a retriable error ({}); replacing it ({} of {} replacements within {})",
                        root(e), replacements.size(), maxReplacements, Duration.ofNanos(windowNanos));
            } else {
                LOG.error("stream thread failed; replacing it ({} of {} replacements within {})", replacements.size(),
                        maxReplacements, Duration.ofNanos(windowNanos), e);
            }
            response = StreamThreadExceptionResponse.REPLACE_THREAD;
        }
        Counter.builder("sidewinder.stream.thread.failures").tag("exception", root(e).getClass().getSimpleName())
                .tag("response", response.name().toLowerCase(java.util.Locale.ROOT))
                .description("Stream threads that died, by root exception and what was done").register(registry)
                .increment();
        return response;
    }

    /**
     * What in the failure no new thread can get past, in words, or null: missing rights (ACLs), an input topic
     * that does not exist, a full disk under the state directory.
     */
    static String neverHeals(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            // Not an AuthenticationException: an identity provider down or a certificate being rotated heals, and
            // would otherwise stop every instance at once.
            if (t instanceof org.apache.kafka.common.errors.AuthorizationException) {
                return "missing rights (" + t.getMessage() + ")";
            }
            if (t instanceof org.apache.kafka.streams.errors.MissingSourceTopicException) {
                return "a missing input topic (" + t.getMessage() + ")";
            }
            if (t.getMessage() != null && t.getMessage().contains("No space left on device")) {
                return "a full disk (" + t.getMessage() + ")";
            }
        }
        return null;
    }

    /** Streams wraps what a thread threw (StreamsException): the cause decides. */
    private static boolean rootIsError(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof Error) return true;
        }
        return false;
    }

    private static Throwable root(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) t = t.getCause();
        return t;
    }
}
