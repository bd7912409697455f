package io.sidewinder.processors;

import java.util.HashMap;
import java.util.Map;
import java.util.function.LongSupplier;
import org.slf4j.Logger;

/**
 * Warnings about failed records, limited so that a failure hitting every record does not flood the log (and slow
 * the stream thread on a synchronous appender): the first failure of each kind (exception class, or message key)
 * is logged with its stack trace, later ones at most once per interval as one line that counts those left out.
 * The dead-letter counters already give the volume. One instance serves all stream threads of an application.
 */
final class FailureLog {
    private final Logger log;
    private final long intervalNanos;
    private final LongSupplier nanoClock;
    private final Map<String, Kind> kinds = new HashMap<>();

    private static final class Kind {
        long lastLogged;
        long suppressed;
    }

    FailureLog(Logger log, long intervalNanos, LongSupplier nanoClock) {
        this.log = log;
        this.intervalNanos = intervalNanos;
        this.nanoClock = nanoClock;
    }

    /** One minute between lines of a kind, on the JVM's clock. */
    static FailureLog perMinute(Logger log) {
        return new FailureLog(log, 60_000_000_000L, System::nanoTime);
    }

    /** A failure with an exception: its class is the kind. */
    void warn(String what, Throwable e) {
        warn(e.getClass().getName(), what + ": " + e, e);
    }

    /** A failure of a named kind; {@code cause} (may be null) is logged with the first one. Thread-safe. */
    synchronized void warn(String kind, String message, Throwable cause) {
        long now = nanoClock.getAsLong();
        Kind k = kinds.get(kind);
        if (k == null) {
            k = new Kind();
            k.lastLogged = now;
            kinds.put(kind, k);
            if (cause != null) {
                log.warn("{} (later failures of this kind: at most one line a minute)", message, cause);
            } else {
                log.warn("{} (later ones: at most one line a minute)", message);
            }
            return;
        }
        if (now - k.lastLogged < intervalNanos) {
            k.suppressed++;
            return;
        }
        log.warn("{} ({} more like it not logged since the last line)", message, k.suppressed);
        k.lastLogged = now;
        k.suppressed = 0;
    }
}
