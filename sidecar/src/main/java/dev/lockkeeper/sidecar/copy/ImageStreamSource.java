package dev.lockkeeper.sidecar.copy;

import dev.lockkeeper.sidecar.copy.CopyReport.ScanType;
import dev.lockkeeper.sidecar.copy.ImageCopier.Chunk;
import dev.lockkeeper.sidecar.copy.ImageCopier.ChunkPlan;
import dev.lockkeeper.sidecar.linux.ErrnoException;
import dev.lockkeeper.sidecar.linux.FileStat;
import dev.lockkeeper.sidecar.linux.NativeFile;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;

/**
 * The engine's image walk, for a source that is sent rather than written: the same {@link ChunkPlan}
 * (SEEK_DATA/SEEK_HOLE, or every byte for a device) and the same 4 KiB zero split as a local copy, so the decision
 * "hole or data" is made in one place for both. Holes and zero runs are handed on as coalesced runs, data as the
 * bytes of one read, at most {@value ImageCopier#CHUNK} bytes each. One buffer, one thread: the caller's sends pace
 * the reads, so a slow receiver never makes this side read ahead.
 */
public final class ImageStreamSource implements AutoCloseable {
    /** Receives the walk in offset order; {@code bytes} is only valid during the call. */
    public interface Extents {
        void data(MemorySegment bytes, long offset, int length) throws IOException;

        void zero(long offset, long length) throws IOException;
    }

    private final ImageSource image;
    private final FileStat stat;
    private final Arena arena = Arena.ofConfined();
    private final MemorySegment buffer = NativeFile.directBuffer(arena, ImageCopier.CHUNK);

    private ImageStreamSource(ImageSource image, FileStat stat) {
        this.image = image;
        this.stat = stat;
    }

    /**
     * Opens a task's source: a block device or image file as it is, or for {@code KUBEVIRT} content on a filesystem
     * volume, the volume's {@code disk.img} (a regular file in the root, never followed through a link).
     */
    public static ImageStreamSource open(Path volume, Content content) throws CopyException {
        Path path = volume;
        boolean noFollow = false;
        try {
            if (NativeFile.stat(volume).type() == FileStat.FileType.DIRECTORY) {
                if (content != Content.KUBEVIRT) {
                    throw new CopyException(
                            "source " + volume + " is a directory; only --content kubevirt streams it as an image");
                }
                path = volume.resolve(VolumeCopier.DISK_IMAGE);
                FileStat image = NativeFile.statNoFollow(path);
                if (image.type() != FileStat.FileType.REGULAR) {
                    throw new CopyException(
                            path + " is a " + image.type().name().toLowerCase().replace('_', ' ')
                                    + ", not a regular file; refusing to follow it");
                }
                noFollow = true;
            }
            ImageSource image = ImageSource.open(path, noFollow);
            try {
                return new ImageStreamSource(image, image.file.stat());
            } catch (ErrnoException e) {
                image.close();
                throw e;
            }
        } catch (ErrnoException e) {
            if (e.errno() == dev.lockkeeper.sidecar.linux.Errno.ENOENT) {
                throw new CopyException(
                        "source " + path + " does not exist"
                                + (path.equals(volume)
                                        ? ""
                                        : " (with --content kubevirt a filesystem volume carries its disk as disk.img)"),
                        e);
            }
            throw Failures.explain(e);
        }
    }

    public long size() {
        return image.size;
    }

    public boolean block() {
        return stat.type() == FileStat.FileType.BLOCK_DEVICE;
    }

    /** Bytes the source occupies on disk (a device's are unknown until read: 0). */
    public long allocatedBytes() {
        return block() ? 0 : Math.min(stat.allocatedBytes(), image.size);
    }

    /** Permission bits a file target takes over (a device's image becomes rw-r--r--, as in a local copy). */
    public int permissions() {
        return block() ? 0644 : stat.permissions();
    }

    public boolean extents() {
        return image.scan == ScanType.EXTENTS;
    }

    /**
     * What the source looked like when opened: type, identity, size and modification time. A device node's times do
     * not follow writes to the device, so for a device this names the device and its size only (the content digest
     * is what catches a device changed between attempts).
     */
    public String fingerprint() {
        return (block() ? "block:" : "file:") + stat.device() + ":" + stat.inode() + ":" + image.size
                + (block()
                        ? ""
                        : ":" + stat.modified().getEpochSecond() + "."
                                + stat.modified().getNano());
    }

    /** Walks {@code [from, to)} once, in order. */
    public void stream(long from, long to, Extents extents) throws IOException, CopyException {
        if (from < 0 || to > image.size || from > to) {
            throw new CopyException(
                    "range [" + from + ", " + to + ") is outside the source's " + image.size + " bytes");
        }
        ChunkPlan plan = new ChunkPlan(image, null, from, to);
        long[] zeroStart = {-1};
        long[] zeroEnd = {-1};
        for (Chunk chunk = plan.next(); chunk != null; chunk = plan.next()) {
            if (chunk.hole()) {
                zeroStart[0] = zeroStart[0] < 0 ? chunk.start() : zeroStart[0];
                zeroEnd[0] = chunk.end();
                continue;
            }
            long bufferStart = ImageCopier.readChunk(image, chunk, buffer);
            ImageCopier.splitZeroRuns(buffer, bufferStart, chunk, (runFrom, runTo, zero) -> {
                if (zero) {
                    zeroStart[0] = zeroStart[0] < 0 ? runFrom : zeroStart[0];
                    zeroEnd[0] = runTo;
                    return;
                }
                if (zeroStart[0] >= 0) extents.zero(zeroStart[0], zeroEnd[0] - zeroStart[0]);
                zeroStart[0] = -1;
                extents.data(buffer.asSlice(runFrom - bufferStart, runTo - runFrom), runFrom, (int) (runTo - runFrom));
            });
        }
        if (zeroStart[0] >= 0) extents.zero(zeroStart[0], zeroEnd[0] - zeroStart[0]);
        checkUnchanged();
    }

    /** A regular source that changed size while being read is a torn image, not a copy. */
    public void checkUnchanged() throws IOException, CopyException {
        if (block()) return;
        FileStat now = image.file.stat();
        if (now.size() != stat.size() || !now.modified().equals(stat.modified())) {
            throw new CopyException("source " + image.path() + " changed during the copy (size " + stat.size() + " → "
                    + now.size() + " bytes, modified " + stat.modified() + " → " + now.modified()
                    + "); stop whatever writes to it and copy again");
        }
    }

    /** The engine's content digest of the whole image, read from the disk. */
    public String digest() throws CopyException {
        try {
            return ContentDigest.of(image, image.size);
        } catch (ErrnoException e) {
            throw Failures.explain(e);
        }
    }

    @Override
    public void close() throws ErrnoException {
        try {
            image.close();
        } finally {
            arena.close();
        }
    }
}
