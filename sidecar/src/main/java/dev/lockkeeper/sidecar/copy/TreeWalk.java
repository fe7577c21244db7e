package dev.lockkeeper.sidecar.copy;

import dev.lockkeeper.sidecar.linux.ErrnoException;
import dev.lockkeeper.sidecar.linux.FileStat;
import dev.lockkeeper.sidecar.linux.FileStat.FileType;
import dev.lockkeeper.sidecar.linux.NativeFile;
import dev.lockkeeper.sidecar.linux.NativeFile.Mode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.Iterator;
import java.util.List;

/**
 * The walk every tree pass shares (measuring, copying, verifying): the root, then depth first each directory
 * before its entries, in directory order, the root's {@code lost+found} directory left out. By descriptor and
 * name bytes: each directory is opened below its parent's descriptor (O_NOFOLLOW), read with getdents64 and each
 * entry stat'ed by name within it (one statx, links never followed), so no name is ever decoded and no path is
 * looked up again from the top. Iterative, so a deep tree holds one open directory per level and no stack frames.
 *
 * <p>One filesystem, as {@code cp -x} and {@code tar --one-file-system}: an entry on another mount than the root
 * (a mount point, a bind mount of a directory or file) is visited with {@code mountPoint} set and, if it is a
 * directory, not entered.
 *
 * <p>{@link #walkSorted} visits each directory's entries in byte order of their names instead: the order a tree
 * stream numbers its entries in, which must be the same in every attempt for a checkpoint (an entry's ordinal) to
 * mean the same entry after a restart. It holds one directory's names at a time per open level.
 */
final class TreeWalk {
    static final String LOST_AND_FOUND = "lost+found";

    /** One entry as the walk found it. */
    record Entry(TreePath path, FileStat stat, boolean mountPoint) {}

    @FunctionalInterface
    interface Visitor {
        /** Called for the root and every entry below it; returns false to end the walk. */
        boolean visit(Entry entry) throws IOException, CopyException;
    }

    private TreeWalk() {}

    static void walk(Path root, Visitor visitor) throws IOException, CopyException {
        try (NativeFile directory = NativeFile.open(root, Mode.READ, Mode.DIRECTORY, Mode.NO_FOLLOW)) {
            walk(directory, visitor);
        }
    }

    /** {@code root}: an open directory; it stays open. */
    static void walk(NativeFile root, Visitor visitor) throws IOException, CopyException {
        walk(root, false, visitor);
    }

    /** The walk with each directory's names in byte order ({@link TreePath#compareTo}); {@code root} stays open. */
    static void walkSorted(NativeFile root, Visitor visitor) throws IOException, CopyException {
        walk(root, true, visitor);
    }

    private static void walk(NativeFile root, boolean sorted, Visitor visitor) throws IOException, CopyException {
        FileStat rootStat = root.stat();
        if (!visitor.visit(new Entry(TreePath.ROOT, rootStat, false))) return;
        Deque<Level> open = new ArrayDeque<>();
        try {
            // a descriptor of its own: getdents64 reads from the descriptor's position, which a second walk would find
            // at the end
            open.push(new Level(root.openAt(TreePath.ROOT.bytes(), Mode.READ, Mode.DIRECTORY), TreePath.ROOT, sorted));
            while (!open.isEmpty()) {
                Level level = open.peek();
                byte[] name = level.next();
                if (name == null) {
                    open.pop().close();
                    continue;
                }
                TreePath path = level.path.child(name);
                FileStat stat = level.directory.statAt(name);
                boolean directory = stat.type() == FileType.DIRECTORY;
                if (directory && path.isTopLevel() && path.nameIs(LOST_AND_FOUND)) continue;
                boolean mountPoint = stat.onOtherMountThan(rootStat);
                if (!visitor.visit(new Entry(path, stat, mountPoint))) return;
                if (directory && !mountPoint) {
                    open.push(new Level(
                            level.directory.openAt(name, Mode.READ, Mode.DIRECTORY, Mode.NO_FOLLOW), path, sorted));
                }
            }
        } finally {
            for (Level level : open) level.close();
        }
    }

    /** One directory being read, through a descriptor of its own. */
    private static final class Level implements AutoCloseable {
        final NativeFile directory;
        final TreePath path;
        final NativeFile.DirectoryEntries entries;
        /** The directory's names in byte order, read at the first call, when the walk is sorted. */
        private final boolean sorted;

        private Iterator<byte[]> inOrder;

        Level(NativeFile directory, TreePath path, boolean sorted) {
            this.directory = directory;
            this.path = path;
            this.entries = directory.entries();
            this.sorted = sorted;
        }

        byte[] next() throws ErrnoException {
            if (!sorted) return entries.next();
            if (inOrder == null) {
                List<byte[]> names = new ArrayList<>();
                for (byte[] name = entries.next(); name != null; name = entries.next()) names.add(name);
                names.sort(Arrays::compareUnsigned);
                inOrder = names.iterator();
            }
            return inOrder.hasNext() ? inOrder.next() : null;
        }

        @Override
        public void close() throws ErrnoException {
            entries.close();
            directory.close();
        }
    }
}
