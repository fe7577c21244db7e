package dev.lockkeeper.sidecar.agent;

import dev.lockkeeper.sidecar.transfer.Puller;
import dev.lockkeeper.sidecar.transfer.RateLimiter;
import dev.lockkeeper.sidecar.transfer.SourceCatalog;
import dev.lockkeeper.sidecar.transfer.TransferException;
import java.io.IOException;

/** How this agent reaches other nodes' agents: pulls as a target, serves as a source. */
interface DataPlane {

    Puller puller(AgentMetrics metrics);

    /** Serving sources to other nodes' agents, until closed. */
    interface Serving extends AutoCloseable {
        /** The data port listened on, or -1 when this agent serves nobody. */
        int port();

        @Override
        void close();
    }

    Serving serve(SourceCatalog catalog, RateLimiter rate, AgentMetrics metrics) throws IOException;

    /** An agent without a node certificate: copies within the node only. */
    DataPlane NONE = new DataPlane() {
        @Override
        public Puller puller(AgentMetrics metrics) {
            return (request, checkpoints, progress, canceled) -> {
                throw new TransferException(
                        "this agent has no node certificate (--tls-dir), so it cannot pull from node "
                                + request.sourceNode() + "; only copies within one node are possible",
                        false);
            };
        }

        @Override
        public Serving serve(SourceCatalog catalog, RateLimiter rate, AgentMetrics metrics) {
            return new Serving() {
                @Override
                public int port() {
                    return -1;
                }

                @Override
                public void close() {}
            };
        }
    };
}
