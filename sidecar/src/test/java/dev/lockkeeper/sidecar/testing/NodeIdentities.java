package dev.lockkeeper.sidecar.testing;

import dev.lockkeeper.certs.CertificateAuthority;
import dev.lockkeeper.certs.NodeCertificates;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;

/** Node certificate directories (tls.crt, tls.key, ca.crt) issued by a test agent CA, as an agent would load them. */
public final class NodeIdentities {
    private final Path root;
    private final CertificateAuthority ca;

    public NodeIdentities(Path root) {
        this.root = root;
        try {
            this.ca = NodeCertificates.agentAuthority(root.resolve("agent-ca"), Duration.ofDays(1), Clock.systemUTC());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The directory holding {@code node}'s certificate from this CA. */
    public Path node(String node) {
        Path dir = root.resolve("node-" + node);
        try {
            NodeCertificates.ensure(dir, ca, node, Clock.systemUTC());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return dir;
    }

    /**
     * Issues {@code node} a new certificate and key in its directory, as a renewal would, with the CA's clock at
     * {@code clock} (a clock in the past issues one that has expired by now).
     */
    public void reissue(String node, Clock clock) {
        Path dir = node(node);
        try {
            java.nio.file.Files.delete(dir.resolve("tls.crt"));
            NodeCertificates.ensure(dir, ca, node, clock);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A directory with a certificate for {@code node} from another CA, trusting only that CA. */
    public Path foreignNode(String node) {
        Path dir = root.resolve("foreign-" + node);
        try {
            CertificateAuthority other =
                    NodeCertificates.agentAuthority(root.resolve("foreign-ca"), Duration.ofDays(1), Clock.systemUTC());
            NodeCertificates.ensure(dir, other, node, Clock.systemUTC());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return dir;
    }
}
