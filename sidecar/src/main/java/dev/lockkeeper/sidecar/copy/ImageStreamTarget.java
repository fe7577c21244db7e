package dev.lockkeeper.sidecar.copy;

import dev.lockkeeper.sidecar.linux.Errno;
import dev.lockkeeper.sidecar.linux.ErrnoException;
import dev.lockkeeper.sidecar.linux.FileStat;
import dev.lockkeeper.sidecar.linux.NativeFile;
import dev.lockkeeper.sidecar.linux.NativeFile.Mode;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * The engine's image target rules for an image that arrives as a stream of extents, possibly over several attempts:
 * <ul>
 * <li>a file target (or {@code disk.img} in a filesystem volume) is written as {@code .NAME.lockkeeper-partial};
 *     unlike a local copy, the partial file is kept when an attempt stops, so the next attempt resumes it from its
 *     checkpoint; only {@link #publish} gives it the final name;</li>
 * <li>a block device keeps its first {@value ImageTransfer#HEADER_WINDOW_BYTES} bytes zero until everything else is
 *     durable ({@link #bodyStart}), across attempts;</li>
 * <li>holes follow {@link Holes}; O_DIRECT writes through {@link ImageSink}; the size refusals (a device too small,
 *     filesystem overhead, free space) are the local copy's.</li>
 * </ul>
 * A resumed target first clears what an earlier attempt may have written after its checkpoint, since a hole in the
 * stream is not written over on a fresh file (or a device declared zero).
 */
public final class ImageStreamTarget implements AutoCloseable {
    private final Path target;
    private final Path written;
    private final boolean device;
    private final ImageSink sink;
    private final long size;
    private final long bodyStart;
    private final long resumeFrom;

    private ImageStreamTarget(
            Path target, Path written, boolean device, ImageSink sink, long size, long bodyStart, long resumeFrom) {
        this.target = target;
        this.written = written;
        this.device = device;
        this.sink = sink;
        this.size = size;
        this.bodyStart = bodyStart;
        this.resumeFrom = resumeFrom;
    }

    /** How the target is written (the task's options). */
    public record Options(Content content, boolean preallocate, boolean targetIsZero, double filesystemOverhead) {}

    /** What the source said about itself. */
    public record SourceImage(long size, long allocatedBytes, int permissions) {}

    /**
     * @param volume     a block device, a filesystem volume's root (the image becomes its {@code disk.img}), or the
     *                   path of an image file
     * @param checkpoint where an earlier attempt's durable data ends, or -1 to start afresh
     */
    public static ImageStreamTarget open(Path volume, SourceImage source, Options options, long checkpoint)
            throws CopyException {
        try {
            FileStat stat = statOrNull(volume);
            if (stat != null && stat.type() == FileStat.FileType.BLOCK_DEVICE)
                return openDevice(volume, source, options, checkpoint);
            if (stat != null && stat.type() == FileStat.FileType.DIRECTORY) {
                if (options.content() != Content.KUBEVIRT) {
                    throw new CopyException(
                            "streaming an image into directory " + volume + " needs --content kubevirt");
                }
                return openFile(volume.resolve(VolumeCopier.DISK_IMAGE), true, source, options, checkpoint);
            }
            if (stat != null && stat.type() != FileStat.FileType.REGULAR) {
                // never replace a character device, FIFO or socket with an image file of the same name
                throw new CopyException("target " + volume + " is a "
                        + stat.type().name().toLowerCase().replace('_', ' ')
                        + "; expected a block device, a regular file or a directory");
            }
            return openFile(volume, false, source, options, checkpoint);
        } catch (IOException e) {
            throw Failures.explain(e);
        }
    }

    private static FileStat statOrNull(Path path) throws ErrnoException {
        try {
            return NativeFile.stat(path);
        } catch (ErrnoException e) {
            if (e.errno() == Errno.ENOENT) return null;
            throw e;
        }
    }

    private static ImageStreamTarget openDevice(Path path, SourceImage source, Options options, long checkpoint)
            throws IOException, CopyException {
        NativeFile file;
        try {
            file = NativeFile.open(path, Mode.READ_WRITE, Mode.EXCLUSIVE);
        } catch (ErrnoException e) {
            if (e.errno() == Errno.EBUSY) {
                throw new CopyException(
                        "target device " + path + " is in use (mounted, or held open exclusively by another program)");
            }
            throw e;
        }
        Holes holes = Holes.forDevice(options.preallocate(), options.targetIsZero());
        ImageSink sink = ImageSink.overAllocated(file, holes);
        try {
            long capacity = file.blockDeviceSize();
            if (capacity < source.size()) {
                throw new CopyException("target device " + path + " is too small: it holds " + Sizes.describe(capacity)
                        + " but the source is " + Sizes.describe(source.size()));
            }
            long header = Math.min(ImageTransfer.HEADER_WINDOW_BYTES, source.size());
            long resume = checkpoint < header ? header : Math.min(checkpoint, source.size());
            if (checkpoint < header) {
                // a fresh start, or one whose checkpoint lies before the body: the window is zeroed first, as locally
                sink.fillHole(0, header);
            } else if (holes == Holes.LEAVE) {
                // holes are not written on a device declared zero: what came after the checkpoint must go
                Holes.DEALLOCATE.fill(file, new Holes.Offloads(), resume, source.size() - resume);
            }
            sink.makeDurable();
            return new ImageStreamTarget(path, path, true, sink, source.size(), header, resume);
        } catch (IOException | CopyException | RuntimeException e) {
            sink.close();
            throw e;
        }
    }

    private static ImageStreamTarget openFile(
            Path finalName, boolean volumeImage, SourceImage source, Options options, long checkpoint)
            throws IOException, CopyException {
        checkRoom(finalName, volumeImage, source, options);
        Path partial = ImageTransfer.partialNameFor(finalName);
        FileStat existing = statOrNull(partial);
        boolean resume = checkpoint > 0
                && existing != null
                && existing.type() == FileStat.FileType.REGULAR
                && existing.size() == source.size();
        if (!resume) {
            Files.deleteIfExists(partial);
            NativeFile file = NativeFile.open(partial, Mode.WRITE, Mode.CREATE_NEW, Mode.NO_FOLLOW);
            ImageSink sink =
                    options.preallocate() ? ImageSink.overAllocated(file, Holes.LEAVE) : ImageSink.overNewFile(file);
            try {
                // final size first, as locally: extending writes serialise on ext4 and XFS
                file.truncate(source.size());
                if (options.preallocate() && source.size() > 0) file.allocate(0, source.size());
                Files.setPosixFilePermissions(
                        partial, PosixFilePermissions.fromString(ImageTransfer.permissionString(source.permissions())));
                sink.makeDurable();
            } catch (IOException | RuntimeException e) {
                sink.close();
                Files.deleteIfExists(partial);
                throw e;
            }
            return new ImageStreamTarget(finalName, partial, false, sink, source.size(), 0, 0);
        }
        NativeFile file = NativeFile.open(partial, Mode.WRITE, Mode.NO_FOLLOW);
        ImageSink sink =
                options.preallocate() ? ImageSink.overAllocated(file, Holes.LEAVE) : ImageSink.overNewFile(file);
        try {
            long from = Math.min(checkpoint, source.size());
            if (from < source.size()) {
                file.punchHole(from, source.size() - from);
                if (options.preallocate()) file.allocate(from, source.size() - from);
            }
            sink.makeDurable();
            return new ImageStreamTarget(finalName, partial, false, sink, source.size(), 0, from);
        } catch (IOException | RuntimeException e) {
            sink.close();
            throw e;
        }
    }

    private static void checkRoom(Path target, boolean volumeImage, SourceImage source, Options options)
            throws IOException, CopyException {
        FileStore store = Files.getFileStore(target.toAbsolutePath().getParent());
        if (volumeImage) {
            long usable = ImageTransfer.usableImageSize(store.getTotalSpace(), options.filesystemOverhead());
            if (source.size() > usable) {
                throw new CopyException("target volume " + target.getParent() + " is too small: its filesystem holds "
                        + Sizes.describe(store.getTotalSpace()) + ", which leaves room for a disk image of at most "
                        + Sizes.describe(usable) + " after " + Math.round(options.filesystemOverhead() * 100)
                        + "% filesystem overhead, but the source is " + Sizes.describe(source.size()));
            }
        }
        long needed = options.preallocate() ? source.size() : source.allocatedBytes();
        long free = store.getUsableSpace();
        if (needed > free) {
            throw new CopyException("not enough free space on the target filesystem of " + target + ": the copy needs "
                    + Sizes.describe(needed) + " but only " + Sizes.describe(free) + " are free");
        }
    }

    public long size() {
        return size;
    }

    /** Where the body starts: the end of a device's header window, 0 for a file. */
    public long bodyStart() {
        return bodyStart;
    }

    /** Where this attempt's stream must begin (what lies before it is durable from an earlier attempt). */
    public long resumeFrom() {
        return resumeFrom;
    }

    public boolean device() {
        return device;
    }

    /** Where the data is being written: the partial file, or the device. */
    public Path writtenPath() {
        return written;
    }

    /**
     * Writes {@code [offset, offset+length)}; {@code buffer}'s index 0 holds the byte at {@code bufferStart}, a
     * multiple of {@link NativeFile#DIRECT_IO_ALIGNMENT}, and its address is aligned the same way.
     */
    public void data(MemorySegment buffer, long bufferStart, long offset, long length) throws CopyException {
        try {
            sink.write(buffer, bufferStart, offset, length);
        } catch (ErrnoException e) {
            throw Failures.explain(e);
        }
    }

    /** A hole or zero run of the source. */
    public void zero(long offset, long length) throws CopyException {
        try {
            sink.fillHole(offset, length);
        } catch (ErrnoException e) {
            throw Failures.explain(e);
        }
    }

    /** Everything written so far on stable storage: the condition for recording a checkpoint. */
    public void makeDurable() throws CopyException {
        try {
            sink.makeDurable();
        } catch (ErrnoException e) {
            throw Failures.explain(e);
        }
    }

    /** The engine's content digest of what is on the target, read back from the disk (O_DIRECT), not the cache. */
    public String digest() throws CopyException {
        try (ImageSource back = ImageSource.open(written, true)) {
            return ContentDigest.of(back, size);
        } catch (ErrnoException e) {
            throw Failures.explain(e);
        }
    }

    /** A complete, durable file target takes its final name; a device is complete once its window is written. */
    public void publish() throws CopyException {
        if (device) return;
        try {
            Files.move(written, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            ImageTransfer.syncDirectory(target.toAbsolutePath().getParent());
        } catch (IOException e) {
            throw Failures.explain(e);
        }
    }

    /** Gives up on the target: a partial file is removed, so nothing is claimed and the next attempt starts afresh. */
    public void discard() {
        if (device) return;
        try {
            Files.deleteIfExists(written);
        } catch (IOException e) {
            // the next fresh attempt removes it before it starts
        }
    }

    /** The partial file a file target is written as. */
    public static Path partialNameFor(Path finalName) {
        return ImageTransfer.partialNameFor(finalName);
    }

    @Override
    public void close() throws CopyException {
        try {
            sink.close();
        } catch (ErrnoException e) {
            throw Failures.explain(e);
        }
    }
}
