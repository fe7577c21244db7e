package dev.lockkeeper.sidecar.wire;

import dev.lockkeeper.sidecar.copy.Content;
import dev.lockkeeper.sidecar.testing.NodeIdentities;
import dev.lockkeeper.sidecar.transfer.PullRequest;
import dev.lockkeeper.sidecar.transfer.RateLimiter;
import dev.lockkeeper.sidecar.transfer.ServedSource;
import dev.lockkeeper.sidecar.transfer.SourceCatalog;
import dev.lockkeeper.sidecar.transfer.TransferException;
import dev.lockkeeper.sidecar.transfer.TransferProgress;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.UnaryOperator;

/**
 * A source node "src" serving tasks on loopback and the target node "dst" that pulls them, with node certificates from
 * one test agent CA. Tasks are registered with the node that may pull them, as an agent's task intake would.
 */
final class WireNodes implements AutoCloseable {
    record Task(ServedSource source, String targetNode) {}

    /** Progress nobody watches. */
    static final TransferProgress QUIET = new TransferProgress() {
        @Override
        public void update(long done, long total, long dataBytes, long holeBytes) {}

        @Override
        public void verifying() {}
    };

    /** A source that gives up on a stalled connection after 5 s and tells a waiting target every 200 ms it is alive. */
    static final DataServer.Options BRISK = new DataServer.Options(
            Duration.ofSeconds(5),
            Duration.ofMillis(200),
            WireMetrics.NONE,
            DataServer.Options.DEFAULT.maxHandshakes());

    final NodeIdentities identities;
    final Map<String, Task> tasks = new ConcurrentHashMap<>();
    final SourceCatalog catalog = (taskId, caller) -> {
        Task task = tasks.get(taskId);
        if (task == null) throw new TransferException("no task " + taskId + " names this node as its source", false);
        if (!task.targetNode().equals(caller)) {
            throw new TransferException(
                    "task " + taskId + " is pulled by node " + task.targetNode() + ", not by " + caller, false);
        }
        return task.source();
    };
    final DataServer server;

    WireNodes(Path dir) throws IOException {
        this(dir, DataServer.Options.DEFAULT);
    }

    WireNodes(Path dir, DataServer.Options options) throws IOException {
        identities = new NodeIdentities(dir.resolve("pki"));
        server = DataServer.start(
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                NodeTls.load(identities.node("src")),
                catalog,
                RateLimiter.UNLIMITED,
                options);
    }

    InetSocketAddress address() {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), server.port());
    }

    void serve(String taskId, Path source, Content content) {
        tasks.put(taskId, new Task(new ServedSource(taskId, source, content), "dst"));
    }

    TlsPuller puller(TlsPuller.Options options) throws IOException {
        return new TlsPuller(NodeTls.load(identities.node("dst")), options);
    }

    /** A puller with {@code seam} between its write-behind and the image target. */
    TlsPuller puller(TlsPuller.Options options, UnaryOperator<WriteBehind.Disk> seam) throws IOException {
        return new TlsPuller(NodeTls.load(identities.node("dst")), options, seam);
    }

    static PullRequest request(String taskId, InetSocketAddress address, Path target, Content content) {
        return new PullRequest(
                taskId, 1, "src", address, target, content, false, false, 0.06, true, RateLimiter.UNLIMITED);
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
