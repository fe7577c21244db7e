package dev.lockkeeper.certs;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A directory holding a CA and a serving certificate under the Kubernetes TLS Secret names
 * ({@code ca.crt}, {@code tls.crt}, {@code tls.key}) plus {@code ca.key}, so a restart reuses
 * them and the caBundle registered with the API server stays valid.
 */
public final class CertificateDirectory {
    public static final String CA_CERT = "ca.crt";
    public static final String CA_KEY = "ca.key";
    public static final String TLS_CERT = "tls.crt";
    public static final String TLS_KEY = "tls.key";

    /** Keys before certificates: the order {@link #replace} writes them in. */
    private static final List<String> FILES = List.of(CA_KEY, CA_CERT, TLS_KEY, TLS_CERT);

    static final Duration CA_VALIDITY = Duration.ofDays(3650);
    static final Duration SERVING_VALIDITY = Duration.ofDays(365);
    static final Duration RENEW_BEFORE = Duration.ofDays(30);

    private final Path dir;
    private final Clock clock;

    public CertificateDirectory(Path dir, Clock clock) {
        this.dir = dir;
        this.clock = clock;
    }

    public Path caCertificate() {
        return dir.resolve(CA_CERT);
    }

    public Path certificate() {
        return dir.resolve(TLS_CERT);
    }

    public Path privateKey() {
        return dir.resolve(TLS_KEY);
    }

    /** What {@link #ensure} did, so the caller can tell the operator. */
    public enum Outcome {
        REUSED,
        ISSUED_WITH_EXISTING_CA,
        GENERATED
    }

    /** Reuses what is on disk when it is still good for {@code identity}; otherwise (re)issues. */
    public Outcome ensure(ServingIdentity identity) throws IOException {
        Files.createDirectories(dir);
        CertificateAuthority ca = loadUsableCa();
        if (ca != null && servingCertificateUsable(ca, identity)) return Outcome.REUSED;
        Outcome outcome = Outcome.ISSUED_WITH_EXISTING_CA;
        if (ca == null) {
            ca = CertificateAuthority.generate("lockkeeper-ca", CA_VALIDITY, clock);
            writeAtomically(dir.resolve(CA_KEY), Pem.encodePrivateKey(ca.privateKey()), true);
            writeAtomically(dir.resolve(CA_CERT), Pem.encodeCertificate(ca.certificate()), false);
            outcome = Outcome.GENERATED;
        }
        IssuedCertificate serving = ca.issueServing(identity, SERVING_VALIDITY, clock);
        // Key first: a reader that sees the new certificate must never pair it with the old key.
        writeAtomically(privateKey(), Pem.encodePrivateKey(serving.privateKey()), true);
        writeAtomically(certificate(), Pem.encodeCertificate(serving.certificate()), false);
        return outcome;
    }

    /** The four files by name, each as its PEM text; empty when any is missing. What a Secret mirrors. */
    public Map<String, String> contents() throws IOException {
        Map<String, String> contents = new LinkedHashMap<>();
        for (String name : FILES) {
            Path file = dir.resolve(name);
            if (!Files.exists(file)) return Map.of();
            contents.put(name, Files.readString(file, StandardCharsets.US_ASCII));
        }
        return contents;
    }

    /**
     * Puts {@code contents} (all four files, as {@link #contents} gives them) in place of what is here, keys before
     * certificates, so a reader never pairs a new certificate with an old key. Returns false, changing nothing, when
     * a file is missing or the files already hold exactly that.
     */
    public boolean replace(Map<String, String> contents) throws IOException {
        if (!contents.keySet().containsAll(FILES) || contents().equals(contents)) return false;
        Files.createDirectories(dir);
        for (String name : FILES) writeAtomically(dir.resolve(name), contents.get(name), name.endsWith(".key"));
        return true;
    }

    private CertificateAuthority loadUsableCa() throws IOException {
        Path caCert = dir.resolve(CA_CERT), caKey = dir.resolve(CA_KEY);
        if (!Files.exists(caCert) || !Files.exists(caKey)) return null;
        try {
            X509Certificate certificate =
                    Pem.decodeCertificates(Files.readString(caCert)).getFirst();
            PrivateKey key = Pem.decodePrivateKey(Files.readString(caKey));
            if (!validLongEnough(certificate)) return null;
            return new CertificateAuthority(certificate, key);
        } catch (Pem.PemException e) {
            return null;
        }
    }

    private boolean servingCertificateUsable(CertificateAuthority ca, ServingIdentity identity) throws IOException {
        if (!Files.exists(certificate()) || !Files.exists(privateKey())) return false;
        try {
            X509Certificate serving =
                    Pem.decodeCertificates(Files.readString(certificate())).getFirst();
            Pem.decodePrivateKey(Files.readString(privateKey()));
            serving.verify(ca.certificate().getPublicKey());
            return validLongEnough(serving)
                    && subjectAltNames(serving).containsAll(identity.dnsNames())
                    && subjectAltNames(serving).containsAll(identity.ipAddresses());
        } catch (Pem.PemException | GeneralSecurityException e) {
            return false;
        }
    }

    private boolean validLongEnough(X509Certificate certificate) {
        Instant now = clock.instant();
        return certificate.getNotBefore().toInstant().isBefore(now)
                && certificate.getNotAfter().toInstant().isAfter(now.plus(RENEW_BEFORE));
    }

    static Set<String> subjectAltNames(X509Certificate certificate) {
        Set<String> names = new HashSet<>();
        try {
            var sans = certificate.getSubjectAlternativeNames();
            if (sans != null) for (List<?> san : sans) names.add(String.valueOf(san.get(1)));
        } catch (CertificateParsingException e) {
            return Set.of();
        }
        return names;
    }

    /** Readers see the old content or the new, never a torn file; a secret is never readable by others, even briefly. */
    static void writeAtomically(Path target, String content, boolean secret) throws IOException {
        Path temp = Files.createTempFile(target.getParent(), "." + target.getFileName(), ".tmp");
        try {
            if (secret) Files.setPosixFilePermissions(temp, PosixFilePermissions.fromString("rw-------"));
            Files.writeString(temp, content, StandardCharsets.US_ASCII);
            try {
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(temp);
        }
    }
}
