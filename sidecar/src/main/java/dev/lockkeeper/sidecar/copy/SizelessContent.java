package dev.lockkeeper.sidecar.copy;

import dev.lockkeeper.sidecar.linux.ErrnoException;
import dev.lockkeeper.sidecar.linux.FileStat;
import dev.lockkeeper.sidecar.linux.NativeFile;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Sources whose size is not the amount of data they hold. Files of pseudo filesystems ({@code /proc}, {@code /sys},
 * debugfs) report size 0 and produce their content when read; copied by their size they would become empty files
 * and the copy would report success. They are refused, not copied by reading until end of file: they are not
 * volumes, and their content can change with every read. And a source that shrinks during the copy is named with
 * the size it had and the size it has now.
 */
final class SizelessContent {
    private SizelessContent() {}

    /** Fails when a regular file of size 0 can be read all the same; one aligned read (the file may be O_DIRECT). */
    static void refuse(NativeFile file, FileStat stat) throws ErrnoException, CopyException {
        if (stat.type() != FileStat.FileType.REGULAR || stat.size() != 0) return;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment probe = NativeFile.directBuffer(arena, NativeFile.DIRECT_IO_ALIGNMENT);
            if (file.read(probe, probe.byteSize(), 0) > 0) {
                throw new CopyException(
                        "source " + file.path() + " reports a size of 0 bytes but has content: a file of a "
                                + "pseudo filesystem such as /proc or /sys, which is not a volume and is not copied");
            }
        }
    }

    /** The failure for a source found shorter than {@code sizeAtStart}, with the size it has now. */
    static CopyException shrank(NativeFile source, long sizeAtStart) {
        String now;
        try {
            now = Sizes.describe(source.stat().size());
        } catch (ErrnoException e) {
            now = "unknown (" + e.getMessage() + ")";
        }
        return new CopyException("source " + source.path() + " shrank during the copy: it was "
                + Sizes.describe(sizeAtStart) + ", now it is " + now + "; stop whatever writes to it and copy again");
    }
}
