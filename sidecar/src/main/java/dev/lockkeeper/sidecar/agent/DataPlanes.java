package dev.lockkeeper.sidecar.agent;

import dev.lockkeeper.sidecar.transfer.Puller;
import dev.lockkeeper.sidecar.transfer.RateLimiter;
import dev.lockkeeper.sidecar.transfer.SourceCatalog;
import dev.lockkeeper.sidecar.wire.DataServer;
import dev.lockkeeper.sidecar.wire.NodeTls;
import dev.lockkeeper.sidecar.wire.TlsPuller;
import dev.lockkeeper.sidecar.wire.WireMetrics;
import java.io.IOException;
import java.io.UncheckedIOException;

/** The data plane an agent's settings ask for: none without a node certificate, else mTLS streams (wire/). */
final class DataPlanes {
    private DataPlanes() {}

    static DataPlane forSettings(AgentSettings settings) throws IOException {
        if (settings.tlsDir().isEmpty()) return DataPlane.NONE;
        NodeTls tls = NodeTls.load(settings.tlsDir().get());
        if (!tls.node().equals(settings.node())) {
            throw new IOException("the certificate in " + settings.tlsDir().get() + " names node " + tls.node()
                    + ", not this agent's node " + settings.node());
        }
        return new DataPlane() {
            @Override
            public Puller puller(AgentMetrics metrics) {
                TlsPuller.Options defaults = TlsPuller.Options.DEFAULT;
                return new TlsPuller(
                        tls,
                        new TlsPuller.Options(
                                settings.checkpointBytes(),
                                settings.checkpointInterval(),
                                settings.stall(),
                                defaults.connectTimeout(),
                                wireMetrics(metrics),
                                defaults.writeBehindSlots(),
                                defaults.writers()));
            }

            @Override
            public Serving serve(SourceCatalog catalog, RateLimiter rate, AgentMetrics metrics) throws IOException {
                DataServer server = DataServer.start(
                        settings.dataAddress(),
                        tls,
                        catalog,
                        rate,
                        DataServer.Options.DEFAULT.withStall(settings.stall()).withMetrics(wireMetrics(metrics)));
                return new Serving() {
                    @Override
                    public int port() {
                        return server.port();
                    }

                    @Override
                    public void close() {
                        try {
                            server.close();
                        } catch (IOException e) {
                            throw new UncheckedIOException(e);
                        }
                    }
                };
            }
        };
    }

    /** The agent counts resumes itself, when an attempt starts from a checkpoint, for local and remote copies alike. */
    private static WireMetrics wireMetrics(AgentMetrics metrics) {
        return new WireMetrics() {
            @Override
            public void bytes(Role role, Kind kind, long bytes) {
                metrics.moved(
                        role == Role.SOURCE ? AgentMetrics.Role.SOURCE : AgentMetrics.Role.TARGET,
                        kind == Kind.DATA ? AgentMetrics.Kind.DATA : AgentMetrics.Kind.ZERO,
                        bytes);
            }

            @Override
            public void crcError() {
                metrics.crcError();
            }
        };
    }
}
