package dev.lockkeeper.sidecar.transfer;

/**
 * How far a task's target is durably written.
 *
 * @param offset            image bytes [0, offset) are on disk and synced (for a tree: of the file being written)
 * @param entries           for a tree: the ordinal, in the sorted walk, of the last entry made durable; 0 for images
 * @param sourceFingerprint what the source looked like when the checkpoint was taken (size, mtime, generation), so a
 *                          source that changed between attempts is detected instead of stitched into a torn copy
 */
public record Checkpoint(long offset, long entries, String sourceFingerprint) {}
