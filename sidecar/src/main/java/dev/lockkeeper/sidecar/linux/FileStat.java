package dev.lockkeeper.sidecar.linux;

import java.time.Instant;

/** What statx(2) reports about one file, arch-independent. */
public record FileStat(FileType type, int permissions, int uid, int gid, long size, long allocatedBytes,
                       long device, long inode, int linkCount, Instant modified) {

    public enum FileType { REGULAR, DIRECTORY, SYMLINK, BLOCK_DEVICE, CHAR_DEVICE, FIFO, SOCKET }

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
    public record Identity(long device, long inode) { }

    public Identity identity() {
        return new Identity(device, inode);
    }
}
