package dev.lockkeeper.sidecar.transfer;

import java.util.function.BooleanSupplier;

/** Pulls one task's data from the source node onto this node's target; the target agent drives. */
public interface Puller {
    /**
     * Runs one attempt: resumes from {@code checkpoints.load()} when it is present and still matches the source,
     * records a new checkpoint only after the data before it is durable, and returns once the target is complete
     * (and verified, when the request asks for it).
     *
     * @param canceled polled between frames; when it turns true the attempt stops with a non-retryable failure
     */
    TransferOutcome pull(
            PullRequest request, CheckpointStore checkpoints, TransferProgress progress, BooleanSupplier canceled)
            throws TransferException;
}
