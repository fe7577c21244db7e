package dev.lockkeeper.sidecar.copy;

import java.time.Instant;

/**
 * One entry of a tree as a tree stream carries it: what the local tree copy keeps of it (owner, mode, mtime, link
 * target or first name of a hard link) and where it is in the sorted walk. Extended attributes travel beside it.
 *
 * @param size        a regular file's size (0 for the rest)
 * @param dataFrom    where this file's data frames start: 0, or the checkpoint offset inside the file a resumed attempt
 *                    continues from
 * @param filesBefore logical bytes of the regular files before this entry in the walk (progress across attempts)
 * @param linkTarget  a symlink's content, verbatim (null for the rest)
 * @param firstName   for a hard link, the name of its inode the stream made a file of before (null for the rest)
 * @param resent      a directory an earlier attempt already made durable, sent again only so that the target knows
 *                    its attributes and may create entries in it
 */
public record TreeEntry(
        Kind kind,
        TreePath path,
        int permissions,
        int uid,
        int gid,
        Instant modified,
        long size,
        long dataFrom,
        long filesBefore,
        byte[] linkTarget,
        TreePath firstName,
        boolean resent) {

    public enum Kind {
        DIRECTORY,
        /** A directory another filesystem is mounted on: made empty, as {@code cp -x} does. */
        MOUNT_POINT,
        FILE,
        SYMLINK,
        HARD_LINK
    }

    public boolean directory() {
        return kind == Kind.DIRECTORY || kind == Kind.MOUNT_POINT;
    }
}
