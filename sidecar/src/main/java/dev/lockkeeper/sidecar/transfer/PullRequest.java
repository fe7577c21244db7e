package dev.lockkeeper.sidecar.transfer;

import dev.lockkeeper.sidecar.copy.Content;
import java.net.InetSocketAddress;
import java.nio.file.Path;

/**
 * One attempt at a task, as the target agent sees it.
 *
 * @param sourceNode         the node the source agent's certificate must name
 * @param sourceAddress      where that agent's data port listens
 * @param target             the target end, already resolved and contained by the agent (a block device, or a
 *                           filesystem volume's mount root)
 * @param filesystemOverhead fraction of a filesystem target kept for metadata (upstream default 0.06)
 * @param rate               the node-wide limiter every transfer on this node draws from
 */
public record PullRequest(
        String taskId,
        int attempt,
        String sourceNode,
        InetSocketAddress sourceAddress,
        Path target,
        Content content,
        boolean preallocate,
        boolean targetIsZero,
        double filesystemOverhead,
        boolean verify,
        RateLimiter rate) {}
