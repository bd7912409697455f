package io.sidewinder.kafka.embedded;

/** Thrown when the embedded broker cannot start, a topic cannot be made ready, or Kafka tries to end the JVM. */
public class EmbeddedKafkaException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public EmbeddedKafkaException(String message) {
        super(message);
    }

    public EmbeddedKafkaException(String message, Throwable cause) {
        super(message, cause);
    }
}
