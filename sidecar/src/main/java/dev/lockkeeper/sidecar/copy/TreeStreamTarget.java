package dev.lockkeeper.sidecar.copy;

import dev.lockkeeper.sidecar.linux.Errno;
import dev.lockkeeper.sidecar.linux.ErrnoException;
import dev.lockkeeper.sidecar.linux.ExtendedAttribute;
import dev.lockkeeper.sidecar.linux.FileStat;
import dev.lockkeeper.sidecar.linux.FileStat.FileType;
import dev.lockkeeper.sidecar.linux.NativeFile;
import dev.lockkeeper.sidecar.linux.NativeFile.Mode;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.lang.foreign.MemorySegment;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The local tree copy's target rules for a tree that arrives as a stream of {@link TreeEntry} records, possibly
 * over several attempts. Everything is built in {@code TARGET/.lockkeeper-partial/} (a target that was absent is
 * created with it inside, a present one must be empty), which unlike a local copy survives a stopped attempt when
 * there is a checkpoint to resume; only {@link #publish} renames the entries into place and removes it.
 *
 * <p>The stream comes from another node and is not trusted: ordinals must increase; every name was checked by
 * {@link TreePath#ofNames} (no "..", no '/', no NUL, nothing empty); an entry is only made in a directory this stream
 * made (or an earlier attempt made, re-announced as {@link TreeEntry#resent}), so no symlink the stream made can
 * redirect a later write; files are created with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS) below the staging
 * directory, O_EXCL; a hard link names a regular file already in the tree; data must arrive in order inside the
 * announced size. Anything else is refused before a byte is written.
 *
 * <p>Resume: {@link #makeDurable} syncs the target's filesystem (syncfs); what was then complete is the checkpoint:
 * the ordinal of the last finished entry and, if a file was being written, how far. A resumed attempt replaces
 * what an earlier one left after its checkpoint (a file, link or symlink made again; a directory kept) and
 * continues the file at the checkpoint after punching out whatever lies beyond it.
 */
public final class TreeStreamTarget implements AutoCloseable {
    private static final Logger LOG = System.getLogger(TreeStreamTarget.class.getName());
    private static final long WRITE_BEHIND_WINDOW = FileDataCopier.WRITE_BEHIND_WINDOW;

    private final Path target;
    private final Path staging;
    private final NativeFile stagingRoot;
    private final long resumedEntries;
    private final long resumedOffset;
    private final boolean resuming;
    private final boolean preallocate;
    private final boolean root = TreeCopier.runsAsRoot();
    private final Set<TreePath> directories = new HashSet<>();
    private final List<Made> madeDirectories = new ArrayList<>();
    private final List<String> skipped = new ArrayList<>();
    private Made rootEntry;
    private long lastOrdinal = -1;
    private long finished = -1;
    private Open file;
    private long logicalBytes;
    private long dataBytes;

    private record Made(TreePath path, FileStat stat, List<ExtendedAttribute> attributes) {}

    /** The file being written: entry {@code ordinal}, bytes [dataFrom, watermark) arrived. */
    private static final class Open {
        final long ordinal;
        final TreeEntry entry;
        final List<ExtendedAttribute> attributes;
        final NativeFile handle;
        long watermark;

        Open(long ordinal, TreeEntry entry, List<ExtendedAttribute> attributes, NativeFile handle) {
            this.ordinal = ordinal;
            this.entry = entry;
            this.attributes = attributes;
            this.handle = handle;
            this.watermark = entry.dataFrom();
        }
    }

    /** Where an earlier attempt's durable part ends: entries up to {@code entries} done, the next file up to {@code offset}. */
    public record Resume(long entries, long offset) {}

    private TreeStreamTarget(Path target, Path staging, NativeFile stagingRoot, Resume resume, boolean preallocate) {
        this.target = target;
        this.staging = staging;
        this.stagingRoot = stagingRoot;
        this.resumedEntries = resume == null ? 0 : resume.entries();
        this.resumedOffset = resume == null ? 0 : resume.offset();
        this.resuming = resume != null;
        this.preallocate = preallocate;
        directories.add(TreePath.ROOT);
    }

    /**
     * @param volume  the target filesystem volume's root (absent: created with its staging directory inside)
     * @param resume  an earlier attempt's checkpoint, or empty to start afresh (a stale staging directory is emptied)
     * @param needed  bytes the tree takes (its allocated bytes, or its size when preallocating)
     */
    public static TreeStreamTarget open(Path volume, Optional<Resume> resume, long needed, boolean preallocate)
            throws CopyException {
        try {
            boolean absent = !Files.exists(volume, LinkOption.NOFOLLOW_LINKS);
            Path target = absent
                    ? volume.toAbsolutePath().getParent().toRealPath().resolve(volume.getFileName())
                    : volume.toRealPath();
            Path staging = target.resolve(TreeCopier.STAGING);
            // a checkpoint at the root alone holds nothing worth keeping: a fresh start is as good, and simpler
            boolean resuming = resume.isPresent()
                    && (resume.get().entries() > 0 || resume.get().offset() > 0)
                    && !absent
                    && Files.isDirectory(staging, LinkOption.NOFOLLOW_LINKS);
            if (absent) {
                TreeCopier.createMarked(target);
            } else {
                if (!Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
                    throw new CopyException(
                            "target " + volume + " is not a directory; a tree is copied into a filesystem volume");
                }
                TreeCopier.requireEmpty(target, resuming);
                if (!Files.exists(staging, LinkOption.NOFOLLOW_LINKS)) Files.createDirectory(staging);
            }
            long free = Files.getFileStore(target).getUsableSpace();
            if (!resuming && needed > free) {
                throw new CopyException("target volume " + volume + " has " + Sizes.describe(free)
                        + " free but the source tree needs " + Sizes.describe(needed));
            }
            NativeFile handle = NativeFile.open(staging, Mode.READ, Mode.DIRECTORY, Mode.NO_FOLLOW);
            return new TreeStreamTarget(target, staging, handle, resuming ? resume.get() : null, preallocate);
        } catch (IOException e) {
            throw Failures.explain(e);
        }
    }

    /** The ordinal an attempt resumes after (0: only the root, which is always sent). */
    public long resumedEntries() {
        return resumedEntries;
    }

    /** Whether this attempt continues an earlier one's staging directory. */
    public boolean resuming() {
        return resuming;
    }

    public long resumedOffset() {
        return resumedOffset;
    }

    /** Data bytes written in this attempt. */
    public long dataBytes() {
        return dataBytes;
    }

    /** Logical bytes of the files finished in this attempt. */
    public long logicalBytes() {
        return logicalBytes;
    }

    public List<String> skipped() {
        return List.copyOf(skipped);
    }

    /** Bytes [dataFrom, watermark) of the file being written, 0 between entries. */
    public long watermark() {
        return file == null ? 0 : file.watermark;
    }

    /** One entry, checked before anything is made for it; a file then takes {@link #data}/{@link #zero} until {@link #end}. */
    public void entry(long ordinal, TreeEntry entry, List<ExtendedAttribute> attributes)
            throws IOException, CopyException {
        if (file != null)
            throw refused(ordinal, "entry " + entry.path() + " arrived before the end of " + file.entry.path());
        if (ordinal <= lastOrdinal)
            throw refused(ordinal, "entry " + entry.path() + " does not follow ordinal " + lastOrdinal);
        lastOrdinal = ordinal;
        TreePath path = entry.path();
        if (path.isRoot()) {
            if (ordinal != 0 || entry.kind() != TreeEntry.Kind.DIRECTORY)
                throw refused(ordinal, "the root must be entry 0, a directory");
            rootEntry = new Made(path, stat(entry, FileType.DIRECTORY), attributes);
            return;
        }
        if (ordinal == 0) throw refused(ordinal, "entry 0 must be the root");
        if (!directories.contains(path.parent())) {
            throw refused(ordinal, "entry " + path + " is not inside a directory this copy made");
        }
        if (entry.resent()) {
            if (!entry.directory() || ordinal > resumedEntries) {
                throw refused(
                        ordinal,
                        "entry " + path + " is announced as made by an earlier attempt, which ended at ordinal "
                                + resumedEntries);
            }
            FileStat existing = statOrNull(path);
            if (existing == null || existing.type() != FileType.DIRECTORY) {
                throw refused(
                        ordinal, "directory " + path + " is not in the target although an earlier attempt made it");
            }
            remember(path, entry, List.of());
            return;
        }
        if (ordinal <= resumedEntries)
            throw refused(ordinal, "entry " + path + " was made durable by an earlier attempt already");
        if (entry.dataFrom() != 0
                && (entry.kind() != TreeEntry.Kind.FILE
                        || ordinal != resumedEntries + 1
                        || entry.dataFrom() != resumedOffset)) {
            throw refused(
                    ordinal,
                    "entry " + path + " continues at " + entry.dataFrom() + ", but the checkpoint is ordinal "
                            + resumedEntries + ", offset " + resumedOffset);
        }
        byte[] relative = path.bytes();
        switch (entry.kind()) {
            case DIRECTORY, MOUNT_POINT -> {
                try {
                    stagingRoot.createDirectoryAt(relative);
                } catch (ErrnoException e) {
                    FileStat existing = statOrNull(path);
                    // left by an attempt stopped after its checkpoint: its entries follow again
                    if (e.errno() != Errno.EEXIST
                            || !resuming
                            || existing == null
                            || existing.type() != FileType.DIRECTORY) throw e;
                }
                if (entry.kind() == TreeEntry.Kind.MOUNT_POINT) {
                    skipped.add(
                            path + " (mount point: another filesystem is mounted there; copied as an empty directory)");
                }
                try (NativeFile directory =
                        NativeFile.openBeneath(stagingRoot, relative, Mode.READ, Mode.DIRECTORY, Mode.NO_FOLLOW)) {
                    setAttributes(directory, path, attributes);
                }
                remember(path, entry, List.of());
            }
            case FILE -> {
                NativeFile created = entry.dataFrom() > 0 ? continued(path, entry) : create(path, entry);
                file = new Open(ordinal, entry, attributes, created);
            }
            case SYMLINK -> {
                byte[] content = entry.linkTarget();
                if (content == null || content.length == 0 || content.length >= 4096)
                    throw refused(ordinal, "symlink " + path + " without a valid target");
                for (byte b : content)
                    if (b == 0) throw refused(ordinal, "symlink " + path + " whose target holds a NUL byte");
                replaceStale(path);
                stagingRoot.createSymlinkAt(content, relative);
                stagingRoot.copyLinkAttributesAt(
                        relative, stat(entry, FileType.SYMLINK), root, attributes, skipRefused(path));
            }
            case HARD_LINK -> {
                TreePath first = entry.firstName();
                if (first == null || first.isRoot() || !directories.contains(first.parent())) {
                    throw refused(ordinal, "hard link " + path + " names no file this copy made");
                }
                FileStat existing = statOrNull(first);
                if (existing == null || existing.type() != FileType.REGULAR) {
                    throw refused(
                            ordinal, "hard link " + path + " names " + first + ", which is not a file this copy made");
                }
                replaceStale(path);
                stagingRoot.createHardLinkAt(first.bytes(), relative);
            }
        }
    }

    private void remember(TreePath path, TreeEntry entry, List<ExtendedAttribute> attributes) {
        directories.add(path);
        madeDirectories.add(new Made(path, stat(entry, FileType.DIRECTORY), attributes));
    }

    private NativeFile create(TreePath path, TreeEntry entry) throws IOException, CopyException {
        replaceStale(path);
        NativeFile created =
                NativeFile.openBeneath(stagingRoot, path.bytes(), Mode.WRITE, Mode.CREATE_NEW, Mode.NO_FOLLOW);
        try {
            created.truncate(entry.size());
            if (preallocate && entry.size() > 0) created.allocate(0, entry.size());
            return created;
        } catch (IOException | RuntimeException e) {
            created.close();
            throw e;
        }
    }

    /** The file an earlier attempt was writing when it took its checkpoint: what lies after the checkpoint goes. */
    private NativeFile continued(TreePath path, TreeEntry entry) throws IOException, CopyException {
        FileStat existing = statOrNull(path);
        if (existing == null || existing.type() != FileType.REGULAR || existing.size() != entry.size()) {
            throw new CopyException("the checkpoint says " + path
                    + " was being written, but the target does not hold it as it was left");
        }
        NativeFile opened = NativeFile.openBeneath(stagingRoot, path.bytes(), Mode.WRITE, Mode.NO_FOLLOW);
        try {
            long from = entry.dataFrom();
            if (from < entry.size()) {
                opened.punchHole(from, entry.size() - from);
                if (preallocate) opened.allocate(from, entry.size() - from);
            }
            return opened;
        } catch (IOException | RuntimeException e) {
            opened.close();
            throw e;
        }
    }

    /** Only what an attempt after the checkpoint may have left is replaced; a fresh copy finds nothing there. */
    private void replaceStale(TreePath path) throws ErrnoException, CopyException {
        FileStat existing = statOrNull(path);
        if (existing == null) return;
        if (!resuming || existing.type() == FileType.DIRECTORY) {
            throw new CopyException("the tree stream names " + path + " twice");
        }
        stagingRoot.removeAt(path.bytes());
    }

    /** Data of the file being written, in order, inside its size; {@code bytes} index 0 is the byte at {@code offset}. */
    public void data(MemorySegment bytes, long offset, long length) throws CopyException {
        Open open = place(offset, length, "data");
        try {
            open.handle.writeFully(bytes, length, offset);
            writeBehind(open.handle, offset, length);
        } catch (ErrnoException e) {
            throw Failures.explain(e);
        }
        open.watermark += length;
        dataBytes += length;
    }

    /** A hole of the file being written: already one (a new file, or the part punched out of a resumed one). */
    public void zero(long offset, long length) throws CopyException {
        place(offset, length, "hole").watermark += length;
    }

    private Open place(long offset, long length, String what) throws CopyException {
        if (file == null) throw new CopyException("the tree stream sent " + what + " outside a file");
        if (offset != file.watermark || length <= 0 || length > file.entry.size() - offset) {
            throw new CopyException(
                    "the tree stream sent " + what + " [" + offset + ", +" + length + ") for " + file.entry.path()
                            + " where " + file.watermark + " of its " + file.entry.size() + " bytes was due");
        }
        return file;
    }

    private static void writeBehind(NativeFile handle, long offset, long length) throws ErrnoException {
        long windowEnd = offset + length;
        if (windowEnd < WRITE_BEHIND_WINDOW) return;
        handle.startWriteback(offset, length);
        long previous = windowEnd - 2 * WRITE_BEHIND_WINDOW;
        if (previous > 0) {
            handle.awaitWriteback(0, previous);
            handle.dropCache(0, previous);
        }
    }

    /** The end of entry {@code ordinal}: a file must be complete; its attributes are set now. */
    public void end(long ordinal, long size) throws IOException, CopyException {
        if (ordinal != lastOrdinal)
            throw refused(ordinal, "end of an entry that is not the last one (" + lastOrdinal + ")");
        if (file != null) {
            Open open = file;
            if (size != open.entry.size() || open.watermark != size) {
                throw refused(
                        ordinal,
                        open.entry.path() + " ends at " + open.watermark + " of " + open.entry.size() + " bytes");
            }
            file = null;
            try (NativeFile handle = open.handle) {
                handle.copyAttributesFrom(
                        stat(open.entry, FileType.REGULAR), root, open.attributes, skipRefused(open.entry.path()));
            }
            logicalBytes += size;
        } else if (size != 0) {
            throw refused(ordinal, "an entry that is not a file ends at " + size);
        }
        finished = ordinal;
    }

    /** Everything written is on stable storage (syncfs); returns the checkpoint that now holds. */
    public Resume makeDurable() throws CopyException {
        try {
            stagingRoot.syncFileSystem();
        } catch (ErrnoException e) {
            throw Failures.explain(e);
        }
        long entries = Math.max(finished, resumedEntries);
        return new Resume(entries, file != null && file.ordinal == entries + 1 ? file.watermark : 0);
    }

    /** The stream is complete: directories take their mode, owner and mtime (deepest first), all synced. */
    public void finish(long lastOrdinalOfWalk) throws IOException, CopyException {
        if (file != null) throw refused(lastOrdinalOfWalk, "the tree ended inside " + file.entry.path());
        if (rootEntry == null) throw refused(lastOrdinalOfWalk, "the tree ended without its root");
        if (lastOrdinalOfWalk < lastOrdinal)
            throw refused(lastOrdinalOfWalk, "the tree ended before its last entry " + lastOrdinal);
        for (Made directory : madeDirectories.reversed()) {
            try (NativeFile handle = NativeFile.openBeneath(
                    stagingRoot, directory.path().bytes(), Mode.READ, Mode.DIRECTORY, Mode.NO_FOLLOW)) {
                handle.copyAttributesFrom(directory.stat(), root, List.of(), skipRefused(directory.path()));
            }
        }
        stagingRoot.syncFileSystem();
    }

    /** The engine's tree digest of what the staging directory holds, read back from the disk. */
    public TreeDigest.Summary digest() throws CopyException {
        try {
            return TreeDigest.summarize(staging);
        } catch (IOException e) {
            throw Failures.explain(e);
        }
    }

    /** The completion step, as locally: entries renamed into place, the staging directory removed, the root's attributes. */
    public void publish() throws CopyException {
        try {
            try (DirectoryStream<Path> entries = Files.newDirectoryStream(staging)) {
                for (Path entry : entries) Files.move(entry, target.resolve(entry.getFileName()));
            }
            ImageTransfer.syncDirectory(target);
            Files.delete(staging);
            try (NativeFile targetRoot = NativeFile.open(target, Mode.READ, Mode.DIRECTORY, Mode.NO_FOLLOW)) {
                setAttributes(targetRoot, TreePath.ROOT, rootEntry.attributes());
                targetRoot.copyAttributesFrom(rootEntry.stat(), root, List.of(), skipRefused(TreePath.ROOT));
                targetRoot.sync();
            }
        } catch (IOException e) {
            throw Failures.explain(e);
        }
        if (!skipped.isEmpty())
            LOG.log(Level.INFO, "tree copy into " + target + " left out: " + String.join("; ", skipped));
    }

    /** Gives up: the staging directory is emptied but kept, so the target still reads as unfinished. */
    public void discard() {
        try {
            Open open = file;
            file = null;
            if (open != null) open.handle.close();
            TreeCopier.removeContents(staging);
        } catch (IOException e) {
            // the next fresh attempt empties it before it starts
        }
    }

    private void setAttributes(NativeFile handle, TreePath path, List<ExtendedAttribute> attributes)
            throws ErrnoException {
        if (attributes.isEmpty()) return;
        // extended attributes only: mode, owner and time come last, once nothing is created inside any more
        FileStat current = handle.stat();
        handle.copyAttributesFrom(current, false, attributes, skipRefused(path));
    }

    private FileStat statOrNull(TreePath path) throws ErrnoException {
        try {
            return stagingRoot.statAt(path.bytes());
        } catch (ErrnoException e) {
            if (e.errno() == Errno.ENOENT) return null;
            throw e;
        }
    }

    private static FileStat stat(TreeEntry entry, FileType type) {
        return new FileStat(
                type,
                entry.permissions() & 07777,
                entry.uid(),
                entry.gid(),
                entry.size(),
                0,
                0,
                0,
                1,
                entry.modified(),
                entry.modified(),
                FileStat.UNKNOWN_MOUNT);
    }

    /** As the local tree copy: an attribute the target's filesystem or this process cannot set is reported and skipped. */
    private ExtendedAttribute.Refusal skipRefused(TreePath original) {
        return (attribute, refusal) -> {
            String reason = switch (refusal.errno()) {
                case EOPNOTSUPP -> "the target filesystem does not support it";
                case EPERM -> "this process may not set it";
                default -> throw refusal;
            };
            skipped.add(original + " (extended attribute " + attribute.name() + ": " + reason + ", " + refusal.errno()
                    + ")");
        };
    }

    private static CopyException refused(long ordinal, String why) {
        return new CopyException("refusing the tree stream at entry " + ordinal + ": " + why);
    }

    @Override
    public void close() throws CopyException {
        try {
            Open open = file;
            file = null;
            if (open != null) open.handle.close();
            stagingRoot.close();
        } catch (ErrnoException e) {
            throw Failures.explain(e);
        }
    }
}
