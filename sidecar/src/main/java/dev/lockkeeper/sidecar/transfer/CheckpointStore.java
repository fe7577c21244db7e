package dev.lockkeeper.sidecar.transfer;

import java.util.Optional;

/** Where a task's checkpoint survives an agent restart (the agent's state directory, and the task's status). */
public interface CheckpointStore {
    Optional<Checkpoint> load();

    /** Called only after the data before the checkpoint is durable on the target. */
    void save(Checkpoint checkpoint);

    /** Forgets the checkpoint, e.g. when the source changed and the copy must start over. */
    void clear();
}
