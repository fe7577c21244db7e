package dev.lockkeeper.sidecar.agent;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.lockkeeper.sidecar.transfer.Checkpoint;
import dev.lockkeeper.sidecar.transfer.CheckpointStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

/**
 * What must survive an agent restart, one small file per task in {@code --state-dir}: how many attempts were made
 * and the last durable checkpoint. Every write is synced and renamed into place (and the directory synced), so a
 * node that loses power keeps either the old record or the new one, never half of one.
 */
public final class StateDirectory {
    private final Path directory;

    @JsonInclude(JsonInclude.Include.NON_NULL)
    record TaskState(int attempts, Checkpoint checkpoint) {}

    public StateDirectory(Path directory) throws IOException {
        this.directory = Files.createDirectories(directory);
    }

    public synchronized int attempts(String task) {
        return read(task).attempts();
    }

    public synchronized void recordAttempt(String task, int attempt) {
        write(task, new TaskState(attempt, read(task).checkpoint()));
    }

    public synchronized void forget(String task) {
        try {
            Files.deleteIfExists(fileOf(task));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public CheckpointStore checkpoints(String task) {
        return new CheckpointStore() {
            @Override
            public Optional<Checkpoint> load() {
                synchronized (StateDirectory.this) {
                    return Optional.ofNullable(read(task).checkpoint());
                }
            }

            @Override
            public void save(Checkpoint checkpoint) {
                synchronized (StateDirectory.this) {
                    write(task, new TaskState(read(task).attempts(), checkpoint));
                }
            }

            @Override
            public void clear() {
                synchronized (StateDirectory.this) {
                    write(task, new TaskState(read(task).attempts(), null));
                }
            }
        };
    }

    private Path fileOf(String task) {
        return directory.resolve(task + ".json");
    }

    private TaskState read(String task) {
        Path file = fileOf(task);
        try {
            return Files.exists(file)
                    ? TaskFiles.json().readValue(file.toFile(), TaskState.class)
                    : new TaskState(0, null);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the agent's state for task " + task + " in " + file, e);
        }
    }

    private void write(String task, TaskState state) {
        Path file = fileOf(task);
        Path temporary = directory.resolve("." + task + ".json.tmp");
        try {
            Files.write(temporary, TaskFiles.json().writeValueAsBytes(state));
            try (FileChannel channel = FileChannel.open(temporary, StandardOpenOption.WRITE)) {
                channel.force(true);
            }
            Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            try (FileChannel parent = FileChannel.open(directory, StandardOpenOption.READ)) {
                parent.force(true);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot record the agent's state for task " + task + " in " + file, e);
        }
    }
}
