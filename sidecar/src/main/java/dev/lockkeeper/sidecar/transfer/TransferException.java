package dev.lockkeeper.sidecar.transfer;

/**
 * A failed attempt. {@code retryable} failures (a reset or stalled connection, a restarting peer, a frame that failed
 * its CRC) are retried by the agent with backoff and resume from the checkpoint; the others (ENOSPC, a target too
 * small, a refused identity, a repeated digest mismatch, a source that changed, a cancel) fail the task.
 */
public final class TransferException extends Exception {
    private final boolean retryable;

    public TransferException(String message, boolean retryable) {
        super(message);
        this.retryable = retryable;
    }

    public TransferException(String message, boolean retryable, Throwable cause) {
        super(message, cause);
        this.retryable = retryable;
    }

    public boolean retryable() {
        return retryable;
    }
}
