package dev.lockkeeper.sidecar.copy;

import dev.lockkeeper.sidecar.linux.Errno;
import dev.lockkeeper.sidecar.linux.ErrnoException;
import dev.lockkeeper.sidecar.linux.ExtendedAttribute;
import dev.lockkeeper.sidecar.linux.FileStat;
import dev.lockkeeper.sidecar.linux.FileStat.FileType;
import dev.lockkeeper.sidecar.linux.FileStat.Identity;
import dev.lockkeeper.sidecar.linux.NativeFile;
import dev.lockkeeper.sidecar.linux.NativeFile.Mode;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A filesystem volume's tree for a copy that is sent rather than written: the local tree copy's walk
 * ({@link TreeWalk}, one filesystem, never following links, names as bytes) with each directory's names sorted, so
 * that an entry's ordinal (root 0, then 1, 2, … in walk order) names the same entry in every attempt and a
 * checkpoint can say "everything up to ordinal N is durable". What the local copy keeps goes out as
 * {@link TreeEntry} records: directories, regular files (their data extents found with SEEK_DATA/SEEK_HOLE, holes
 * as zero runs), symlinks, hard links (as the first name of their inode), with owner, mode, mtime and extended
 * attributes (the SELinux label left out); FIFOs, sockets, device nodes and files mounted from elsewhere are
 * skipped and listed, as locally. One {@value #BUFFER}-byte buffer, one thread: the caller's sends pace the reads.
 */
public final class TreeStreamSource implements AutoCloseable {
    static final int BUFFER = 4 << 20;

    /** Receives the walk, in order: each entry's attributes, the entry, a file's data, and its end. */
    public interface Records {
        void entry(long ordinal, TreeEntry entry, List<ExtendedAttribute> attributes) throws IOException;

        /** {@code bytes} is only valid during the call; offsets are within the file of the last entry. */
        void data(MemorySegment bytes, long offset, int length) throws IOException;

        void zero(long offset, long length) throws IOException;

        void end(long ordinal, long size) throws IOException;
    }

    private final Path root;
    private final NativeFile rootHandle;
    private final FileStat rootStat;
    private final TreeCopier.TreeSize size;
    private final Arena arena = Arena.ofConfined();
    private final MemorySegment buffer = NativeFile.directBuffer(arena, BUFFER);
    private final List<String> skipped = new ArrayList<>();
    private boolean openBeneathSupported = true;

    private TreeStreamSource(Path root, NativeFile rootHandle, FileStat rootStat, TreeCopier.TreeSize size) {
        this.root = root;
        this.rootHandle = rootHandle;
        this.rootStat = rootStat;
        this.size = size;
    }

    /** Opens a filesystem volume's root and measures its tree (a stat of every entry). */
    public static TreeStreamSource open(Path volume) throws CopyException {
        try {
            Path root = volume.toRealPath();
            if (!Files.isDirectory(root, LinkOption.NOFOLLOW_LINKS)) {
                throw new CopyException("source " + volume
                        + " is not a directory; --content archive copies a filesystem volume's tree");
            }
            if (Files.exists(root.resolve(TreeCopier.STAGING), LinkOption.NOFOLLOW_LINKS)) {
                throw new CopyException("source " + volume + " holds an unfinished Lockkeeper copy ("
                        + TreeCopier.STAGING + "); finish or redo that copy first");
            }
            NativeFile handle = NativeFile.open(root, Mode.READ, Mode.DIRECTORY, Mode.NO_FOLLOW);
            try {
                return new TreeStreamSource(root, handle, handle.stat(), TreeCopier.measure(root, () -> true));
            } catch (IOException | CopyException | RuntimeException e) {
                handle.close();
                throw e;
            }
        } catch (IOException e) {
            throw Failures.explain(e);
        }
    }

    /** Logical bytes of the tree's regular files, each inode once. */
    public long size() {
        return size.logicalBytes();
    }

    public long allocatedBytes() {
        return size.allocatedBytes();
    }

    /**
     * The root directory as it was opened: which directory, and when an entry was last added to or removed from the
     * top level. A file changed inside the tree is caught by its own before/after check and by the digest.
     */
    public String fingerprint() {
        return "tree:" + rootStat.device() + ":" + rootStat.inode() + ":"
                + rootStat.modified().getEpochSecond() + "."
                + rootStat.modified().getNano();
    }

    /** What was left out, as the local tree copy reports it (a FIFO, a device node, a file mounted from elsewhere). */
    public List<String> skipped() {
        return List.copyOf(skipped);
    }

    /**
     * Walks the tree once. Entries up to {@code durable} are not sent again, except directories (marked
     * {@link TreeEntry#resent}); the entry after it, when it is a file, sends its data from {@code dataFrom}.
     *
     * @return the last ordinal of the walk
     */
    public long stream(long durable, long dataFrom, Records records) throws IOException, CopyException {
        if (durable < 0 || dataFrom < 0)
            throw new CopyException("a tree stream resumes from ordinal " + durable + ", offset " + dataFrom);
        skipped.clear();
        long[] ordinal = {-1};
        long[] filesBefore = {0};
        Map<Identity, TreePath> firstNameOf = new HashMap<>();
        TreeWalk.walkSorted(rootHandle, entry -> {
            long number = ++ordinal[0];
            TreePath path = entry.path();
            FileStat stat = entry.stat();
            boolean sent = number > durable;
            if (path.isRoot()) {
                records.entry(
                        0,
                        record(TreeEntry.Kind.DIRECTORY, entry, 0, 0, filesBefore[0], null, null, false),
                        TreeCopier.carried(rootHandle.extendedAttributes()));
                records.end(0, 0);
                return true;
            }
            if (entry.mountPoint()) {
                if (stat.type() == FileType.DIRECTORY) {
                    if (sent)
                        skipped.add(path
                                + " (mount point: another filesystem is mounted there; copied as an empty directory)");
                    directory(number, TreeEntry.Kind.MOUNT_POINT, entry, sent, filesBefore[0], records);
                } else if (sent) {
                    skipped.add(path + " (mount point: a " + typeName(stat)
                            + " mounted from another filesystem; not copied)");
                }
                return true;
            }
            switch (stat.type()) {
                case DIRECTORY -> directory(number, TreeEntry.Kind.DIRECTORY, entry, sent, filesBefore[0], records);
                case REGULAR -> {
                    TreePath first = stat.linkCount() > 1 ? firstNameOf.putIfAbsent(stat.identity(), path) : null;
                    if (first != null) {
                        if (sent) {
                            records.entry(
                                    number,
                                    record(TreeEntry.Kind.HARD_LINK, entry, 0, 0, filesBefore[0], null, first, false),
                                    List.of());
                            records.end(number, 0);
                        }
                    } else {
                        if (sent) file(number, entry, number == durable + 1 ? dataFrom : 0, filesBefore[0], records);
                        filesBefore[0] += stat.size();
                    }
                }
                case SYMLINK -> {
                    if (sent) {
                        byte[] relative = path.bytes();
                        records.entry(
                                number,
                                record(
                                        TreeEntry.Kind.SYMLINK,
                                        entry,
                                        0,
                                        0,
                                        filesBefore[0],
                                        rootHandle.readLinkAt(relative),
                                        null,
                                        false),
                                TreeCopier.carried(rootHandle.linkExtendedAttributesAt(relative)));
                        records.end(number, 0);
                    }
                }
                default -> {
                    if (sent) skipped.add(path + " (" + typeName(stat) + ")");
                }
            }
            return true;
        });
        return ordinal[0];
    }

    private static TreeEntry record(
            TreeEntry.Kind kind,
            TreeWalk.Entry entry,
            long size,
            long dataFrom,
            long filesBefore,
            byte[] linkTarget,
            TreePath firstName,
            boolean resent) {
        FileStat stat = entry.stat();
        return new TreeEntry(
                kind,
                entry.path(),
                stat.permissions(),
                stat.uid(),
                stat.gid(),
                stat.modified(),
                size,
                dataFrom,
                filesBefore,
                linkTarget,
                firstName,
                resent);
    }

    private void directory(
            long number, TreeEntry.Kind kind, TreeWalk.Entry entry, boolean sent, long filesBefore, Records records)
            throws IOException, CopyException {
        List<ExtendedAttribute> attributes = List.of();
        if (sent) {
            try (NativeFile directory = openInside(entry.path(), Mode.READ, Mode.DIRECTORY, Mode.NO_FOLLOW)) {
                attributes = TreeCopier.carried(directory.extendedAttributes());
            }
        }
        records.entry(number, record(kind, entry, 0, 0, filesBefore, null, null, !sent), attributes);
        records.end(number, 0);
    }

    private void file(long number, TreeWalk.Entry entry, long dataFrom, long filesBefore, Records records)
            throws IOException, CopyException {
        FileStat stat = entry.stat();
        try (NativeFile in = openInside(entry.path(), Mode.READ, Mode.NO_FOLLOW)) {
            SizelessContent.refuse(in, stat);
            long from = Math.min(dataFrom, stat.size());
            records.entry(
                    number,
                    record(TreeEntry.Kind.FILE, entry, stat.size(), from, filesBefore, null, null, false),
                    TreeCopier.carried(in.extendedAttributes()));
            extents(in, from, stat.size(), records);
            FileStat after = in.stat();
            if (!after.identity().equals(stat.identity()) || !after.version().equals(stat.version())) {
                throw new CopyException("source file " + in + " changed during the copy (before: " + stat.version()
                        + "; after: " + after.version()
                        + "), so its copy may mix old and new data; stop whatever writes to it and copy again");
            }
            records.end(number, stat.size());
        }
    }

    /** Data extents as read, holes as zero runs, [from, size) in order; the pages read are dropped again. */
    private void extents(NativeFile in, long from, long size, Records records) throws IOException, CopyException {
        long position = from;
        while (position < size) {
            long data = nextData(in, position, size);
            if (data > position) records.zero(position, data - position);
            if (data >= size) break;
            long hole = Math.min(nextHole(in, data, size), size);
            for (long at = data; at < hole; ) {
                long got = in.read(buffer, Math.min(BUFFER, hole - at), at);
                if (got == 0) throw SizelessContent.shrank(in, size);
                records.data(buffer.asSlice(0, got), at, (int) got);
                in.dropCache(at, got);
                at += got;
            }
            position = hole;
        }
    }

    private static long nextData(NativeFile in, long position, long size) throws ErrnoException {
        try {
            long data = in.nextData(position);
            return data < 0 ? size : Math.min(data, size);
        } catch (ErrnoException e) {
            if (e.errno().meansUnsupported()) return position;
            throw e;
        }
    }

    private static long nextHole(NativeFile in, long data, long size) throws ErrnoException {
        try {
            return in.nextHole(data);
        } catch (ErrnoException e) {
            if (e.errno().meansUnsupported()) return size;
            throw e;
        }
    }

    /** As the local tree copy opens its sources: beneath the root, no symlink on the way (checked after, before 5.6). */
    private NativeFile openInside(TreePath path, Mode... modes) throws IOException, CopyException {
        byte[] relative = path.bytes();
        if (openBeneathSupported) {
            try {
                return NativeFile.openBeneath(rootHandle, relative, modes);
            } catch (ErrnoException e) {
                if (e.errno() == Errno.ENOSYS || e.errno() == Errno.EPERM) {
                    openBeneathSupported = false;
                } else if (e.errno() == Errno.ELOOP || e.errno() == Errno.EXDEV) {
                    throw new CopyException("refusing to read " + root + "/" + path
                            + ": a symlink in its path, swapped in during the copy, would lead out of the source root");
                } else {
                    throw e;
                }
            }
        }
        NativeFile opened = rootHandle.openAt(relative, modes);
        if (!opened.resolvedPath().startsWith(root)) {
            opened.close();
            throw new CopyException("refusing to read " + root + "/" + path + ": it resolved outside the source root");
        }
        return opened;
    }

    private static String typeName(FileStat stat) {
        return stat.type() == FileType.REGULAR
                ? "file"
                : stat.type().name().toLowerCase().replace('_', ' ');
    }

    /** The engine's tree digest of the source, and of its hard-link structure. */
    public TreeDigest.Summary digest() throws CopyException {
        try {
            return TreeDigest.summarize(root);
        } catch (IOException e) {
            throw Failures.explain(e);
        }
    }

    @Override
    public void close() throws ErrnoException {
        try {
            rootHandle.close();
        } finally {
            arena.close();
        }
    }
}
