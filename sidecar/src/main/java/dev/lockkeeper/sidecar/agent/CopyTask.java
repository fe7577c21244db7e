package dev.lockkeeper.sidecar.agent;

import dev.lockkeeper.sidecar.copy.Content;
import java.util.Optional;

/**
 * One unit of work for the agents: copy a volume on one node, or from the node that holds the source to the node
 * that holds the target. The same shape as the {@code CopyTask} custom resource the controller will create.
 *
 * @param maxBytesPerSecond this task's own limit (0: none); the node-wide {@code --max-rate} applies on top
 * @param cancel            set by whoever created the task to stop it; the target's partial data is removed
 */
public record CopyTask(
        String name,
        Endpoint source,
        Endpoint target,
        Content content,
        boolean preallocate,
        boolean targetIsZero,
        double filesystemOverhead,
        boolean verify,
        long maxBytesPerSecond,
        boolean cancel) {

    /** @param address where the node's agent listens for data ({@code host:port}); absent: the agent's peer table */
    public record Endpoint(String node, Optional<String> address, VolumeRef volume) {}

    public boolean local() {
        return source.node().equals(target.node());
    }

    /** The same work: everything but the cancel switch, which is the one field that may change after creation. */
    public boolean sameWorkAs(CopyTask other) {
        return withCancel(false).equals(other.withCancel(false));
    }

    public CopyTask withCancel(boolean value) {
        return new CopyTask(
                name,
                source,
                target,
                content,
                preallocate,
                targetIsZero,
                filesystemOverhead,
                verify,
                maxBytesPerSecond,
                value);
    }
}
