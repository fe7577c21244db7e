package dev.lockkeeper.certs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Node agents' identities: an agent CA, and per node a certificate naming the node by the SAN URI
 * {@code spiffe://lockkeeper.dev/node/<node>}, kept in a directory under the Kubernetes TLS Secret names
 * ({@code tls.crt}, {@code tls.key}, {@code ca.crt}) that the sidecar's data plane loads. Issued from files for now;
 * the orchestration step issues them through the Kubernetes CSR API instead.
 */
public final class NodeCertificates {
    public static final String URI_PREFIX = "spiffe://lockkeeper.dev/node/";
    public static final String AGENT_CA_NAME = "lockkeeper-agent-ca";
    /** 24 h, renewed at 16 h (two thirds of the way), as node-agent.md §3.3 plans for CSR-issued certificates. */
    public static final Duration NODE_VALIDITY = Duration.ofHours(24);

    public static final Duration RENEW_AFTER = Duration.ofHours(16);
    private static final int URI_NAME = 6;

    private NodeCertificates() {}

    public static String uriOf(String node) {
        if (node == null || !node.matches("[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?")) {
            throw new IllegalArgumentException("not a Kubernetes node name (DNS-1123 subdomain): " + node);
        }
        return URI_PREFIX + node;
    }

    /** The node a certificate names, when it carries exactly one node URI. */
    public static Optional<String> nodeOf(X509Certificate certificate) {
        try {
            var names = certificate.getSubjectAlternativeNames();
            if (names == null) return Optional.empty();
            List<String> nodes = names.stream()
                    .filter(n -> (Integer) n.get(0) == URI_NAME
                            && String.valueOf(n.get(1)).startsWith(URI_PREFIX))
                    .map(n -> String.valueOf(n.get(1)).substring(URI_PREFIX.length()))
                    .toList();
            return nodes.size() == 1 ? Optional.of(nodes.getFirst()) : Optional.empty();
        } catch (CertificateParsingException e) {
            return Optional.empty();
        }
    }

    /** The agent CA kept as {@code ca.crt} and {@code ca.key} in {@code dir}, generated on first use. */
    public static CertificateAuthority agentAuthority(Path dir, Duration validity, Clock clock) throws IOException {
        Path cert = dir.resolve(CertificateDirectory.CA_CERT), key = dir.resolve(CertificateDirectory.CA_KEY);
        if (Files.exists(cert) && Files.exists(key)) {
            return new CertificateAuthority(
                    Pem.decodeCertificates(Files.readString(cert)).getFirst(),
                    Pem.decodePrivateKey(Files.readString(key)));
        }
        Files.createDirectories(dir);
        CertificateAuthority ca = CertificateAuthority.generate(AGENT_CA_NAME, validity, clock);
        CertificateDirectory.writeAtomically(key, Pem.encodePrivateKey(ca.privateKey()), true);
        CertificateDirectory.writeAtomically(cert, Pem.encodeCertificate(ca.certificate()), false);
        return ca;
    }

    /**
     * Makes {@code dir} hold a current certificate for {@code node} signed by {@code ca}: reuses the one there while
     * it is signed by this CA, names this node and is younger than {@link #RENEW_AFTER}; otherwise issues a new one.
     * Returns true when it issued.
     */
    public static boolean ensure(Path dir, CertificateAuthority ca, String node, Clock clock) throws IOException {
        if (current(dir, ca, node, clock)) return false;
        Files.createDirectories(dir);
        IssuedCertificate issued = ca.issueNode(node, NODE_VALIDITY, clock);
        // the CA first, then the key before its certificate: a reader never pairs a new certificate with an old key
        CertificateDirectory.writeAtomically(
                dir.resolve(CertificateDirectory.CA_CERT), Pem.encodeCertificate(ca.certificate()), false);
        CertificateDirectory.writeAtomically(
                dir.resolve(CertificateDirectory.TLS_KEY), Pem.encodePrivateKey(issued.privateKey()), true);
        CertificateDirectory.writeAtomically(
                dir.resolve(CertificateDirectory.TLS_CERT), Pem.encodeCertificate(issued.certificate()), false);
        return true;
    }

    private static boolean current(Path dir, CertificateAuthority ca, String node, Clock clock) throws IOException {
        Path cert = dir.resolve(CertificateDirectory.TLS_CERT), key = dir.resolve(CertificateDirectory.TLS_KEY);
        if (!Files.exists(cert) || !Files.exists(key) || !Files.exists(dir.resolve(CertificateDirectory.CA_CERT)))
            return false;
        try {
            X509Certificate existing =
                    Pem.decodeCertificates(Files.readString(cert)).getFirst();
            Pem.decodePrivateKey(Files.readString(key));
            existing.verify(ca.certificate().getPublicKey());
            Instant now = clock.instant();
            Instant renewAt = existing.getNotBefore().toInstant().plus(RENEW_AFTER);
            return nodeOf(existing).equals(Optional.of(node))
                    && now.isBefore(renewAt)
                    && now.isBefore(existing.getNotAfter().toInstant());
        } catch (Pem.PemException | GeneralSecurityException e) {
            return false;
        }
    }
}
