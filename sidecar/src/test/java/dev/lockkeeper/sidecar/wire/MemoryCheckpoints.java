package dev.lockkeeper.sidecar.wire;

import dev.lockkeeper.sidecar.transfer.Checkpoint;
import dev.lockkeeper.sidecar.transfer.CheckpointStore;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** A checkpoint store that remembers every save, so tests can see when and where checkpoints were taken. */
final class MemoryCheckpoints implements CheckpointStore {
    private volatile Checkpoint current;
    final List<Checkpoint> saved = new ArrayList<>();

    @Override
    public Optional<Checkpoint> load() {
        return Optional.ofNullable(current);
    }

    @Override
    public synchronized void save(Checkpoint checkpoint) {
        current = checkpoint;
        saved.add(checkpoint);
    }

    @Override
    public void clear() {
        current = null;
    }
}
