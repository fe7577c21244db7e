package dev.lockkeeper.sidecar.agent;

import java.io.IOException;
import java.util.Optional;

/**
 * Where an agent's work comes from and where its status goes: a directory of task files today
 * ({@link TaskDirectory}), {@code CopyTask} custom resources in the cluster. The agent behaves the same for both.
 */
public interface TaskIntake extends AutoCloseable {

    /** Told of every task the intake holds (once at start, then on each change), from one thread at a time. */
    interface Listener {
        void changed(CopyTask task);

        /** A task object the agent cannot read or will not run; {@code name} identifies it to the intake. */
        void rejected(String name, String reason);

        void removed(String name);
    }

    /** Delivers the tasks present now, then keeps delivering changes until closed. */
    void start(Listener listener) throws IOException;

    /** The status last written for a task (an agent that restarts continues from it). */
    Optional<TaskStatus> lastStatus(String name) throws IOException;

    void publish(String name, TaskStatus status) throws IOException;

    @Override
    void close();
}
