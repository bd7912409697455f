package io.sidewinder.processors;

/** Why an input went to the dead-letter topic (the DeadLetter record's {@code reason}). */
public enum DeadLetterReason {
    /** The bytes are not a SensorReading in single-object encoding. */
    UNDECODABLE,
    /** No sensor id in the record or its key. */
    MISSING_SENSOR_ID,
    /** The sensor id has control characters or is longer than {@link #MAX_SENSOR_ID_BYTES} bytes of UTF-8. */
    INVALID_SENSOR_ID,
    /** The record key is not the reading's sensor id (state would split across partitions). */
    KEY_MISMATCH,
    /** A value is NaN or infinite. */
    NON_FINITE,
    /** A value's magnitude is beyond sidewinder.max.abs.value: a sentinel or error code, not a measurement. */
    OUT_OF_RANGE,
    /** The reading's channel count differs from the model's, or from the sensor's earlier readings. */
    WRONG_CHANNEL_COUNT,
    /** The event time is too far ahead of the wall clock. */
    FUTURE_TIMESTAMP,
    /** The event time is before 1970 (a negative epoch time: an unset or garbled clock). */
    INVALID_TIMESTAMP,
    /** The event time is not after the sensor's last applied reading (older than the reorder grace). */
    OUT_OF_ORDER,
    /** The sensor's state would exceed sidewinder.max.state.bytes (too many channels for the changelog). */
    STATE_TOO_LARGE,
    /** No valid model has been published yet. */
    NO_MODEL,
    /** Processing failed unexpectedly; the record is kept here instead of stopping the stream thread. */
    INTERNAL_ERROR;

    /** Longest sensor id accepted: ids are store keys, changelog keys and URL path segments. */
    public static final int MAX_SENSOR_ID_BYTES = 1024;
}
