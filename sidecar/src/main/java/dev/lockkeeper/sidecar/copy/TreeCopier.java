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
import java.lang.foreign.MemorySegment;
import java.nio.file.DirectoryStream;
import java.nio.file.FileStore;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
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
 * an extended attribute the target's filesystem does not support or this process may not set.
 *
 * <p>Completion: everything is built inside {@code TARGET/.lockkeeper-partial/}. Only after all data and
 * metadata are synced are the top-level entries renamed into {@code TARGET/} and the staging directory
 * removed, so a target that still has {@code .lockkeeper-partial} is unfinished, whatever else it holds.
 *
 * <p>Containment: the walk never follows links; each source file is opened with O_NOFOLLOW and checked, by the
 * path the kernel actually opened, to lie inside the source root; each target file is created with
 * O_CREAT|O_EXCL|O_NOFOLLOW inside a staging directory this copier created, so no pre-existing or copied
 * symlink can redirect a write.
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
            if (!Files.exists(targetRoot, LinkOption.NOFOLLOW_LINKS)) Files.createDirectory(targetRoot);
            Path target = targetRoot.toRealPath();
            if (target.startsWith(source)) throw new CopyException("target " + targetRoot + " is inside the source " + sourceRoot);
            if (source.startsWith(target)) throw new CopyException("source " + sourceRoot + " is inside the target " + targetRoot);
            requireEmpty(target);
            return new Run(source, target, sizeUp(source, target)).execute();
        } catch (IOException e) {
            throw Failures.explain(e);
        }
    }

    private static void requireEmpty(Path target) throws IOException, CopyException {
        List<String> present = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(target)) {
            for (Path entry : entries) {
                String name = entry.getFileName().toString();
                if (name.equals(STAGING)) removeTree(entry);
                else if (!name.equals(TreeWalk.LOST_AND_FOUND)) present.add(name);
            }
        }
        if (!present.isEmpty()) {
            Collections.sort(present);
            throw new CopyException("target directory " + target + " is not empty (it holds "
                    + present.stream().limit(5).collect(Collectors.joining(", ")) + (present.size() > 5 ? ", …" : "")
                    + "); a tree is only copied into an empty volume");
        }
    }

    private record TreeSize(long logicalBytes, long allocatedBytes) { }

    /**
     * Refuses a target that cannot hold the tree, before a byte is written, and starts the progress count.
     * Measuring means a stat of every entry before the copy starts (a cold pass over all metadata: about 0.3 s
     * for 20,000 files here), so it is skipped when a bound settles the question: on a filesystem whose files
     * cannot share blocks (no reflinks, deduplication or compression), a tree without mount points below its
     * root cannot hold more data than the filesystem has in use. The exact total that progress reports then is
     * counted in the background, only when someone listens, and only until the copy's own walk settles it.
     */
    private ProgressCounter sizeUp(Path source, Path target) throws IOException, CopyException {
        FileStore sourceStore = Files.getFileStore(source);
        if (!request.preallocate() && UNSHARED_BLOCK_FILESYSTEMS.contains(sourceStore.type())
                && usedOn(sourceStore) <= Files.getFileStore(target).getUsableSpace() && !MountTable.hasMountsBelow(source)) {
            ProgressCounter progress = new ProgressCounter(ProgressListener.UNKNOWN_TOTAL, request.progress());
            if (request.progress() != ProgressListener.NONE) {
                Thread.ofPlatform().daemon().name("lk-measure").start(() -> {
                    try {
                        progress.estimate(measure(source, () -> !progress.settled()).logicalBytes());
                    } catch (IOException | CopyException e) {
                        // the copy's own walk meets the same entry and reports it
                    }
                });
            }
            return progress;
        }
        TreeSize size = measure(source, () -> true);
        long needed = request.preallocate() ? size.logicalBytes() : size.allocatedBytes();
        long free = Files.getFileStore(target).getUsableSpace();
        if (needed > free) {
            throw new CopyException("target volume " + target + " has " + Sizes.describe(free)
                    + " free but the source tree needs " + Sizes.describe(needed));
        }
        return new ProgressCounter(size.logicalBytes(), request.progress());
    }

    private static long usedOn(FileStore store) throws IOException {
        return store.getTotalSpace() - store.getUnallocatedSpace();
    }

    /** A stat-only pass over the whole tree, for as long as {@code wanted} says. */
    private static TreeSize measure(Path source, BooleanSupplier wanted) throws IOException, CopyException {
        long[] logicalAndAllocated = new long[2];
        TreeWalk.walk(source, (path, stat) -> {
            if (stat.type() == FileType.REGULAR) {
                logicalAndAllocated[0] += stat.size();
                logicalAndAllocated[1] += Math.min(stat.size(), stat.allocatedBytes());
            }
            return wanted.getAsBoolean();
        });
        return new TreeSize(logicalAndAllocated[0], logicalAndAllocated[1]);
    }

    /** Owners can only be given away with CAP_CHOWN; /proc/self belongs to the effective user. */
    private static boolean runsAsRoot() {
        try {
            return Integer.valueOf(0).equals(Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
        } catch (IOException e) {
            return false;
        }
    }

    static void removeTree(Path top) throws IOException {
        Files.walkFileTree(top, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException failure) throws IOException {
                if (failure != null) throw failure;
                Files.delete(dir);
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
        private final Map<Identity, Path> firstLinkOf = new HashMap<>();
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
        /** The source root, open for the run: source files are opened beneath it. */
        private NativeFile sourceRoot;
        private volatile boolean openBeneathSupported = true;
        private final Semaphore queued = new Semaphore(MAX_QUEUED_FILES);
        private final ThreadLocal<FileDataCopier> copiers;
        private long files;

        private record Directory(Path source, Path target, FileStat stat) { }

        Run(Path source, Path target, ProgressCounter progress) {
            this.source = source;
            this.target = target;
            this.staging = target.resolve(STAGING);
            this.progress = progress;
            Arena buffers = Arena.ofAuto();
            this.copiers = ThreadLocal.withInitial(() -> new FileDataCopier(buffers.allocate(BUFFER_SIZE, 4096)));
        }

        CopyReport execute() throws IOException, CopyException {
            Files.createDirectory(staging);
            PartialResults.track(staging);
            boolean publishing = false;
            try (NativeFile sourceRootHandle = NativeFile.open(source, Mode.READ, Mode.DIRECTORY, Mode.NO_FOLLOW)) {
                sourceRoot = sourceRootHandle;
                try (ExecutorService pool = Executors.newFixedThreadPool(WORKERS, Thread.ofPlatform().name("lk-tree-", 0).factory())) {
                    walk(pool);
                }
                rethrowFailure();
                // the walk has seen every entry: its count is the exact total, whether or not one was measured
                progress.settle(logicalBytes);
                for (Directory dir : directories.reversed()) {
                    try (NativeFile original = openInsideSource(dir.source(), Mode.READ, Mode.DIRECTORY, Mode.NO_FOLLOW)) {
                        copyDirectoryAttributes(original, dir.target(), dir.stat());
                    }
                }
                try (NativeFile anchor = NativeFile.open(staging, Mode.READ, Mode.DIRECTORY)) {
                    anchor.syncFileSystem();
                }
                Optional<String> checksum = request.verify() ? Optional.of(TreeDigest.verify(source, staging)) : Optional.empty();
                if (!PartialResults.claim(staging)) throw new CopyException("stopped before the copy of " + source + " was finished");
                publishing = true;
                publish();
                return new CopyReport(CopyReport.Kind.TREE, target, ScanType.EXTENTS, logicalBytes, dataBytes.get(),
                        logicalBytes - dataBytes.get(), files, checksum, List.copyOf(skipped));
            } catch (IOException | CopyException | RuntimeException e) {
                // once publishing has begun, the staging directory is what marks the target unfinished: it stays
                if (!publishing && PartialResults.claim(staging)) removeTree(staging);
                throw e;
            } finally {
                progress.close();
            }
        }

        private void walk(ExecutorService pool) throws IOException, CopyException {
            TreeWalk.walk(source, (path, stat) -> {
                if (failure.get() != null) return false;
                if (path.equals(source)) {
                    rootStat = stat;
                } else if (stat.type() == FileType.DIRECTORY) {
                    Path copy = targetOf(path);
                    Files.createDirectory(copy);
                    directories.add(new Directory(path, copy, stat));
                } else {
                    copyEntry(path, stat, pool);
                }
                return true;
            });
        }

        private void copyEntry(Path file, FileStat stat, ExecutorService pool) throws IOException {
            Path copy = targetOf(file);
            switch (stat.type()) {
                case REGULAR -> {
                    logicalBytes += stat.size();
                    if (stat.linkCount() > 1) {
                        Path first = firstLinkOf.putIfAbsent(stat.identity(), copy);
                        if (first != null) {
                            Files.createLink(copy, first);
                            progress.advance(stat.size());
                            return;
                        }
                    }
                    files++;
                    NativeFile created = NativeFile.open(copy, Mode.WRITE, Mode.CREATE_NEW, Mode.NO_FOLLOW);
                    queued.acquireUninterruptibly();
                    pool.execute(() -> {
                        try {
                            copyFile(file, stat, created);
                        } catch (Throwable t) {
                            failure.compareAndSet(null, t);
                        } finally {
                            queued.release();
                        }
                    });
                }
                case SYMLINK -> {
                    Files.createSymbolicLink(copy, Files.readSymbolicLink(file));
                    NativeFile.copyLinkAttributes(copy, stat, root, carried(NativeFile.linkExtendedAttributes(file)), skipRefused(file));
                }
                case DIRECTORY -> throw new IllegalStateException("directories are visited, not copied as entries: " + file);
                default -> skipped.add(nameOf(file) + " (" + stat.type().name().toLowerCase().replace('_', ' ') + ")");
            }
        }

        private void copyFile(Path file, FileStat stat, NativeFile created) throws IOException, CopyException {
            try (created; NativeFile in = openInsideSource(file, Mode.READ, Mode.NO_FOLLOW)) {
                if (request.preallocate() && stat.size() > 0) created.allocate(0, stat.size());
                long copied = copiers.get().copy(in, created, stat.size(), stat.allocatedBytes() < stat.size());
                throttle.acquire(copied);
                if (copied < stat.size()) created.truncate(stat.size());
                if (in.stat().size() != stat.size()) {
                    throw new CopyException("source file " + file + " changed size during the copy");
                }
                created.copyAttributesFrom(stat, root, carried(in.extendedAttributes()), skipRefused(file));
                dataBytes.addAndGet(copied);
            }
            progress.advance(stat.size());
        }

        /**
         * The walk saw a regular file or directory; opens that one and not something a link swapped in since points
         * at. The kernel checks it (openat2 beneath the source root, no symlinks on the way); before Linux 5.6 the
         * path the descriptor really has is checked after opening.
         */
        private NativeFile openInsideSource(Path file, Mode... modes) throws IOException, CopyException {
            Path relative = source.relativize(file);
            if (openBeneathSupported) {
                try {
                    return NativeFile.openBeneath(sourceRoot, relative, modes);
                } catch (ErrnoException e) {
                    switch (e.errno()) {
                        // EPERM: a container's seccomp profile from before openat2 existed refuses it that way
                        case ENOSYS, EPERM -> openBeneathSupported = false;
                        case ELOOP, EXDEV -> throw new CopyException("refusing to read " + file
                                + ": a symlink in its path, swapped in during the copy, would lead out of the source root");
                        default -> throw e;
                    }
                }
            }
            NativeFile opened = NativeFile.open(file, modes);
            Path actual = opened.resolvedPath();
            if (!actual.startsWith(source)) {
                opened.close();
                throw new CopyException("refusing to read " + actual + ": " + file + " resolved outside the source root");
            }
            return opened;
        }

        private void copyDirectoryAttributes(NativeFile original, Path copy, FileStat stat) throws ErrnoException {
            try (NativeFile directory = NativeFile.open(copy, Mode.READ, Mode.DIRECTORY, Mode.NO_FOLLOW)) {
                directory.copyAttributesFrom(stat, root, carried(original.extendedAttributes()), skipRefused(original.path()));
            }
        }

        /**
         * The extended attributes a copy carries: all but the SELinux label. A label belongs to the volume it is on
         * (its mount's context, the pod's categories), not to the data; copied, it would mislabel the target, and an
         * enforcing node refuses a container that relabel anyway (EACCES), which would fail the whole copy.
         */
        private static List<ExtendedAttribute> carried(List<ExtendedAttribute> attributes) {
            if (attributes.isEmpty()) return attributes;
            return attributes.stream().filter(attribute -> !attribute.name().equals(SELINUX_LABEL)).toList();
        }

        /**
         * The one place that decides what an extended attribute the target refuses costs. A namespace its
         * filesystem does not support (EOPNOTSUPP: no {@code user.*} on ramfs, no ACLs where they are switched
         * off) or one this process may not set (EPERM: {@code trusted.*} needs CAP_SYS_ADMIN,
         * {@code security.capability} CAP_SETFCAP) is reported and skipped, like a FIFO; anything else ends the copy.
         */
        private ExtendedAttribute.Refusal skipRefused(Path original) {
            return (attribute, refusal) -> {
                String reason = switch (refusal.errno()) {
                    case EOPNOTSUPP -> "the target filesystem does not support it";
                    case EPERM -> "this process may not set it";
                    default -> throw refusal;
                };
                skipped.add(nameOf(original) + " (extended attribute " + attribute.name() + ": " + reason + ", "
                        + refusal.errno() + ")");
            };
        }

        /** How the report names a source entry: relative to the source root, which itself is ".". */
        private String nameOf(Path original) {
            return original.equals(source) ? "." : source.relativize(original).toString();
        }

        /** Directory entry names cannot hold '/' or be "..", but the guard costs nothing and keeps that promise local. */
        private Path targetOf(Path sourcePath) throws IOException {
            Path relative = source.relativize(sourcePath);
            Path resolved = staging.resolve(relative).normalize();
            if (!resolved.startsWith(staging)) throw new IOException("refusing to write outside the target: " + relative);
            return resolved;
        }

        private void rethrowFailure() throws IOException, CopyException {
            switch (failure.get()) {
                case null -> { }
                case IOException e -> throw e;
                case CopyException e -> throw e;
                case RuntimeException e -> throw e;
                case Error e -> throw e;
                case Throwable t -> throw new IllegalStateException(t);
            }
        }

        /** Renames the finished entries into place, then removes the staging directory: the completion step. */
        private void publish() throws IOException {
            try (DirectoryStream<Path> entries = Files.newDirectoryStream(staging)) {
                for (Path entry : entries) Files.move(entry, target.resolve(entry.getFileName()));
            }
            ImageTransfer.syncDirectory(target);
            Files.delete(staging);
            copyDirectoryAttributes(sourceRoot, target, rootStat);
            ImageTransfer.syncDirectory(target);
        }
    }
}
