package dev.lockkeeper.sidecar.copy;

import dev.lockkeeper.sidecar.copy.CopyReport.Kind;
import dev.lockkeeper.sidecar.copy.Volume.Absent;
import dev.lockkeeper.sidecar.copy.Volume.BlockDevice;
import dev.lockkeeper.sidecar.copy.Volume.Directory;
import dev.lockkeeper.sidecar.copy.Volume.ImageFile;
import dev.lockkeeper.sidecar.linux.ErrnoException;
import dev.lockkeeper.sidecar.linux.FileStat;
import dev.lockkeeper.sidecar.linux.NativeFile;
import java.nio.file.Path;

/**
 * The copy engine's entry point: looks at what the source and target are and runs the matching copy, with the
 * semantics of upstream CDI's host-assisted clone.
 * <pre>
 * block|file      → block|file   raw image
 * block|file      → directory    DIR/disk.img, sparse          (--content kubevirt)
 * directory       → block|file   DIR/disk.img written raw      (--content kubevirt)
 * directory       → directory    the whole tree but lost+found
 * </pre>
 */
public final class VolumeCopier {
    public static final String DISK_IMAGE = "disk.img";

    /** Marks unfinished work: the suffix of a file target's temporary name, and a tree target's staging directory. */
    public static final String PARTIAL_MARKER = ImageTransfer.PARTIAL_SUFFIX;

    /** Bytes at the start of a block target that are zero until everything else is durable. */
    public static final long DEVICE_HEADER_WINDOW = ImageTransfer.HEADER_WINDOW_BYTES;

    private final int workers;

    public VolumeCopier() {
        this(ImageCopier.WORKERS);
    }

    /** {@code workers}: image chunks in flight at once (reads and writes overlap across them). */
    public VolumeCopier(int workers) {
        this.workers = workers;
    }

    public CopyReport copy(CopyRequest request) throws CopyException {
        Volume source = Volume.source(request.source());
        Volume target = Volume.target(request.target());
        refuseSameFile(source, target);
        ImageTransfer images = new ImageTransfer(request, workers);
        return switch (source) {
            case Directory dir
            when target instanceof Directory || target instanceof Absent ->
                new TreeCopier(request).copy(dir.path(), target.path());
            case Directory dir -> {
                requireKubevirt(request, "a directory", "a device or file");
                Path image = diskImageIn(dir.path());
                yield target instanceof BlockDevice device
                        ? images.toDevice(image, true, device.path(), Kind.DISK_IMG_TO_IMAGE)
                        : images.toFile(image, true, target.path(), false, Kind.DISK_IMG_TO_IMAGE);
            }
            case BlockDevice ignored
            when target instanceof BlockDevice device ->
                images.toDevice(source.path(), false, device.path(), Kind.IMAGE_TO_IMAGE);
            case ImageFile ignored
            when target instanceof BlockDevice device ->
                images.toDevice(source.path(), false, device.path(), Kind.IMAGE_TO_IMAGE);
            case BlockDevice ignored
            when target instanceof Directory dir -> imageIntoDirectory(images, request, source, dir);
            case ImageFile ignored
            when target instanceof Directory dir -> imageIntoDirectory(images, request, source, dir);
            default -> images.toFile(source.path(), false, target.path(), false, Kind.IMAGE_TO_IMAGE);
        };
    }

    private static CopyReport imageIntoDirectory(
            ImageTransfer images, CopyRequest request, Volume source, Directory dir) throws CopyException {
        requireKubevirt(request, "a device or file", "a directory");
        return images.toFile(source.path(), false, dir.path().resolve(DISK_IMAGE), true, Kind.IMAGE_TO_DISK_IMG);
    }

    private static void requireKubevirt(CopyRequest request, String from, String to) throws CopyException {
        if (request.content() != Content.KUBEVIRT) {
            throw new CopyException("copying from " + from + " to " + to
                    + " needs --content kubevirt (a volume holding " + DISK_IMAGE + "); --content "
                    + request.content().name().toLowerCase() + " only copies directory to directory");
        }
    }

    /** disk.img must be a regular file in the volume's root, not a link that could lead elsewhere. */
    private static Path diskImageIn(Path directory) throws CopyException {
        Path image = directory.resolve(DISK_IMAGE);
        FileStat stat;
        try {
            stat = NativeFile.statNoFollow(image);
        } catch (ErrnoException e) {
            throw new CopyException("source directory " + directory + " has no " + DISK_IMAGE
                    + " (with --content kubevirt a filesystem volume carries its disk as " + DISK_IMAGE + ")");
        }
        if (stat.type() != FileStat.FileType.REGULAR) {
            throw new CopyException(
                    image + " is a " + stat.type().name().toLowerCase().replace('_', ' ')
                            + ", not a regular file; refusing to follow it");
        }
        return image;
    }

    private static void refuseSameFile(Volume source, Volume target) throws CopyException {
        FileStat sourceStat = statOf(source);
        FileStat targetStat = statOf(target);
        if (sourceStat != null && targetStat != null && sourceStat.identity().equals(targetStat.identity())) {
            throw new CopyException(
                    "source and target are the same " + (source instanceof Directory ? "directory" : "file") + ": "
                            + source.path() + " and " + target.path());
        }
    }

    private static FileStat statOf(Volume volume) {
        return switch (volume) {
            case BlockDevice v -> v.stat();
            case ImageFile v -> v.stat();
            case Directory v -> v.stat();
            case Absent ignored -> null;
        };
    }
}
