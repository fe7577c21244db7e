package dev.lockkeeper.certs;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CertificateDirectoryTest {
    @TempDir
    Path dir;

    final ServingIdentity identity = new ServingIdentity("lockkeeper-webhook", "lockkeeper");
    final Clock clock = Clock.fixed(Instant.parse("2026-11-22T00:00:00Z"), ZoneOffset.UTC);

    @Test
    void generatesCaAndServingCertificateWithServiceSans() throws Exception {
        var certs = new CertificateDirectory(dir, clock);
        assertEquals(CertificateDirectory.Outcome.GENERATED, certs.ensure(identity));

        X509Certificate ca = read(certs.caCertificate());
        X509Certificate serving = read(certs.certificate());
        serving.verify(ca.getPublicKey());
        assertEquals(
                Set.of(
                        "localhost",
                        "127.0.0.1",
                        "lockkeeper-webhook",
                        "lockkeeper-webhook.lockkeeper",
                        "lockkeeper-webhook.lockkeeper.svc"),
                CertificateDirectory.subjectAltNames(serving));
        assertInstanceOf(ECPublicKey.class, serving.getPublicKey());
        assertEquals(
                "secp256r1",
                ((ECPublicKey) serving.getPublicKey()).getParams().toString().split(" ")[0]);
        assertEquals(-1, serving.getBasicConstraints(), "leaf must not be a CA");
        assertTrue(ca.getBasicConstraints() >= 0, "CA must be a CA");
        assertEquals(
                Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE),
                Files.getPosixFilePermissions(certs.privateKey()));
        assertNotNull(Pem.decodePrivateKey(Files.readString(certs.privateKey())));
    }

    @Test
    void contentsMoveToAnotherDirectoryWhole(@TempDir Path other) throws Exception {
        var source = new CertificateDirectory(dir, clock);
        assertEquals(java.util.Map.of(), source.contents(), "nothing until all four files exist");
        source.ensure(identity);
        var contents = source.contents();
        assertEquals(
                java.util.List.of("ca.key", "ca.crt", "tls.key", "tls.crt"), java.util.List.copyOf(contents.keySet()));

        var copy = new CertificateDirectory(other, clock);
        assertTrue(copy.replace(contents));
        assertEquals(contents, copy.contents());
        assertEquals(CertificateDirectory.Outcome.REUSED, copy.ensure(identity), "a copy is as good as the original");
        assertEquals(
                Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE),
                Files.getPosixFilePermissions(copy.privateKey()));
        assertFalse(copy.replace(contents), "the same contents again change nothing");

        var partial = new java.util.HashMap<>(contents);
        partial.remove("ca.key");
        assertFalse(
                new CertificateDirectory(other.resolve("partial"), clock).replace(partial),
                "an incomplete set is not written");
        assertFalse(Files.exists(other.resolve("partial")));
    }

    @Test
    void reusesValidFilesOnRestart() throws Exception {
        var certs = new CertificateDirectory(dir, clock);
        certs.ensure(identity);
        String before = Files.readString(certs.certificate());
        assertEquals(CertificateDirectory.Outcome.REUSED, new CertificateDirectory(dir, clock).ensure(identity));
        assertEquals(before, Files.readString(certs.certificate()));
    }

    @Test
    void reissuesServingCertificateForANewServiceNameKeepingTheCa() throws Exception {
        var certs = new CertificateDirectory(dir, clock);
        certs.ensure(identity);
        String ca = Files.readString(certs.caCertificate());
        assertEquals(
                CertificateDirectory.Outcome.ISSUED_WITH_EXISTING_CA,
                certs.ensure(new ServingIdentity("other", "lockkeeper")));
        assertEquals(ca, Files.readString(certs.caCertificate()), "caBundle must stay valid");
        assertTrue(
                CertificateDirectory.subjectAltNames(read(certs.certificate())).contains("other.lockkeeper.svc"));
    }

    @Test
    void renewsServingCertificateCloseToExpiry() throws Exception {
        new CertificateDirectory(dir, clock).ensure(identity);
        String before = Files.readString(dir.resolve("tls.crt"));
        Clock later = Clock.offset(clock, CertificateDirectory.SERVING_VALIDITY.minus(Duration.ofDays(10)));
        assertEquals(
                CertificateDirectory.Outcome.ISSUED_WITH_EXISTING_CA,
                new CertificateDirectory(dir, later).ensure(identity));
        assertNotEquals(before, Files.readString(dir.resolve("tls.crt")));
    }

    @Test
    void replacesCorruptFiles() throws Exception {
        Files.writeString(dir.resolve("ca.crt"), "garbage");
        Files.writeString(dir.resolve("ca.key"), "garbage");
        assertEquals(CertificateDirectory.Outcome.GENERATED, new CertificateDirectory(dir, clock).ensure(identity));
        read(dir.resolve("ca.crt"));
    }

    @Test
    void pemRejectsNonPemInputClearly() {
        var e = assertThrows(Pem.PemException.class, () -> Pem.decodeCertificates("hello"));
        assertTrue(e.getMessage().contains("CERTIFICATE"), e.getMessage());
        assertThrows(
                Pem.PemException.class,
                () -> Pem.decodePrivateKey("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"));
    }

    private static X509Certificate read(Path path) throws Exception {
        return Pem.decodeCertificates(Files.readString(path)).getFirst();
    }
}
