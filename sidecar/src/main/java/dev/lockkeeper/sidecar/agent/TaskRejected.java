package dev.lockkeeper.sidecar.agent;

/** A task the agent will not run, with the reason for the person or controller that wrote it. */
public final class TaskRejected extends Exception {
    public TaskRejected(String message) {
        super(message);
    }
}
