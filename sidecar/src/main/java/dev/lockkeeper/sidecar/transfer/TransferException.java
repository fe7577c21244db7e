package dev.lockkeeper.sidecar.transfer;

/**
 * A failed attempt. {@code retryable} failures (a reset or stalled connection, a restarting peer, a frame that failed
 * its CRC) are retried by the agent with backoff and resume from the checkpoint; the others (ENOSPC, a target too
 * small, a refused identity, a repeated digest mismatch, a source that changed, a cancel) fail the task.
 */
public final class TransferException extends Exception {
    private final boolean retryable;
    private final boolean refused;

    public TransferException(String message, boolean retryable) {
        this(message, retryable, false, null);
    }

    public TransferException(String message, boolean retryable, Throwable cause) {
        this(message, retryable, false, cause);
    }

    private TransferException(String message, boolean retryable, boolean refused, Throwable cause) {
        super(message, cause);
        this.retryable = retryable;
        this.refused = refused;
    }

    /** The source's host refused the connection: nothing listens there yet (typically its agent restarting). */
    public static TransferException refused(String message, Throwable cause) {
        return new TransferException(message, true, true, cause);
    }

    /** Whether this attempt failed because the connection was refused (retried sooner than other failures). */
    public boolean refused() {
        return refused;
    }

    public boolean retryable() {
        return retryable;
    }
}
