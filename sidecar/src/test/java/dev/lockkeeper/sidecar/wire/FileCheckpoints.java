package dev.lockkeeper.sidecar.wire;

import dev.lockkeeper.sidecar.transfer.Checkpoint;
import dev.lockkeeper.sidecar.transfer.CheckpointStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;

/** A checkpoint kept in a file, as an agent's state directory keeps it: survives a kill -9 of the process. */
record FileCheckpoints(Path file) implements CheckpointStore {
    @Override
    public Optional<Checkpoint> load() {
        try {
            if (!Files.exists(file)) return Optional.empty();
            String[] fields = Files.readString(file).trim().split(" ", 3);
            return Optional.of(new Checkpoint(Long.parseLong(fields[0]), Long.parseLong(fields[1]), fields[2]));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void save(Checkpoint checkpoint) {
        try {
            Path temp = file.resolveSibling(file.getFileName() + ".tmp");
            Files.writeString(
                    temp, checkpoint.offset() + " " + checkpoint.entries() + " " + checkpoint.sourceFingerprint());
            Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void clear() {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
