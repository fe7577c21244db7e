package dev.lockkeeper.sidecar.linux;

import static dev.lockkeeper.sidecar.linux.Syscalls.*;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import static java.nio.charset.StandardCharsets.ISO_8859_1;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * An open file descriptor with the Linux calls a sparse, durable copy needs. The JDK's channels hide the
 * descriptor, and SEEK_DATA, fallocate, copy_file_range, the block ioctls and write-behind hints all need it.
 * Positional calls only, so one instance can be used by several threads at once.
 */
public final class NativeFile implements AutoCloseable {
    /** {@code EXCLUSIVE} without {@code CREATE_NEW} on a block device: fail with EBUSY if it is mounted or held. */
    public enum Mode {
        READ,
        WRITE,
        READ_WRITE,
        CREATE_NEW,
        EXCLUSIVE,
        DIRECT,
        NO_FOLLOW,
        DIRECTORY,
        PATH
    }

    /** O_PATH: a handle that names a file without opening it for I/O (a FIFO does not block, a device is not touched). */
    private static final int O_PATH = 010000000;

    /** O_DIRECT needs buffers, offsets and lengths aligned to the logical block size; 4 KiB covers every disk we meet. */
    public static final int DIRECT_IO_ALIGNMENT = 4096;

    private final int fd;
    private final Path path;
    /** How messages name this file: its path, with a name that is not valid UTF-8 shown escaped ({@link FileNames}). */
    private final String shownAs;

    private NativeFile(int fd, Path path) {
        this(fd, path, path.toString());
    }

    private NativeFile(int fd, Path path, String shownAs) {
        this.fd = fd;
        this.path = path;
        this.shownAs = shownAs;
    }

    public static NativeFile open(Path path, Mode... modes) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            long fd = call(
                    SYS_OPENAT, AT_FDCWD, arena.allocateFrom(path.toString()).address(), flagsOf(modes), 0600);
            if (fd < 0) throw failure("open", path);
            return new NativeFile((int) fd, path);
        }
    }

    /**
     * Opens {@code relative} inside the open directory {@code root} with openat2(RESOLVE_BENEATH |
     * RESOLVE_NO_SYMLINKS) (Linux 5.6+): the kernel itself refuses any path that would leave {@code root} (EXDEV)
     * or pass through a symlink on the way (ELOOP), with no window for a link swapped in mid-walk. ENOSYS on
     * older kernels.
     */
    public static NativeFile openBeneath(NativeFile root, Path relative, Mode... modes) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment how = arena.allocate(JAVA_LONG, 3); // struct open_how { flags, mode, resolve }
            how.setAtIndex(JAVA_LONG, 0, flagsOf(modes));
            how.setAtIndex(JAVA_LONG, 1, 0);
            how.setAtIndex(JAVA_LONG, 2, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
            long fd = call(
                    SYS_OPENAT2,
                    root.fd,
                    arena.allocateFrom(relative.toString()).address(),
                    how.address(),
                    how.byteSize());
            Path path = root.path.resolve(relative);
            if (fd < 0) throw failure("openat2", path);
            return new NativeFile((int) fd, path);
        }
    }

    /** {@link #openBeneath(NativeFile, Path, Mode...)} with the relative path as the bytes the kernel gave for it. */
    public static NativeFile openBeneath(NativeFile root, byte[] relative, Mode... modes) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment how = arena.allocate(JAVA_LONG, 3); // struct open_how { flags, mode, resolve }
            how.setAtIndex(JAVA_LONG, 0, flagsOf(modes));
            how.setAtIndex(JAVA_LONG, 1, 0);
            how.setAtIndex(JAVA_LONG, 2, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
            long fd = call(SYS_OPENAT2, root.fd, nameOf(arena, relative).address(), how.address(), how.byteSize());
            if (fd < 0) throw new ErrnoException("openat2", root.inside(relative), lastErrno());
            return root.child((int) fd, relative);
        }
    }

    /**
     * Opens (or with {@code CREATE_NEW} creates, mode 0600) {@code relative} below this directory with openat(2).
     * Pass {@code NO_FOLLOW} unless a symlink in the last component may be followed.
     */
    public NativeFile openAt(byte[] relative, Mode... modes) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            long opened = call(SYS_OPENAT, fd, nameOf(arena, relative).address(), flagsOf(modes), 0600);
            if (opened < 0) throw new ErrnoException("openat", inside(relative), lastErrno());
            return child((int) opened, relative);
        }
    }

    private NativeFile child(int childFd, byte[] relative) {
        return new NativeFile(childFd, path.resolve(FileNames.ascii(relative)), inside(relative));
    }

    /** How messages name an entry below this directory. */
    private String inside(byte[] relative) {
        return shownAs + "/" + FileNames.show(relative);
    }

    /** A NUL-terminated copy of a name or relative path, for the kernel. */
    private static MemorySegment nameOf(Arena arena, byte[] name) {
        MemorySegment text = arena.allocate(name.length + 1L);
        MemorySegment.copy(name, 0, text, JAVA_BYTE, 0, name.length);
        text.set(JAVA_BYTE, name.length, (byte) 0);
        return text;
    }

    /** lstat of {@code relative} below this directory: a symlink is reported as itself. */
    public FileStat statAt(byte[] relative) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            return statx(arena, fd, nameOf(arena, relative), AT_SYMLINK_NOFOLLOW, inside(relative));
        }
    }

    /** mkdirat: a new directory, mode 0700 until the copy gives it its own. */
    public void createDirectoryAt(byte[] relative) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            if (call(SYS_MKDIRAT, fd, nameOf(arena, relative).address(), 0700) != 0) {
                throw new ErrnoException("mkdirat", inside(relative), lastErrno());
            }
        }
    }

    /** unlinkat of a file, symlink or other non-directory {@code relative} below this directory (never followed). */
    public void removeAt(byte[] relative) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            if (call(SYS_UNLINKAT, fd, nameOf(arena, relative).address(), 0) != 0) {
                throw new ErrnoException("unlinkat", inside(relative), lastErrno());
            }
        }
    }

    /** symlinkat: a new symlink {@code relative} below this directory whose content is {@code linkTarget}, verbatim. */
    public void createSymlinkAt(byte[] linkTarget, byte[] relative) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            if (call(
                            SYS_SYMLINKAT,
                            nameOf(arena, linkTarget).address(),
                            fd,
                            nameOf(arena, relative).address())
                    != 0) {
                throw new ErrnoException("symlinkat", inside(relative), lastErrno());
            }
        }
    }

    /** linkat without following: {@code relative} becomes another name of {@code existing}, both below this directory. */
    public void createHardLinkAt(byte[] existing, byte[] relative) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            if (call(
                            SYS_LINKAT,
                            fd,
                            nameOf(arena, existing).address(),
                            fd,
                            nameOf(arena, relative).address(),
                            0,
                            0)
                    != 0) {
                throw new ErrnoException("linkat", inside(relative), lastErrno());
            }
        }
    }

    /** readlinkat: the bytes a symlink below this directory holds (Linux caps them at PATH_MAX - 1). */
    public byte[] readLinkAt(byte[] relative) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment name = nameOf(arena, relative);
            for (long size = 4096; ; size *= 2) {
                MemorySegment buffer = arena.allocate(size);
                long length = call(SYS_READLINKAT, fd, name.address(), buffer.address(), size);
                if (length < 0) throw new ErrnoException("readlinkat", inside(relative), lastErrno());
                if (length < size) return buffer.asSlice(0, length).toArray(JAVA_BYTE);
            }
        }
    }

    /**
     * Directory entries, read with getdents64 in batches (no more than one batch held at once, however large the
     * directory); "." and ".." are left out. Names are the kernel's bytes.
     */
    public DirectoryEntries entries() {
        return new DirectoryEntries();
    }

    /** One pass over this directory's entries; not thread-safe. */
    public final class DirectoryEntries implements AutoCloseable {
        private static final int BATCH = 32 << 10;
        private final Arena arena = Arena.ofConfined();
        private final MemorySegment buffer = arena.allocate(BATCH, 8);
        private long filled;
        private long at;

        private DirectoryEntries() {}

        /** The next name, or null at the end. */
        public byte[] next() throws ErrnoException {
            while (true) {
                if (at >= filled) {
                    filled = call(SYS_GETDENTS64, fd, buffer.address(), BATCH);
                    at = 0;
                    if (filled < 0) throw failure("getdents64", shownAs);
                    if (filled == 0) return null;
                }
                // struct linux_dirent64 { u64 d_ino; s64 d_off; u16 d_reclen; u8 d_type; char d_name[]; }
                int recordLength = Short.toUnsignedInt(buffer.get(JAVA_SHORT, at + 16));
                MemorySegment name = buffer.asSlice(at + 19, recordLength - 19);
                at += recordLength;
                long length = name.byteSize();
                for (long i = 0; i < length; i++) {
                    if (name.get(JAVA_BYTE, i) == 0) {
                        length = i;
                        break;
                    }
                }
                byte[] bytes = name.asSlice(0, length).toArray(JAVA_BYTE);
                if (isDotOrDotDot(bytes)) continue;
                return bytes;
            }
        }

        private static boolean isDotOrDotDot(byte[] name) {
            return name.length == 1 && name[0] == '.' || name.length == 2 && name[0] == '.' && name[1] == '.';
        }

        @Override
        public void close() {
            arena.close();
        }
    }

    private static int flagsOf(Mode... modes) {
        Set<Mode> set = modes.length == 0 ? EnumSet.of(Mode.READ) : EnumSet.of(modes[0], modes);
        int flags = O_CLOEXEC;
        if (set.contains(Mode.READ_WRITE) || set.contains(Mode.READ) && set.contains(Mode.WRITE)) flags |= O_RDWR;
        else if (set.contains(Mode.WRITE)) flags |= O_WRONLY;
        else flags |= O_RDONLY;
        if (set.contains(Mode.CREATE_NEW)) flags |= O_CREAT | O_EXCL;
        if (set.contains(Mode.EXCLUSIVE)) flags |= O_EXCL;
        if (set.contains(Mode.DIRECT)) flags |= O_DIRECT;
        if (set.contains(Mode.NO_FOLLOW)) flags |= O_NOFOLLOW;
        if (set.contains(Mode.DIRECTORY)) flags |= O_DIRECTORY;
        if (set.contains(Mode.PATH)) flags = flags & ~(O_RDWR | O_WRONLY) | O_PATH;
        return flags;
    }

    private static final long HUGE_PAGE = 2 << 20;

    /**
     * Allocates a buffer usable for O_DIRECT transfers: pages of its own ({@code mmap}, page-aligned, zeroed), handed
     * back to the kernel ({@code munmap}) when {@code arena} closes. From malloc (what {@link Arena#allocate} uses), a
     * freed 4 MiB buffer raises glibc's mmap threshold, so the next ones come from malloc's heap and stay in the
     * process when freed: a long-running agent kept its copies' buffers (RSS after one image copy, idle: 92 MiB
     * against 81 MiB with the threshold pinned by MALLOC_MMAP_THRESHOLD_, 2026-12-03).
     *
     * <p>A buffer of at least {@value #HUGE_PAGE} bytes asks for transparent huge pages ({@code madvise(MADV_HUGEPAGE)};
     * nodes commonly run THP in "madvise" mode, so nothing is huge unless asked): every O_DIRECT read and write pins
     * the buffer's pages, one by one on 4 KiB pages, once per 2 MiB folio on huge pages. A block device read whole into
     * 4 MiB buffers, 4 GiB through the agent: 0.08-0.09 CPU-s in the kernel against 0.54-0.59 s, 0.52-0.75 CPU-s in all
     * against 1.19-1.41 (3 rounds each, 2026-12-03). The kernel aligns a mapping of a multiple of 2 MiB to 2 MiB, so a
     * 4 MiB buffer is two huge pages; where THP is off, or no huge page is free, the pages are ordinary ones, as before,
     * which is why the answer is not checked.
     */
    public static MemorySegment directBuffer(Arena arena, long size) {
        if (size <= 0) throw new IllegalArgumentException("a buffer of " + size + " bytes");
        long address = call(SYS_MMAP, 0, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (address == -1) {
            throw new OutOfMemoryError(
                    "mmap of a " + size + "-byte I/O buffer failed: " + Syscalls.describe(lastErrno()));
        }
        if (size >= HUGE_PAGE) call(SYS_MADVISE, address, size, MADV_HUGEPAGE);
        return MemorySegment.ofAddress(address)
                .reinterpret(size, arena, unmapped -> call(SYS_MUNMAP, unmapped.address(), size));
    }

    /** A second descriptor for the same open file (not the same path: it may have been renamed or replaced since). */
    public NativeFile reopen(Mode... modes) throws ErrnoException {
        NativeFile twin = open(Path.of("/proc/self/fd/" + fd), modes);
        return new NativeFile(twin.fd, path, shownAs);
    }

    /**
     * The path this file was opened by. For one opened by name below a directory ({@link #openAt}), the directory's
     * path with the name in {@link FileNames#ascii} form: for showing, not for opening again.
     */
    public Path path() {
        return path;
    }

    @Override
    public String toString() {
        return shownAs;
    }

    /** Reads up to {@code length} bytes at {@code offset}; fewer only at end of file. */
    public long read(MemorySegment buffer, long length, long offset) throws ErrnoException {
        long done = 0;
        while (done < length) {
            long n = call(SYS_PREAD64, fd, buffer.address() + done, length - done, offset + done);
            if (n == 0) break;
            if (n < 0) {
                if (Errno.of(lastErrno()) == Errno.EINTR) continue;
                throw failure("read", shownAs);
            }
            done += n;
        }
        return done;
    }

    public void writeFully(MemorySegment buffer, long length, long offset) throws ErrnoException {
        long done = 0;
        while (done < length) {
            long n = call(SYS_PWRITE64, fd, buffer.address() + done, length - done, offset + done);
            if (n < 0) {
                if (Errno.of(lastErrno()) == Errno.EINTR) continue;
                throw failure("write", shownAs);
            }
            done += n;
        }
    }

    /** Start of the next data region at or after {@code from}, or -1 when only a hole follows (ENXIO). */
    public long nextData(long from) throws ErrnoException {
        return seek(from, SEEK_DATA, "lseek(SEEK_DATA)");
    }

    /** Start of the next hole at or after {@code from}; end of file counts as a hole. */
    public long nextHole(long from) throws ErrnoException {
        return seek(from, SEEK_HOLE, "lseek(SEEK_HOLE)");
    }

    private long seek(long from, int whence, String call) throws ErrnoException {
        long result = call(SYS_LSEEK, fd, from, whence);
        if (result >= 0) return result;
        if (Errno.of(lastErrno()) == Errno.ENXIO) return -1;
        throw failure(call, shownAs);
    }

    /**
     * In-kernel copy of one range at the same offset in both files (reflink or server-side copy where the
     * filesystem offers it). Returns the bytes copied, 0 at source end of file.
     */
    public long copyRangeTo(NativeFile target, long offset, long length) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment inOffset = arena.allocateFrom(JAVA_LONG, offset);
            MemorySegment outOffset = arena.allocateFrom(JAVA_LONG, offset);
            while (true) {
                long n = call(SYS_COPY_FILE_RANGE, fd, inOffset.address(), target.fd, outOffset.address(), length, 0);
                if (n >= 0) return n;
                if (Errno.of(lastErrno()) != Errno.EINTR) throw failure("copy_file_range", target.shownAs);
            }
        }
    }

    /** Allocates blocks that read back as zeros, like upstream preallocation. */
    public void allocate(long offset, long length) throws ErrnoException {
        fallocate(0, offset, length, "fallocate");
    }

    /** Deallocates a range; it reads back as zeros afterwards (on a block device too: the kernel guarantees it). */
    public void punchHole(long offset, long length) throws ErrnoException {
        fallocate(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset, length, "fallocate(PUNCH_HOLE)");
    }

    private void fallocate(int mode, long offset, long length, String call) throws ErrnoException {
        if (call(SYS_FALLOCATE, fd, mode, offset, length) != 0) throw failure(call, shownAs);
    }

    public long blockDeviceSize() throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment size = arena.allocate(JAVA_LONG);
            if (call(SYS_IOCTL, fd, BLKGETSIZE64, size.address()) != 0) throw failure("ioctl(BLKGETSIZE64)", shownAs);
            return size.get(JAVA_LONG, 0);
        }
    }

    /** Writes zeros to a device range without unmapping it (BLKZEROOUT passes NOUNMAP). */
    public void blockZeroOut(long offset, long length) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment range = arena.allocate(JAVA_LONG, 2);
            range.setAtIndex(JAVA_LONG, 0, offset);
            range.setAtIndex(JAVA_LONG, 1, length);
            if (call(SYS_IOCTL, fd, BLKZEROOUT, range.address()) != 0) throw failure("ioctl(BLKZEROOUT)", shownAs);
        }
    }

    public void truncate(long size) throws ErrnoException {
        if (call(SYS_FTRUNCATE, fd, size) != 0) throw failure("ftruncate", shownAs);
    }

    public void sync() throws ErrnoException {
        simple(SYS_FSYNC, "fsync");
    }

    public void dataSync() throws ErrnoException {
        simple(SYS_FDATASYNC, "fdatasync");
    }

    /** Flushes every dirty page and inode of the filesystem this file lives on (one call instead of one fsync per file). */
    public void syncFileSystem() throws ErrnoException {
        simple(SYS_SYNCFS, "syncfs");
    }

    /** Starts writeback of a range without waiting: keeps dirty page cache from piling up behind a fast reader. */
    public void startWriteback(long offset, long length) throws ErrnoException {
        syncFileRange(offset, length, SYNC_FILE_RANGE_WRITE);
    }

    /** Waits until a range already under writeback is on disk, so its pages can be dropped. */
    public void awaitWriteback(long offset, long length) throws ErrnoException {
        syncFileRange(offset, length, SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER);
    }

    private void syncFileRange(long offset, long length, int flags) throws ErrnoException {
        if (call(SYS_SYNC_FILE_RANGE, fd, offset, length, flags) != 0) throw failure("sync_file_range", shownAs);
    }

    /** Drops clean cached pages of a range; advisory, so a refusal is ignored. */
    public void dropCache(long offset, long length) {
        advise(offset, length, POSIX_FADV_DONTNEED);
    }

    private void advise(long offset, long length, int advice) {
        call(SYS_FADVISE64, fd, offset, length, advice);
    }

    /**
     * Gives this open file the owner, extended attributes, mode and modification time of a source file, through the
     * descriptor (no path lookup that a swapped link could redirect), in the order the kernel forces. Owner first:
     * chown clears set-user-ID bits, which chmod restores, and file capabilities ({@code security.capability}),
     * which only setting them again restores. Extended attributes before the mode: setting {@code user.*} needs
     * write permission, which the mode may take away from a copy that does not run as root; chmod keeps
     * capabilities and rewrites an access ACL's mask to match the mode, which on the source matched it already.
     * The time last, so that nothing moves it afterwards. Each attribute the target refuses goes to {@code refusal}.
     */
    public void copyAttributesFrom(
            FileStat source, boolean withOwner, List<ExtendedAttribute> attributes, ExtendedAttribute.Refusal refusal)
            throws ErrnoException {
        if (withOwner && call(SYS_FCHOWN, fd, source.uid(), source.gid()) != 0) throw failure("fchown", shownAs);
        for (ExtendedAttribute attribute : attributes) {
            try {
                setExtendedAttribute(fd, ON_DESCRIPTOR, attribute, shownAs);
            } catch (ErrnoException e) {
                refusal.refused(attribute, e);
            }
        }
        if (call(SYS_FCHMOD, fd, source.permissions()) != 0) throw failure("fchmod", shownAs);
        try (Arena arena = Arena.ofConfined()) {
            if (call(SYS_UTIMENSAT, fd, 0, times(arena, source).address(), 0) != 0) throw failure("futimens", shownAs);
        }
    }

    /**
     * The same for a symlink, by its path (a link cannot be opened), in the same order: owner, extended attributes
     * ({@code user.*} is never allowed on a link, other namespaces are), time. A link has no mode of its own.
     */
    public static void copyLinkAttributes(
            Path link,
            FileStat source,
            boolean withOwner,
            List<ExtendedAttribute> attributes,
            ExtendedAttribute.Refusal refusal)
            throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            long name = arena.allocateFrom(link.toString()).address();
            if (withOwner
                    && call(SYS_FCHOWNAT, AT_FDCWD, name, source.uid(), source.gid(), AT_SYMLINK_NOFOLLOW, 0) != 0) {
                throw failure("lchown", link);
            }
            for (ExtendedAttribute attribute : attributes) {
                try {
                    setExtendedAttribute(name, ON_LINK, attribute, link.toString());
                } catch (ErrnoException e) {
                    refusal.refused(attribute, e);
                }
            }
            if (call(SYS_UTIMENSAT, AT_FDCWD, name, times(arena, source).address(), AT_SYMLINK_NOFOLLOW) != 0) {
                throw failure("utimensat", link);
            }
        }
    }

    /**
     * {@link #copyLinkAttributes} for the symlink {@code relative} below this directory. The xattr calls have no
     * directory-relative form before Linux 6.13, so they take the path through this descriptor's /proc entry.
     */
    public void copyLinkAttributesAt(
            byte[] relative,
            FileStat source,
            boolean withOwner,
            List<ExtendedAttribute> attributes,
            ExtendedAttribute.Refusal refusal)
            throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            long name = nameOf(arena, relative).address();
            if (withOwner && call(SYS_FCHOWNAT, fd, name, source.uid(), source.gid(), AT_SYMLINK_NOFOLLOW, 0) != 0) {
                throw new ErrnoException("lchown", inside(relative), lastErrno());
            }
            long viaProc = throughProc(arena, relative).address();
            for (ExtendedAttribute attribute : attributes) {
                try {
                    setExtendedAttribute(viaProc, ON_LINK, attribute, inside(relative));
                } catch (ErrnoException e) {
                    refusal.refused(attribute, e);
                }
            }
            if (call(SYS_UTIMENSAT, fd, name, times(arena, source).address(), AT_SYMLINK_NOFOLLOW) != 0) {
                throw new ErrnoException("utimensat", inside(relative), lastErrno());
            }
        }
    }

    /** The extended attributes of the symlink {@code relative} below this directory, not of what it points to. */
    public List<ExtendedAttribute> linkExtendedAttributesAt(byte[] relative) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            return extendedAttributes(throughProc(arena, relative).address(), ON_LINK, inside(relative));
        }
    }

    /** {@code /proc/self/fd/N/relative}: a path to an entry below this descriptor that no rename can redirect. */
    private MemorySegment throughProc(Arena arena, byte[] relative) {
        byte[] prefix = ("/proc/self/fd/" + fd + "/").getBytes(ISO_8859_1);
        byte[] whole = new byte[prefix.length + relative.length];
        System.arraycopy(prefix, 0, whole, 0, prefix.length);
        System.arraycopy(relative, 0, whole, prefix.length, relative.length);
        return nameOf(arena, whole);
    }

    /** struct timespec[2]: access time left alone (UTIME_OMIT), modification time from {@code source}. */
    private static MemorySegment times(Arena arena, FileStat source) {
        MemorySegment times = arena.allocate(JAVA_LONG, 4);
        times.setAtIndex(JAVA_LONG, 0, 0);
        times.setAtIndex(JAVA_LONG, 1, UTIME_OMIT);
        times.setAtIndex(JAVA_LONG, 2, source.modified().getEpochSecond());
        times.setAtIndex(JAVA_LONG, 3, source.modified().getNano());
        return times;
    }

    /**
     * This file's extended attributes, as far as this process may read them (without CAP_SYS_ADMIN the kernel
     * leaves {@code trusted.*} out). A file without any costs one call.
     */
    public List<ExtendedAttribute> extendedAttributes() throws ErrnoException {
        return extendedAttributes(fd, ON_DESCRIPTOR, shownAs);
    }

    /** The extended attributes of a symlink itself, not of what it points to. */
    public static List<ExtendedAttribute> linkExtendedAttributes(Path link) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            return extendedAttributes(arena.allocateFrom(link.toString()).address(), ON_LINK, link.toString());
        }
    }

    /**
     * The f- and l- variants of the xattr calls take the same arguments after the first, a descriptor or the
     * address of a path, so one implementation serves both.
     */
    private record XattrCalls(String prefix, int list, int get, int set) {}

    private static final XattrCalls ON_DESCRIPTOR = new XattrCalls("f", SYS_FLISTXATTR, SYS_FGETXATTR, SYS_FSETXATTR);
    private static final XattrCalls ON_LINK = new XattrCalls("l", SYS_LLISTXATTR, SYS_LGETXATTR, SYS_LSETXATTR);

    private static List<ExtendedAttribute> extendedAttributes(long file, XattrCalls calls, String path)
            throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment names;
            try {
                names = readGrowing(
                        arena,
                        (address, size) -> call(calls.list(), file, address, size),
                        calls.prefix() + "listxattr",
                        path);
            } catch (ErrnoException e) {
                if (e.errno() == Errno.EOPNOTSUPP) return List.of(); // a filesystem without extended attributes
                throw e;
            }
            List<ExtendedAttribute> attributes = new ArrayList<>();
            for (long at = 0; at < names.byteSize(); ) { // the list is NUL-terminated names, one after the other
                String name = names.getString(at, ISO_8859_1);
                at += name.length() + 1;
                long nameAddress = arena.allocateFrom(name, ISO_8859_1).address();
                try {
                    MemorySegment value = readGrowing(
                            arena,
                            (address, size) -> call(calls.get(), file, nameAddress, address, size),
                            calls.prefix() + "getxattr(" + name + ")",
                            path);
                    attributes.add(new ExtendedAttribute(name, value.toArray(JAVA_BYTE)));
                } catch (ErrnoException e) {
                    if (e.errno() != Errno.ENODATA) throw e; // ENODATA: removed since it was listed
                }
            }
            return attributes;
        }
    }

    /** One xattr call with its buffer: returns what the kernel returns, -1 with errno set on failure. */
    @FunctionalInterface
    interface SizedRead {
        long into(long address, long size);
    }

    /**
     * Reads a list or value whose size is not known: asks for the size first (a size-0 call), then reads into a
     * buffer that large. ERANGE means it grew in between (another process wrote it), so it asks again.
     */
    static MemorySegment readGrowing(Arena arena, SizedRead read, String call, String path) throws ErrnoException {
        while (true) {
            long size = read.into(0, 0);
            if (size < 0) throw failure(call, path);
            if (size == 0) return MemorySegment.NULL;
            MemorySegment buffer = arena.allocate(size);
            long length = read.into(buffer.address(), size);
            if (length >= 0) return buffer.asSlice(0, length);
            if (Errno.of(lastErrno()) != Errno.ERANGE) throw failure(call, path);
        }
    }

    /**
     * Flags 0: create or replace, since a new file may have some already (an LSM's label, an ACL inherited from a
     * default ACL on the target directory).
     */
    private static void setExtendedAttribute(long file, XattrCalls calls, ExtendedAttribute attribute, String path)
            throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment name = arena.allocateFrom(attribute.name(), ISO_8859_1);
            MemorySegment value = arena.allocateFrom(JAVA_BYTE, attribute.value());
            if (call(calls.set(), file, name.address(), value.address(), value.byteSize(), 0, 0) != 0) {
                throw failure(calls.prefix() + "setxattr(" + attribute.name() + ")", path);
            }
        }
    }

    public FileStat stat() throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            return statx(arena, fd, arena.allocateFrom(""), AT_EMPTY_PATH, shownAs);
        }
    }

    /** lstat: a symlink is reported as itself. */
    public static FileStat statNoFollow(Path path) throws ErrnoException {
        return statx(AT_FDCWD, path.toString(), AT_SYMLINK_NOFOLLOW, path);
    }

    public static FileStat stat(Path path) throws ErrnoException {
        return statx(AT_FDCWD, path.toString(), 0, path);
    }

    private static FileStat statx(int dirFd, String name, int flags, Path path) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            return statx(arena, dirFd, arena.allocateFrom(name), flags, path.toString());
        }
    }

    /** {@code name}: a NUL-terminated path, bytes as the kernel takes them. */
    private static FileStat statx(Arena arena, int dirFd, MemorySegment name, int flags, String shownAs)
            throws ErrnoException {
        MemorySegment buffer = arena.allocate(256, 8);
        long result =
                call(SYS_STATX, dirFd, name.address(), flags, STATX_BASIC_STATS | STATX_MNT_ID, buffer.address(), 0);
        if (result != 0) throw new ErrnoException("statx", shownAs, lastErrno());
        // struct statx offsets from <linux/stat.h>; the layout is the same on every architecture
        int mask = buffer.get(JAVA_INT, 0);
        int mode = Short.toUnsignedInt(buffer.get(JAVA_SHORT, 28));
        long device = ((long) buffer.get(JAVA_INT, 136) << 32) | Integer.toUnsignedLong(buffer.get(JAVA_INT, 140));
        long mountId = (mask & STATX_MNT_ID) != 0 ? buffer.get(JAVA_LONG, 144) : FileStat.UNKNOWN_MOUNT;
        return new FileStat(
                FileStat.typeOf(mode),
                mode & 07777,
                buffer.get(JAVA_INT, 20),
                buffer.get(JAVA_INT, 24),
                buffer.get(JAVA_LONG, 40),
                buffer.get(JAVA_LONG, 48) * 512,
                device,
                buffer.get(JAVA_LONG, 32),
                buffer.get(JAVA_INT, 16),
                timestamp(buffer, 112),
                timestamp(buffer, 96),
                mountId);
    }

    /** A struct statx_timestamp: seconds (signed 64) and nanoseconds (unsigned 32). */
    private static Instant timestamp(MemorySegment statx, long offset) {
        return Instant.ofEpochSecond(
                statx.get(JAVA_LONG, offset), Integer.toUnsignedLong(statx.get(JAVA_INT, offset + 8)));
    }

    /** Where this descriptor really points, as the kernel resolved it (symlinks and renames included). */
    public Path resolvedPath() throws IOException {
        return Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd));
    }

    @Override
    public void close() throws ErrnoException {
        simple(SYS_CLOSE, "close");
    }

    /** A call on this descriptor alone; EINTR is harmless for these (close has released the descriptor anyway). */
    private void simple(int number, String name) throws ErrnoException {
        if (call(number, fd) != 0 && Errno.of(lastErrno()) != Errno.EINTR) throw failure(name, shownAs);
    }

    private static ErrnoException failure(String call, Path path) {
        return new ErrnoException(call, path, lastErrno());
    }

    private static ErrnoException failure(String call, String shownAs) {
        return new ErrnoException(call, shownAs, lastErrno());
    }
}
