package dev.lockkeeper.webhook.http;

import dev.lockkeeper.certs.Pem;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Arrays;

/**
 * A certificate and key read together from disk and checked to belong together, so a reload
 * never installs a half-rotated pair (Kubernetes swaps Secret volumes by symlink, but a file
 * written in place can be caught mid-write). Only regular files of at most {@link #MAX_FILE_BYTES}
 * are read: opening a FIFO would block the reload forever, and a huge file would fill the heap.
 */
record ServingCertificate(
        byte[] certificatePem, byte[] keyPem, byte[] fingerprint, Instant notBefore, Instant notAfter) {
    /** Far above a serving chain with its intermediates (a few KiB), far below anything that hurts the heap. */
    static final int MAX_FILE_BYTES = 256 * 1024;

    /** A file that is not read at all, with the metric label saying why. */
    static final class RefusedFile extends IOException {
        final String reason;

        RefusedFile(String reason, String message) {
            super(message);
            this.reason = reason;
        }
    }

    static ServingCertificate read(Path certificate, Path key) throws IOException {
        byte[] certificatePem = readBounded(certificate);
        byte[] keyPem = readBounded(key);
        X509Certificate x509 =
                Pem.decodeCertificates(new String(certificatePem)).getFirst();
        PrivateKey privateKey = Pem.decodePrivateKey(new String(keyPem));
        if (!keyMatches(x509, privateKey))
            throw new IOException("private key " + key + " does not match certificate " + certificate);
        return new ServingCertificate(
                certificatePem,
                keyPem,
                digest(certificatePem, keyPem),
                x509.getNotBefore().toInstant(),
                x509.getNotAfter().toInstant());
    }

    /** Why this certificate cannot serve at {@code now} (expired, not yet valid), or null when it can. */
    String validityProblem(Instant now) {
        if (now.isBefore(notBefore)) return "not valid before " + notBefore;
        if (now.isAfter(notAfter)) return "expired at " + notAfter;
        return null;
    }

    boolean sameAs(ServingCertificate other) {
        return other != null && Arrays.equals(fingerprint, other.fingerprint);
    }

    /**
     * The attributes are read through the link (a Secret volume's files are symlinks into a
     * timestamped directory) and checked before the file is opened; the read itself stops one byte
     * past the cap, so a file that grows after the check is still bounded.
     */
    private static byte[] readBounded(Path path) throws IOException {
        BasicFileAttributes attributes = Files.readAttributes(path, BasicFileAttributes.class);
        if (!attributes.isRegularFile()) throw new RefusedFile("not-regular-file", path + " is not a regular file");
        if (attributes.size() > MAX_FILE_BYTES) {
            throw new RefusedFile(
                    "too-large",
                    path + " is " + attributes.size() + " bytes, more than the " + MAX_FILE_BYTES
                            + " a certificate file may have");
        }
        try (InputStream in = Files.newInputStream(path)) {
            byte[] content = in.readNBytes(MAX_FILE_BYTES + 1);
            if (content.length > MAX_FILE_BYTES) {
                throw new RefusedFile(
                        "too-large", path + " grew past the " + MAX_FILE_BYTES + " bytes a certificate file may have");
            }
            return content;
        }
    }

    private static boolean keyMatches(X509Certificate certificate, PrivateKey key) {
        try {
            String algorithm = "EC".equals(key.getAlgorithm()) ? "SHA256withECDSA" : "SHA256withRSA";
            byte[] probe = "lockkeeper-key-check".getBytes();
            Signature signer = Signature.getInstance(algorithm);
            signer.initSign(key);
            signer.update(probe);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(certificate.getPublicKey());
            verifier.update(probe);
            return verifier.verify(signature);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    private static byte[] digest(byte[] first, byte[] second) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(first);
            sha.update(second);
            return sha.digest();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
