package dev.lockkeeper.sidecar.copy;

/** A copy that cannot start or cannot finish; the message is meant for the person or agent that asked. */
public final class CopyException extends Exception {
    public CopyException(String message) {
        super(message);
    }

    public CopyException(String message, Throwable cause) {
        super(message, cause);
    }
}
