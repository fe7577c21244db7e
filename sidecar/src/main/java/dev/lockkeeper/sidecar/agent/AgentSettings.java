package dev.lockkeeper.sidecar.agent;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * How one agent runs; {@code agent --help} documents each option.
 *
 * @param tasks          the task directory; null when the tasks come from CopyTask resources (the controller jar)
 * @param peers          data addresses of other nodes' agents ({@code host:port}) when a task does not carry one;
 *                       a node missing here is reached as {@code <node>:<dataPort>}
 * @param maxRate        node-wide bytes per second across all tasks, 0 for no limit
 * @param retryDeadline  how long transient failures of one task are retried before it fails
 * @param checkpointBytes    a target is synced and its checkpoint recorded every this many bytes, or every
 *                           {@code checkpointInterval}, whichever comes first (local copies and streams alike)
 * @param stall              a connection between agents that moves nothing for this long is closed (the puller then
 *                           retries from its checkpoint)
 */
public record AgentSettings(
        String node,
        Path tasks,
        Path kubeletRoot,
        List<Path> allowedRoots,
        Path stateDir,
        Optional<Path> tlsDir,
        InetSocketAddress dataAddress,
        InetSocketAddress adminAddress,
        int maxTasks,
        long maxRate,
        Map<String, String> peers,
        Duration retryDeadline,
        Duration firstRetryDelay,
        Duration maxRetryDelay,
        long checkpointBytes,
        Duration checkpointInterval,
        Duration stall) {

    public static final int DEFAULT_DATA_PORT = 8444;
    public static final int DEFAULT_ADMIN_PORT = 8445;
    public static final int DEFAULT_MAX_TASKS = 2;
    public static final Duration DEFAULT_RETRY_DEADLINE = Duration.ofHours(1);
    static final Duration FIRST_RETRY_DELAY = Duration.ofSeconds(1);
    static final Duration MAX_RETRY_DELAY = Duration.ofSeconds(60);
    public static final long DEFAULT_CHECKPOINT_BYTES = 1L << 30;
    static final Duration CHECKPOINT_INTERVAL = Duration.ofSeconds(10);
    public static final Duration DEFAULT_STALL = Duration.ofSeconds(30);

    /** Where the source agent of a task listens. */
    String addressOf(CopyTask.Endpoint source) {
        return source.address()
                .orElseGet(() -> peers.getOrDefault(source.node(), source.node() + ":" + dataAddress.getPort()));
    }
}
