package dev.lockkeeper.sidecar.linux;

import java.time.Instant;

/**
 * What statx(2) reports about one file, arch-independent.
 *
 * @param changed  the inode's change time (ctime): moves with every write, truncate, chmod, chown, link or xattr change,
 *                 and cannot be set back by a program the way mtime can
 * @param mountId  the mount the file was reached through ({@code stx_mnt_id}, Linux 5.8+), or {@link #UNKNOWN_MOUNT};
 *                 unlike {@code device}, it tells a bind mount of the same filesystem from the directory around it
 */
public record FileStat(
        FileType type,
        int permissions,
        int uid,
        int gid,
        long size,
        long allocatedBytes,
        long device,
        long inode,
        int linkCount,
        Instant modified,
        Instant changed,
        long mountId) {

    public static final long UNKNOWN_MOUNT = -1;

    public enum FileType {
        REGULAR,
        DIRECTORY,
        SYMLINK,
        BLOCK_DEVICE,
        CHAR_DEVICE,
        FIFO,
        SOCKET
    }

    static FileType typeOf(int mode) {
        return switch (mode & 0170000) {
            case 0100000 -> FileType.REGULAR;
            case 0040000 -> FileType.DIRECTORY;
            case 0120000 -> FileType.SYMLINK;
            case 0060000 -> FileType.BLOCK_DEVICE;
            case 0020000 -> FileType.CHAR_DEVICE;
            case 0010000 -> FileType.FIFO;
            default -> FileType.SOCKET;
        };
    }

    /** Identity that survives renames: equal for hard links to the same inode. */
    public record Identity(long device, long inode) {}

    public Identity identity() {
        return new Identity(device, inode);
    }

    /**
     * What changes when anyone writes the file: two stats with the same version saw the same content, as far as the
     * kernel's timestamps can tell (they tick at the kernel's clock granularity; since Linux 6.13 ext4, XFS, btrfs
     * and tmpfs give a change right after a statx a fine-grained stamp).
     */
    public record Version(long size, Instant modified, Instant changed) {
        @Override
        public String toString() {
            return size + " bytes, modified " + modified + ", changed " + changed;
        }
    }

    public Version version() {
        return new Version(size, modified, changed);
    }

    /** Whether this entry lies on another mount than {@code root} (a mount point, a bind mount included). */
    public boolean onOtherMountThan(FileStat root) {
        if (mountId != UNKNOWN_MOUNT && root.mountId != UNKNOWN_MOUNT) return mountId != root.mountId;
        return device != root.device;
    }
}
