package dev.lockkeeper.sidecar.copy;

import dev.lockkeeper.sidecar.linux.FileStat;
import dev.lockkeeper.sidecar.linux.FileStat.FileType;
import dev.lockkeeper.sidecar.linux.NativeFile;

import java.io.IOException;
import java.nio.file.DirectoryIteratorException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Iterator;

/**
 * The walk every tree pass shares (measuring, copying, verifying): the root, then depth first each directory
 * before its entries, in directory order. One statx per entry (Files.walkFileTree would add an lstat of its
 * own), links never followed, the root's {@code lost+found} directory left out. Iterative, so a deep tree
 * holds one open directory per level and no stack frames.
 */
final class TreeWalk {
    static final String LOST_AND_FOUND = "lost+found";

    @FunctionalInterface
    interface Visitor {
        /** Called for the root and every entry below it; returns false to end the walk. */
        boolean visit(Path path, FileStat stat) throws IOException, CopyException;
    }

    private TreeWalk() {
    }

    static void walk(Path root, Visitor visitor) throws IOException, CopyException {
        if (!visitor.visit(root, NativeFile.statNoFollow(root))) return;
        Deque<DirectoryStream<Path>> open = new ArrayDeque<>();
        Deque<Iterator<Path>> pending = new ArrayDeque<>();
        try {
            enter(root, open, pending);
            while (!pending.isEmpty()) {
                Path path = next(pending.peek());
                if (path == null) {
                    pending.pop();
                    open.pop().close();
                    continue;
                }
                FileStat stat = NativeFile.statNoFollow(path);
                boolean directory = stat.type() == FileType.DIRECTORY;
                if (directory && pending.size() == 1 && path.getFileName().toString().equals(LOST_AND_FOUND)) continue;
                if (!visitor.visit(path, stat)) return;
                if (directory) enter(path, open, pending);
            }
        } finally {
            for (DirectoryStream<Path> stream : open) stream.close();
        }
    }

    private static void enter(Path directory, Deque<DirectoryStream<Path>> open, Deque<Iterator<Path>> pending) throws IOException {
        DirectoryStream<Path> stream = Files.newDirectoryStream(directory);
        open.push(stream);
        pending.push(stream.iterator());
    }

    private static Path next(Iterator<Path> entries) throws IOException {
        try {
            return entries.hasNext() ? entries.next() : null;
        } catch (DirectoryIteratorException e) {
            throw e.getCause();
        }
    }
}
