package dev.lockkeeper.sidecar.agent;

import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchService;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.stream.Stream;

/**
 * Tasks as files in a directory ({@code NAME.yaml}, {@code NAME.yml} or {@code NAME.json}), status beside each as
 * {@code NAME.status.json}: what tests and a person without a cluster use. Removing a task file cancels the task and
 * removes its status file. The directory is watched (inotify), and
 * also re-read every second, so a missed event costs at most a second.
 */
public final class TaskDirectory implements TaskIntake {
    private static final Logger LOG = Logger.getLogger(TaskDirectory.class.getName());
    private static final long RESCAN_MILLIS = 1000;

    private final Path directory;
    private final Map<String, byte[]> seen = new HashMap<>();
    private volatile boolean closed;
    private WatchService watcher;
    private Thread thread;

    public TaskDirectory(Path directory) {
        this.directory = directory;
    }

    @Override
    public String toString() {
        return "the task directory " + directory;
    }

    @Override
    public void start(Listener listener) throws IOException {
        if (!Files.isDirectory(directory))
            throw new NoSuchFileException(directory.toString(), null, "the task directory does not exist");
        watcher = directory.getFileSystem().newWatchService();
        directory.register(
                watcher,
                StandardWatchEventKinds.ENTRY_CREATE,
                StandardWatchEventKinds.ENTRY_MODIFY,
                StandardWatchEventKinds.ENTRY_DELETE);
        scan(listener);
        thread = Thread.ofPlatform().daemon().name("lk-task-directory").start(() -> watch(listener));
    }

    private void watch(Listener listener) {
        while (!closed) {
            try {
                var key = watcher.poll(RESCAN_MILLIS, TimeUnit.MILLISECONDS);
                if (key != null) {
                    key.pollEvents();
                    key.reset();
                }
                scan(listener);
            } catch (InterruptedException | ClosedWatchServiceException e) {
                return;
            } catch (IOException | RuntimeException e) {
                LOG.log(Level.WARNING, "reading the task directory " + directory + " failed; trying again", e);
            }
        }
    }

    /** Tells the listener of each task file that appeared, changed or went away since the last scan. */
    private synchronized void scan(Listener listener) throws IOException {
        Set<String> present = new HashSet<>();
        try (Stream<Path> files = Files.list(directory)) {
            for (Path file :
                    (Iterable<Path>) files.filter(TaskFiles::isTaskFile).sorted()::iterator) {
                String name = TaskFiles.nameOf(file);
                if (!present.add(name)) {
                    listener.rejected(
                            name, "more than one file defines task " + name + " (" + file.getFileName() + ")");
                    continue;
                }
                byte[] content = read(file);
                if (content == null) {
                    present.remove(name);
                    continue;
                }
                if (Arrays.equals(content, seen.get(name))) continue;
                seen.put(name, content);
                try {
                    listener.changed(TaskFiles.parse(file, content));
                } catch (TaskRejected e) {
                    listener.rejected(name, e.getMessage());
                }
            }
        }
        for (String gone : Set.copyOf(seen.keySet())) {
            if (!present.contains(gone)) {
                seen.remove(gone);
                listener.removed(gone);
                // the status belongs to the task, as a resource's status does: both go together
                Files.deleteIfExists(TaskFiles.statusFileOf(directory, gone));
            }
        }
    }

    /** The file's bytes, at most one byte past the limit (enough to refuse it); null when it vanished meanwhile. */
    private static byte[] read(Path file) throws IOException {
        try (var in = Files.newInputStream(file)) {
            return in.readNBytes(TaskFiles.MAX_TASK_BYTES + 1);
        } catch (NoSuchFileException e) {
            return null;
        }
    }

    @Override
    public Optional<TaskStatus> lastStatus(String name) throws IOException {
        return TaskFiles.readStatus(TaskFiles.statusFileOf(directory, name));
    }

    @Override
    public void publish(String name, TaskStatus status) throws IOException {
        TaskFiles.writeStatus(TaskFiles.statusFileOf(directory, name), status);
    }

    @Override
    public void close() {
        closed = true;
        try {
            if (watcher != null) watcher.close();
        } catch (IOException e) {
            // closing on the way out
        }
        if (thread != null) thread.interrupt();
    }
}
