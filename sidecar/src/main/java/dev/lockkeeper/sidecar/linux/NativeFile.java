package dev.lockkeeper.sidecar.linux;

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

import static dev.lockkeeper.sidecar.linux.Syscalls.*;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import static java.nio.charset.StandardCharsets.ISO_8859_1;

/**
 * An open file descriptor with the Linux calls a sparse, durable copy needs. The JDK's channels hide the
 * descriptor, and SEEK_DATA, fallocate, copy_file_range, the block ioctls and write-behind hints all need it.
 * Positional calls only, so one instance can be used by several threads at once.
 */
public final class NativeFile implements AutoCloseable {
    /** {@code EXCLUSIVE} without {@code CREATE_NEW} on a block device: fail with EBUSY if it is mounted or held. */
    public enum Mode { READ, WRITE, READ_WRITE, CREATE_NEW, EXCLUSIVE, DIRECT, NO_FOLLOW, DIRECTORY, PATH }

    /** O_PATH: a handle that names a file without opening it for I/O (a FIFO does not block, a device is not touched). */
    private static final int O_PATH = 010000000;

    /** O_DIRECT needs buffers, offsets and lengths aligned to the logical block size; 4 KiB covers every disk we meet. */
    public static final int DIRECT_IO_ALIGNMENT = 4096;

    private final int fd;
    private final Path path;

    private NativeFile(int fd, Path path) {
        this.fd = fd;
        this.path = path;
    }

    public static NativeFile open(Path path, Mode... modes) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            long fd = call(SYS_OPENAT, AT_FDCWD, arena.allocateFrom(path.toString()).address(), flagsOf(modes), 0600);
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
            long fd = call(SYS_OPENAT2, root.fd, arena.allocateFrom(relative.toString()).address(), how.address(), how.byteSize());
            Path path = root.path.resolve(relative);
            if (fd < 0) throw failure("openat2", path);
            return new NativeFile((int) fd, path);
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

    /** Allocates a buffer usable for O_DIRECT transfers. */
    public static MemorySegment directBuffer(Arena arena, long size) {
        return arena.allocate(size, DIRECT_IO_ALIGNMENT);
    }

    /** A second descriptor for the same open file (not the same path: it may have been renamed or replaced since). */
    public NativeFile reopen(Mode... modes) throws ErrnoException {
        NativeFile twin = open(Path.of("/proc/self/fd/" + fd), modes);
        return new NativeFile(twin.fd, path);
    }

    public Path path() {
        return path;
    }

    /** Reads up to {@code length} bytes at {@code offset}; fewer only at end of file. */
    public long read(MemorySegment buffer, long length, long offset) throws ErrnoException {
        long done = 0;
        while (done < length) {
            long n = call(SYS_PREAD64, fd, buffer.address() + done, length - done, offset + done);
            if (n == 0) break;
            if (n < 0) {
                if (Errno.of(lastErrno()) == Errno.EINTR) continue;
                throw failure("read", path);
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
                throw failure("write", path);
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
        throw failure(call, path);
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
                if (Errno.of(lastErrno()) != Errno.EINTR) throw failure("copy_file_range", target.path);
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
        if (call(SYS_FALLOCATE, fd, mode, offset, length) != 0) throw failure(call, path);
    }

    public long blockDeviceSize() throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment size = arena.allocate(JAVA_LONG);
            if (call(SYS_IOCTL, fd, BLKGETSIZE64, size.address()) != 0) throw failure("ioctl(BLKGETSIZE64)", path);
            return size.get(JAVA_LONG, 0);
        }
    }

    /** Writes zeros to a device range without unmapping it (BLKZEROOUT passes NOUNMAP). */
    public void blockZeroOut(long offset, long length) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment range = arena.allocate(JAVA_LONG, 2);
            range.setAtIndex(JAVA_LONG, 0, offset);
            range.setAtIndex(JAVA_LONG, 1, length);
            if (call(SYS_IOCTL, fd, BLKZEROOUT, range.address()) != 0) throw failure("ioctl(BLKZEROOUT)", path);
        }
    }

    public void truncate(long size) throws ErrnoException {
        if (call(SYS_FTRUNCATE, fd, size) != 0) throw failure("ftruncate", path);
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
        if (call(SYS_SYNC_FILE_RANGE, fd, offset, length, flags) != 0) throw failure("sync_file_range", path);
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
    public void copyAttributesFrom(FileStat source, boolean withOwner, List<ExtendedAttribute> attributes,
                                   ExtendedAttribute.Refusal refusal) throws ErrnoException {
        if (withOwner && call(SYS_FCHOWN, fd, source.uid(), source.gid()) != 0) throw failure("fchown", path);
        for (ExtendedAttribute attribute : attributes) {
            try {
                setExtendedAttribute(fd, ON_DESCRIPTOR, attribute, path);
            } catch (ErrnoException e) {
                refusal.refused(attribute, e);
            }
        }
        if (call(SYS_FCHMOD, fd, source.permissions()) != 0) throw failure("fchmod", path);
        try (Arena arena = Arena.ofConfined()) {
            if (call(SYS_UTIMENSAT, fd, 0, times(arena, source).address(), 0) != 0) throw failure("futimens", path);
        }
    }

    /**
     * The same for a symlink, by its path (a link cannot be opened), in the same order: owner, extended attributes
     * ({@code user.*} is never allowed on a link, other namespaces are), time. A link has no mode of its own.
     */
    public static void copyLinkAttributes(Path link, FileStat source, boolean withOwner, List<ExtendedAttribute> attributes,
                                          ExtendedAttribute.Refusal refusal) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            long name = arena.allocateFrom(link.toString()).address();
            if (withOwner && call(SYS_FCHOWNAT, AT_FDCWD, name, source.uid(), source.gid(), AT_SYMLINK_NOFOLLOW, 0) != 0) {
                throw failure("lchown", link);
            }
            for (ExtendedAttribute attribute : attributes) {
                try {
                    setExtendedAttribute(name, ON_LINK, attribute, link);
                } catch (ErrnoException e) {
                    refusal.refused(attribute, e);
                }
            }
            if (call(SYS_UTIMENSAT, AT_FDCWD, name, times(arena, source).address(), AT_SYMLINK_NOFOLLOW) != 0) {
                throw failure("utimensat", link);
            }
        }
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
        return extendedAttributes(fd, ON_DESCRIPTOR, path);
    }

    /** The extended attributes of a symlink itself, not of what it points to. */
    public static List<ExtendedAttribute> linkExtendedAttributes(Path link) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            return extendedAttributes(arena.allocateFrom(link.toString()).address(), ON_LINK, link);
        }
    }

    /**
     * The f- and l- variants of the xattr calls take the same arguments after the first, a descriptor or the
     * address of a path, so one implementation serves both.
     */
    private record XattrCalls(String prefix, int list, int get, int set) { }

    private static final XattrCalls ON_DESCRIPTOR = new XattrCalls("f", SYS_FLISTXATTR, SYS_FGETXATTR, SYS_FSETXATTR);
    private static final XattrCalls ON_LINK = new XattrCalls("l", SYS_LLISTXATTR, SYS_LGETXATTR, SYS_LSETXATTR);

    private static List<ExtendedAttribute> extendedAttributes(long file, XattrCalls calls, Path path) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment names;
            try {
                names = readGrowing(arena, (address, size) -> call(calls.list(), file, address, size),
                        calls.prefix() + "listxattr", path);
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
                    MemorySegment value = readGrowing(arena, (address, size) -> call(calls.get(), file, nameAddress, address, size),
                            calls.prefix() + "getxattr(" + name + ")", path);
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
    static MemorySegment readGrowing(Arena arena, SizedRead read, String call, Path path) throws ErrnoException {
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
    private static void setExtendedAttribute(long file, XattrCalls calls, ExtendedAttribute attribute, Path path)
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
        return statx(fd, "", AT_EMPTY_PATH, path);
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
            MemorySegment buffer = arena.allocate(256, 8);
            long result = call(SYS_STATX, dirFd, arena.allocateFrom(name).address(), flags, STATX_BASIC_STATS, buffer.address(), 0);
            if (result != 0) throw failure("statx", path);
            // struct statx offsets from <linux/stat.h>; the layout is the same on every architecture
            int mode = Short.toUnsignedInt(buffer.get(JAVA_SHORT, 28));
            long device = ((long) buffer.get(JAVA_INT, 136) << 32) | Integer.toUnsignedLong(buffer.get(JAVA_INT, 140));
            Instant modified = Instant.ofEpochSecond(buffer.get(JAVA_LONG, 112), Integer.toUnsignedLong(buffer.get(JAVA_INT, 120)));
            return new FileStat(FileStat.typeOf(mode), mode & 07777, buffer.get(JAVA_INT, 20), buffer.get(JAVA_INT, 24),
                    buffer.get(JAVA_LONG, 40), buffer.get(JAVA_LONG, 48) * 512, device, buffer.get(JAVA_LONG, 32),
                    buffer.get(JAVA_INT, 16), modified);
        }
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
        if (call(number, fd) != 0 && Errno.of(lastErrno()) != Errno.EINTR) throw failure(name, path);
    }

    private static ErrnoException failure(String call, Path path) {
        return new ErrnoException(call, path, lastErrno());
    }
}
