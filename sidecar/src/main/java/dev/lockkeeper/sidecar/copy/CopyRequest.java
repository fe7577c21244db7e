package dev.lockkeeper.sidecar.copy;

import java.nio.file.Path;

/**
 * One copy to run.
 *
 * @param targetIsZero         a block target already reads as zeros, so holes need not be zeroed
 * @param filesystemOverhead   fraction of a filesystem volume kept for metadata (upstream default 0.06)
 * @param maxBytesPerSecond    throttle on logical bytes per second, 0 for none
 * @param checkpoints          where an image copy records how far its target is durable, so that a later copy of the
 *                             same source continues from there ({@link CopyCheckpoints#NONE}: not resumable)
 */
public record CopyRequest(
        Path source,
        Path target,
        Content content,
        boolean preallocate,
        boolean targetIsZero,
        boolean verify,
        double filesystemOverhead,
        long maxBytesPerSecond,
        ProgressListener progress,
        CopyCheckpoints checkpoints) {

    public static final double UPSTREAM_FILESYSTEM_OVERHEAD = 0.06;

    public static CopyRequest of(Path source, Path target) {
        return new CopyRequest(
                source,
                target,
                Content.KUBEVIRT,
                false,
                false,
                false,
                UPSTREAM_FILESYSTEM_OVERHEAD,
                0,
                ProgressListener.NONE,
                CopyCheckpoints.NONE);
    }

    public CopyRequest withContent(Content value) {
        return new CopyRequest(
                source,
                target,
                value,
                preallocate,
                targetIsZero,
                verify,
                filesystemOverhead,
                maxBytesPerSecond,
                progress,
                checkpoints);
    }

    public CopyRequest withPreallocate(boolean value) {
        return new CopyRequest(
                source,
                target,
                content,
                value,
                targetIsZero,
                verify,
                filesystemOverhead,
                maxBytesPerSecond,
                progress,
                checkpoints);
    }

    public CopyRequest withTargetIsZero(boolean value) {
        return new CopyRequest(
                source,
                target,
                content,
                preallocate,
                value,
                verify,
                filesystemOverhead,
                maxBytesPerSecond,
                progress,
                checkpoints);
    }

    public CopyRequest withVerify(boolean value) {
        return new CopyRequest(
                source,
                target,
                content,
                preallocate,
                targetIsZero,
                value,
                filesystemOverhead,
                maxBytesPerSecond,
                progress,
                checkpoints);
    }

    public CopyRequest withFilesystemOverhead(double value) {
        return new CopyRequest(
                source,
                target,
                content,
                preallocate,
                targetIsZero,
                verify,
                value,
                maxBytesPerSecond,
                progress,
                checkpoints);
    }

    public CopyRequest withMaxBytesPerSecond(long value) {
        return new CopyRequest(
                source,
                target,
                content,
                preallocate,
                targetIsZero,
                verify,
                filesystemOverhead,
                value,
                progress,
                checkpoints);
    }

    public CopyRequest withProgress(ProgressListener value) {
        return new CopyRequest(
                source,
                target,
                content,
                preallocate,
                targetIsZero,
                verify,
                filesystemOverhead,
                maxBytesPerSecond,
                value,
                checkpoints);
    }

    public CopyRequest withCheckpoints(CopyCheckpoints value) {
        return new CopyRequest(
                source,
                target,
                content,
                preallocate,
                targetIsZero,
                verify,
                filesystemOverhead,
                maxBytesPerSecond,
                progress,
                value);
    }
}
