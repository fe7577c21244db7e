package dev.lockkeeper.sidecar.transfer;

/** What the source agent may serve: only tasks that name it as source and the caller as target. */
@FunctionalInterface
public interface SourceCatalog {
    /**
     * @param callerNode the node named by the caller's verified certificate
     * @throws TransferException (not retryable) naming why the caller may not read this task's source
     */
    ServedSource open(String taskId, String callerNode) throws TransferException;
}
