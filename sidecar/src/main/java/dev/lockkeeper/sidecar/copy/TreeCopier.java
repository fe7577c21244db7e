package dev.lockkeeper.sidecar.copy;

import dev.lockkeeper.sidecar.copy.CopyReport.ScanType;
import dev.lockkeeper.sidecar.linux.ErrnoException;
import dev.lockkeeper.sidecar.linux.ExtendedAttribute;
import dev.lockkeeper.sidecar.linux.FileStat;
import dev.lockkeeper.sidecar.linux.FileStat.FileType;
import dev.lockkeeper.sidecar.linux.FileStat.Identity;
import dev.lockkeeper.sidecar.linux.NativeFile;
import dev.lockkeeper.sidecar.linux.NativeFile.Mode;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.DirectoryStream;
import java.nio.file.FileStore;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;

/**
 * Copies a filesystem volume's tree: regular files (sparse), directories, symlinks (as links, never followed),
 * hard links (as links), mode, owner (as root), mtimes and extended attributes (POSIX ACLs and file capabilities
 * among them); {@code lost+found} is left out; FIFOs, sockets and device nodes are reported and skipped, and so is
 * an extended attribute the target's filesystem does not support or this process may not set. One filesystem: a
 * mount point inside the source becomes an empty directory and is reported, as with {@code cp -x}. Names are
 * bytes ({@link TreePath}): every entry is reached by descriptor and name, never by a decoded path.
 *
 * <p>Completion: everything is built inside {@code TARGET/.lockkeeper-partial/}, which exists from before the
 * first entry is written until the copy is complete: a target that was absent is created with it inside (built
 * beside it under a partial name and renamed into place), a stale one from an earlier run is emptied and kept, and
 * a failed or stopped copy empties it but keeps it. Only after all data and metadata are synced are the top-level
 * entries renamed into {@code TARGET/} and the staging directory removed, so a target that still has
 * {@code .lockkeeper-partial} is unfinished, whatever else it holds, and one without it is a complete copy.
 *
 * <p>Containment: the walk never follows links; each source file is opened with openat2(RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS) beneath the source root (before Linux 5.6: O_NOFOLLOW and a check of the path the kernel
 * actually opened); each target entry is created with O_CREAT|O_EXCL|O_NOFOLLOW (mkdirat, symlinkat, linkat)
 * below the staging directory this copier created, so no pre-existing or copied symlink can redirect a write.
 *
 * <p>A source written to during the copy: each file's size, mtime and ctime as the walk saw them must still be
 * its own after its data was copied, or the copy fails rather than keep a torn file.
 */
final class TreeCopier {
    static final String STAGING = ".lockkeeper-partial";
    private static final String SELINUX_LABEL = "security.selinux";
    private static final int WORKERS = 4;
    private static final int MAX_QUEUED_FILES = 512;
    private static final int BUFFER_SIZE = 1 << 20;
    /** FileStore types whose used space bounds the data of any tree on them (see {@link #sizeUp}). */
    private static final Set<String> UNSHARED_BLOCK_FILESYSTEMS = Set.of("ext2", "ext3", "ext4", "tmpfs");

    private final CopyRequest request;
    private final boolean root = runsAsRoot();

    TreeCopier(CopyRequest request) {
        this.request = request;
    }

    CopyReport copy(Path sourceRoot, Path targetRoot) throws CopyException {
        try {
            Path source = sourceRoot.toRealPath();
            if (Files.exists(source.resolve(STAGING), LinkOption.NOFOLLOW_LINKS)) {
                throw new CopyException("source " + sourceRoot + " holds an unfinished Lockkeeper copy (" + STAGING
                        + "); finish or redo that copy first");
            }
            boolean absent = !Files.exists(targetRoot, LinkOption.NOFOLLOW_LINKS);
            Path target = absent
                    ? targetRoot.toAbsolutePath().getParent().toRealPath().resolve(targetRoot.getFileName())
                    : targetRoot.toRealPath();
            if (target.startsWith(source))
                throw new CopyException("target " + targetRoot + " is inside the source " + sourceRoot);
            if (source.startsWith(target))
                throw new CopyException("source " + sourceRoot + " is inside the target " + targetRoot);
            if (!absent) requireEmpty(target, false);
            ProgressCounter progress = sizeUp(source, absent ? target.getParent() : target);
            if (absent) createMarked(target);
            else if (!Files.exists(target.resolve(STAGING), LinkOption.NOFOLLOW_LINKS))
                Files.createDirectory(target.resolve(STAGING));
            return new Run(source, target, progress).execute();
        } catch (IOException e) {
            throw Failures.explain(e);
        }
    }

    /**
     * Allows a stale staging directory (emptied here unless {@code keepStaging}, kept as the mark of an unfinished
     * target) and lost+found.
     */
    static void requireEmpty(Path target, boolean keepStaging) throws IOException, CopyException {
        List<String> present = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(target)) {
            for (Path entry : entries) {
                String name = entry.getFileName().toString();
                if (name.equals(STAGING)) {
                    if (!keepStaging) removeContents(entry);
                } else if (!name.equals(TreeWalk.LOST_AND_FOUND)) present.add(name);
            }
        }
        if (!present.isEmpty()) {
            Collections.sort(present);
            throw new CopyException("target directory " + target + " is not empty (it holds "
                    + present.stream().limit(5).collect(Collectors.joining(", ")) + (present.size() > 5 ? ", …" : "")
                    + "); a tree is only copied into an empty volume");
        }
    }

    /**
     * Creates an absent target with its staging directory already inside: both are made under a partial name
     * beside it and renamed into place, so there is no moment at which the target exists without the mark.
     */
    static void createMarked(Path target) throws IOException {
        Path building = ImageTransfer.partialNameFor(target);
        if (Files.exists(building, LinkOption.NOFOLLOW_LINKS)) removeTree(building); // left by a killed run
        Files.createDirectory(building);
        Files.createDirectory(building.resolve(STAGING));
        Files.move(building, target, StandardCopyOption.ATOMIC_MOVE);
        ImageTransfer.syncDirectory(target.getParent());
    }

    record TreeSize(long logicalBytes, long allocatedBytes) {}

    /**
     * Refuses a target that cannot hold the tree, before a byte is written, and starts the progress count.
     * Measuring means a stat of every entry before the copy starts (a cold pass over all metadata: about 0.3 s
     * for 20,000 files here), so it is skipped when a bound settles the question: on a filesystem whose files
     * cannot share blocks (no reflinks, deduplication or compression), a tree without mount points below its
     * root cannot hold more data than the filesystem has in use. The exact total that progress reports then is
     * counted in the background, only when someone listens, and only until the copy's own walk settles it.
     *
     * @param room the directory whose filesystem the copy will fill (the target, or where it will be created)
     */
    private ProgressCounter sizeUp(Path source, Path room) throws IOException, CopyException {
        FileStore sourceStore = Files.getFileStore(source);
        if (!request.preallocate()
                && UNSHARED_BLOCK_FILESYSTEMS.contains(sourceStore.type())
                && usedOn(sourceStore) <= Files.getFileStore(room).getUsableSpace()
                && !MountTable.hasMountsBelow(source)) {
            ProgressCounter progress = new ProgressCounter(ProgressListener.UNKNOWN_TOTAL, request.progress());
            if (request.progress() != ProgressListener.NONE) {
                Thread.ofPlatform().daemon().name("lk-measure").start(() -> {
                    try {
                        progress.estimate(
                                measure(source, () -> !progress.settled()).logicalBytes());
                    } catch (IOException | CopyException e) {
                        // the copy's own walk meets the same entry and reports it
                    }
                });
            }
            return progress;
        }
        TreeSize size = measure(source, () -> true);
        long needed = request.preallocate() ? size.logicalBytes() : size.allocatedBytes();
        long free = Files.getFileStore(room).getUsableSpace();
        if (needed > free) {
            throw new CopyException("target volume " + room + " has " + Sizes.describe(free)
                    + " free but the source tree needs " + Sizes.describe(needed));
        }
        return new ProgressCounter(size.logicalBytes(), request.progress());
    }

    private static long usedOn(FileStore store) throws IOException {
        return store.getTotalSpace() - store.getUnallocatedSpace();
    }

    /** A stat-only pass over the whole tree, for as long as {@code wanted} says; an inode with several names counts once. */
    static TreeSize measure(Path source, BooleanSupplier wanted) throws IOException, CopyException {
        long[] logicalAndAllocated = new long[2];
        Set<Identity> linked = new HashSet<>();
        TreeWalk.walk(source, entry -> {
            FileStat stat = entry.stat();
            if (stat.type() == FileType.REGULAR
                    && !entry.mountPoint()
                    && (stat.linkCount() == 1 || linked.add(stat.identity()))) {
                logicalAndAllocated[0] += stat.size();
                logicalAndAllocated[1] += Math.min(stat.size(), stat.allocatedBytes());
            }
            return wanted.getAsBoolean();
        });
        return new TreeSize(logicalAndAllocated[0], logicalAndAllocated[1]);
    }

    /** Owners can only be given away with CAP_CHOWN; /proc/self belongs to the effective user. */
    static boolean runsAsRoot() {
        try {
            return Integer.valueOf(0).equals(Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * The extended attributes a copy carries: all but the SELinux label. A label belongs to the volume it is on
     * (its mount's context, the pod's categories), not to the data; copied, it would mislabel the target, and an
     * enforcing node refuses a container that relabel anyway (EACCES), which would fail the whole copy.
     */
    static List<ExtendedAttribute> carried(List<ExtendedAttribute> attributes) {
        if (attributes.isEmpty()) return attributes;
        return attributes.stream()
                .filter(attribute -> !attribute.name().equals(SELINUX_LABEL))
                .toList();
    }

    static void removeTree(Path top) throws IOException {
        removeBelow(top, true);
    }

    /** Empties a directory but keeps it: how a staging directory goes on marking its target unfinished. */
    static void removeContents(Path directory) throws IOException {
        removeBelow(directory, false);
    }

    /** NIO's walk keeps each name's bytes in its paths, so any name is removed, whatever the locale. */
    private static void removeBelow(Path top, boolean andTop) throws IOException {
        Files.walkFileTree(top, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException failure) throws IOException {
                if (failure != null) throw failure;
                if (andTop || !dir.equals(top)) Files.delete(dir);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    /** One execution: the walk runs on the calling thread; file contents are copied by a small pool. */
    private final class Run {
        private final Path source;
        private final Path target;
        private final Path staging;
        private final ProgressCounter progress;
        private final Throttle throttle = new Throttle(request.maxBytesPerSecond());
        private final Map<Identity, TreePath> firstLinkOf = new HashMap<>();
        /**
         * Below the root, in walk order; their attributes are set children-first once all entries exist: creating
         * an entry changes a directory's mtime, and entries created after a default ACL was set would inherit it.
         */
        private final List<Directory> directories = new ArrayList<>();

        private FileStat rootStat;
        private final List<String> skipped = Collections.synchronizedList(new ArrayList<>());
        private final AtomicReference<Throwable> failure = new AtomicReference<>();
        private final AtomicLong dataBytes = new AtomicLong();
        private long logicalBytes;
        /** The source root, open for the run: source entries are opened and read beneath it. */
        private NativeFile sourceRoot;
        /** The staging directory, open for the run: every target entry is created below it. */
        private NativeFile stagingRoot;

        private volatile boolean openBeneathSupported = true;
        private final Semaphore queued = new Semaphore(MAX_QUEUED_FILES);
        private final ThreadLocal<FileDataCopier> copiers;
        private long files;
        private long hardLinks;

        private record Directory(TreePath path, FileStat stat) {}

        Run(Path source, Path target, ProgressCounter progress) {
            this.source = source;
            this.target = target;
            this.staging = target.resolve(STAGING);
            this.progress = progress;
            Arena buffers = Arena.ofAuto();
            this.copiers = ThreadLocal.withInitial(() -> new FileDataCopier(buffers.allocate(BUFFER_SIZE, 4096)));
        }

        CopyReport execute() throws IOException, CopyException {
            PartialResults.track(staging);
            boolean publishing = false;
            try (NativeFile sourceRootHandle = NativeFile.open(source, Mode.READ, Mode.DIRECTORY, Mode.NO_FOLLOW);
                    NativeFile stagingHandle = NativeFile.open(staging, Mode.READ, Mode.DIRECTORY, Mode.NO_FOLLOW)) {
                sourceRoot = sourceRootHandle;
                stagingRoot = stagingHandle;
                try (ExecutorService pool = Executors.newFixedThreadPool(
                        WORKERS, Thread.ofPlatform().name("lk-tree-", 0).factory())) {
                    walk(pool);
                }
                rethrowFailure();
                // the walk has seen every entry: its count is the exact total, whether or not one was measured
                progress.settle(logicalBytes);
                for (Directory dir : directories.reversed()) {
                    try (NativeFile original = openInsideSource(dir.path(), Mode.READ, Mode.DIRECTORY, Mode.NO_FOLLOW);
                            NativeFile copy =
                                    stagingRoot.openAt(dir.path().bytes(), Mode.READ, Mode.DIRECTORY, Mode.NO_FOLLOW)) {
                        copyDirectoryAttributes(original, copy, dir.stat(), dir.path());
                    }
                }
                stagingRoot.syncFileSystem();
                Optional<String> checksum =
                        request.verify() ? Optional.of(TreeDigest.verify(source, staging)) : Optional.empty();
                if (!PartialResults.claim(staging))
                    throw new CopyException("stopped before the copy of " + source + " was finished");
                publishing = true;
                publish();
                return new CopyReport(
                        CopyReport.Kind.TREE,
                        target,
                        ScanType.EXTENTS,
                        logicalBytes,
                        dataBytes.get(),
                        logicalBytes - dataBytes.get(),
                        files,
                        checksum,
                        List.copyOf(skipped),
                        hardLinks);
            } catch (IOException | CopyException | RuntimeException e) {
                // emptied, not removed: the staging directory goes on saying that this target is unfinished
                if (!publishing && PartialResults.claim(staging)) removeContents(staging);
                throw e;
            } finally {
                progress.close();
            }
        }

        private void walk(ExecutorService pool) throws IOException, CopyException {
            TreeWalk.walk(sourceRoot, entry -> {
                if (failure.get() != null) return false;
                TreePath path = entry.path();
                FileStat stat = entry.stat();
                if (path.isRoot()) {
                    rootStat = stat;
                } else if (entry.mountPoint()) {
                    skipMountPoint(path, stat);
                } else if (stat.type() == FileType.DIRECTORY) {
                    stagingRoot.createDirectoryAt(path.bytes());
                    directories.add(new Directory(path, stat));
                } else {
                    copyEntry(path, stat, pool);
                }
                return true;
            });
        }

        /** As {@code cp -x}: a directory another filesystem is mounted on is copied empty; a mounted file is left out. */
        private void skipMountPoint(TreePath path, FileStat stat) throws ErrnoException {
            if (stat.type() == FileType.DIRECTORY) {
                stagingRoot.createDirectoryAt(path.bytes());
                directories.add(new Directory(path, stat));
                skipped.add(path + " (mount point: another filesystem is mounted there; copied as an empty directory)");
            } else {
                String what = stat.type() == FileType.REGULAR ? "file" : typeName(stat);
                skipped.add(path + " (mount point: a " + what + " mounted from another filesystem; not copied)");
            }
        }

        private void copyEntry(TreePath path, FileStat stat, ExecutorService pool) throws IOException {
            switch (stat.type()) {
                case REGULAR -> {
                    if (stat.linkCount() > 1) {
                        TreePath first = firstLinkOf.putIfAbsent(stat.identity(), path);
                        if (first != null) {
                            stagingRoot.createHardLinkAt(first.bytes(), path.bytes());
                            hardLinks++;
                            return;
                        }
                    }
                    logicalBytes += stat.size();
                    files++;
                    NativeFile created = stagingRoot.openAt(path.bytes(), Mode.WRITE, Mode.CREATE_NEW, Mode.NO_FOLLOW);
                    queued.acquireUninterruptibly();
                    pool.execute(() -> {
                        try {
                            copyFile(path, stat, created);
                        } catch (Throwable t) {
                            failure.compareAndSet(null, t);
                        } finally {
                            queued.release();
                        }
                    });
                }
                case SYMLINK -> {
                    byte[] relative = path.bytes();
                    stagingRoot.createSymlinkAt(sourceRoot.readLinkAt(relative), relative);
                    stagingRoot.copyLinkAttributesAt(
                            relative,
                            stat,
                            root,
                            carried(sourceRoot.linkExtendedAttributesAt(relative)),
                            skipRefused(path));
                }
                case DIRECTORY ->
                    throw new IllegalStateException("directories are visited, not copied as entries: " + path);
                default -> skipped.add(path + " (" + typeName(stat) + ")");
            }
        }

        private void copyFile(TreePath path, FileStat stat, NativeFile created) throws IOException, CopyException {
            try (created;
                    NativeFile in = openInsideSource(path, Mode.READ, Mode.NO_FOLLOW)) {
                SizelessContent.refuse(in, stat);
                if (request.preallocate() && stat.size() > 0) created.allocate(0, stat.size());
                long copied = copiers.get()
                        .copy(in, created, stat.size(), stat.allocatedBytes() < stat.size(), progress::advance);
                throttle.acquire(copied);
                if (copied < stat.size()) created.truncate(stat.size());
                FileStat after = in.stat();
                if (!after.identity().equals(stat.identity())
                        || !after.version().equals(stat.version())) {
                    throw new CopyException("source file " + in + " changed during the copy (before: " + stat.version()
                            + "; after: " + after.version()
                            + "), so its copy may mix old and new data; stop whatever writes to it and copy again");
                }
                created.copyAttributesFrom(stat, root, carried(in.extendedAttributes()), skipRefused(path));
                dataBytes.addAndGet(copied);
                progress.advance(stat.size() - copied);
            }
        }

        /**
         * The walk saw a regular file or directory; opens that one and not something a link swapped in since points
         * at. The kernel checks it (openat2 beneath the source root, no symlinks on the way); before Linux 5.6 the
         * path the descriptor really has is checked after opening.
         */
        private NativeFile openInsideSource(TreePath path, Mode... modes) throws IOException, CopyException {
            byte[] relative = path.bytes();
            if (openBeneathSupported) {
                try {
                    return NativeFile.openBeneath(sourceRoot, relative, modes);
                } catch (ErrnoException e) {
                    switch (e.errno()) {
                        // EPERM: a container's seccomp profile from before openat2 existed refuses it that way
                        case ENOSYS, EPERM -> openBeneathSupported = false;
                        case ELOOP, EXDEV ->
                            throw new CopyException(
                                    "refusing to read " + source + "/" + path
                                            + ": a symlink in its path, swapped in during the copy, would lead out of the source root");
                        default -> throw e;
                    }
                }
            }
            NativeFile opened = sourceRoot.openAt(relative, modes);
            Path actual = opened.resolvedPath();
            if (!actual.startsWith(source)) {
                opened.close();
                throw new CopyException("refusing to read " + actual + ": " + source + "/" + path
                        + " resolved outside the source root");
            }
            return opened;
        }

        private void copyDirectoryAttributes(NativeFile original, NativeFile copy, FileStat stat, TreePath path)
                throws ErrnoException {
            copy.copyAttributesFrom(stat, root, carried(original.extendedAttributes()), skipRefused(path));
        }

        /**
         * The one place that decides what an extended attribute the target refuses costs. A namespace its
         * filesystem does not support (EOPNOTSUPP: no {@code user.*} on ramfs, no ACLs where they are switched
         * off) or one this process may not set (EPERM: {@code trusted.*} needs CAP_SYS_ADMIN,
         * {@code security.capability} CAP_SETFCAP) is reported and skipped, like a FIFO; anything else ends the copy.
         */
        private ExtendedAttribute.Refusal skipRefused(TreePath original) {
            return (attribute, refusal) -> {
                String reason = switch (refusal.errno()) {
                    case EOPNOTSUPP -> "the target filesystem does not support it";
                    case EPERM -> "this process may not set it";
                    default -> throw refusal;
                };
                skipped.add(original + " (extended attribute " + attribute.name() + ": " + reason + ", "
                        + refusal.errno() + ")");
            };
        }

        private static String typeName(FileStat stat) {
            return stat.type().name().toLowerCase().replace('_', ' ');
        }

        private void rethrowFailure() throws IOException, CopyException {
            switch (failure.get()) {
                case null -> {}
                case IOException e -> throw e;
                case CopyException e -> throw e;
                case RuntimeException e -> throw e;
                case Error e -> throw e;
                case Throwable t -> throw new IllegalStateException(t);
            }
        }

        /**
         * Renames the finished entries into place, then removes the staging directory: the completion step. NIO's
         * directory stream keeps each name's bytes in its paths, so the renames are byte-exact too.
         */
        private void publish() throws IOException {
            try (DirectoryStream<Path> entries = Files.newDirectoryStream(staging)) {
                for (Path entry : entries) Files.move(entry, target.resolve(entry.getFileName()));
            }
            ImageTransfer.syncDirectory(target);
            Files.delete(staging);
            try (NativeFile targetRoot = NativeFile.open(target, Mode.READ, Mode.DIRECTORY, Mode.NO_FOLLOW)) {
                copyDirectoryAttributes(sourceRoot, targetRoot, rootStat, TreePath.ROOT);
                targetRoot.sync();
            }
        }
    }
}
