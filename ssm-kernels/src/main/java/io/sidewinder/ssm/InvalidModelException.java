package io.sidewinder.ssm;

/** A model (snapshot or parameters) that must not be served: bad checksum, shapes, or values. */
public class InvalidModelException extends RuntimeException {
    public InvalidModelException(String message) {
        super(message);
    }

    public InvalidModelException(String message, Throwable cause) {
        super(message, cause);
    }
}
