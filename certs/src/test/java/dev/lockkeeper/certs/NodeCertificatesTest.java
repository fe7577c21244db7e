package dev.lockkeeper.certs;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NodeCertificatesTest {
    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

    private static Clock at(Instant instant) {
        return Clock.fixed(instant, ZoneOffset.UTC);
    }

    private static X509Certificate read(Path file) throws Exception {
        return Pem.decodeCertificates(Files.readString(file)).getFirst();
    }

    @Test
    void nodeCertificateNamesTheNodeByItsUriAndServesBothEnds(@TempDir Path dir) throws Exception {
        CertificateAuthority ca = NodeCertificates.agentAuthority(dir.resolve("ca"), Duration.ofDays(365), at(T0));
        assertTrue(NodeCertificates.ensure(dir.resolve("node"), ca, "worker-1", at(T0)));
        X509Certificate cert = read(dir.resolve("node/tls.crt"));
        cert.verify(ca.certificate().getPublicKey());
        assertEquals(Optional.of("worker-1"), NodeCertificates.nodeOf(cert));
        assertEquals(List.of("1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"), cert.getExtendedKeyUsage());
        assertEquals(
                Duration.ofHours(24),
                Duration.between(
                        cert.getNotBefore().toInstant().plus(Duration.ofMinutes(5)),
                        cert.getNotAfter().toInstant()));
        assertEquals(
                "rw-------",
                java.nio.file.attribute.PosixFilePermissions.toString(
                        Files.getPosixFilePermissions(dir.resolve("node/tls.key"))));
        assertEquals(ca.certificate(), read(dir.resolve("node/ca.crt")));
    }

    @Test
    void reusesACurrentCertificateAndRenewsAfterSixteenHours(@TempDir Path dir) throws Exception {
        CertificateAuthority ca = NodeCertificates.agentAuthority(dir.resolve("ca"), Duration.ofDays(365), at(T0));
        Path node = dir.resolve("node");
        NodeCertificates.ensure(node, ca, "worker-1", at(T0));
        X509Certificate first = read(node.resolve("tls.crt"));
        assertFalse(NodeCertificates.ensure(node, ca, "worker-1", at(T0.plus(Duration.ofHours(15)))));
        assertEquals(first, read(node.resolve("tls.crt")));
        assertTrue(NodeCertificates.ensure(node, ca, "worker-1", at(T0.plus(Duration.ofHours(17)))));
        assertNotEquals(first, read(node.resolve("tls.crt")));
    }

    @Test
    void reissuesForAnotherNodeOrAnotherCa(@TempDir Path dir) throws Exception {
        CertificateAuthority ca = NodeCertificates.agentAuthority(dir.resolve("ca"), Duration.ofDays(365), at(T0));
        Path node = dir.resolve("node");
        NodeCertificates.ensure(node, ca, "worker-1", at(T0));
        assertTrue(NodeCertificates.ensure(node, ca, "worker-2", at(T0)));
        assertEquals(Optional.of("worker-2"), NodeCertificates.nodeOf(read(node.resolve("tls.crt"))));
        CertificateAuthority other = CertificateAuthority.generate("other", Duration.ofDays(1), at(T0));
        assertTrue(NodeCertificates.ensure(node, other, "worker-2", at(T0)));
        read(node.resolve("tls.crt")).verify(other.certificate().getPublicKey());
    }

    @Test
    void agentAuthorityIsLoadedBackFromItsFiles(@TempDir Path dir) throws Exception {
        CertificateAuthority ca = NodeCertificates.agentAuthority(dir, Duration.ofDays(365), at(T0));
        assertEquals(
                ca.certificate(),
                NodeCertificates.agentAuthority(dir, Duration.ofDays(365), at(T0))
                        .certificate());
    }

    @Test
    void refusesNamesThatAreNotNodeNames() {
        assertThrows(IllegalArgumentException.class, () -> NodeCertificates.uriOf("../etc"));
        assertThrows(IllegalArgumentException.class, () -> NodeCertificates.uriOf("Node_1"));
        assertEquals("spiffe://lockkeeper.dev/node/a.b-c", NodeCertificates.uriOf("a.b-c"));
    }
}
