package dev.lockkeeper.sidecar.transfer;

/** Progress of one attempt, from the transfer's thread; implementations must be quick and thread-safe. */
public interface TransferProgress {
    /** @param done logical bytes of the target settled so far, including what an earlier attempt settled */
    void update(long done, long total, long dataBytes, long holeBytes);

    /** The data is written; the target is now being read back and compared with the source's digest. */
    void verifying();
}
