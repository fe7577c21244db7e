package dev.lockkeeper.webhook.http;

import dev.lockkeeper.certs.Pem;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.Signature;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.Arrays;

/**
 * A certificate and key read together from disk and checked to belong together, so a reload
 * never installs a half-rotated pair (Kubernetes swaps Secret volumes by symlink, but a file
 * written in place can be caught mid-write).
 */
record ServingCertificate(byte[] certificatePem, byte[] keyPem, byte[] fingerprint) {

    static ServingCertificate read(Path certificate, Path key) throws IOException {
        byte[] certificatePem = Files.readAllBytes(certificate);
        byte[] keyPem = Files.readAllBytes(key);
        X509Certificate x509 = Pem.decodeCertificates(new String(certificatePem)).getFirst();
        PrivateKey privateKey = Pem.decodePrivateKey(new String(keyPem));
        if (!keyMatches(x509, privateKey)) throw new IOException("private key " + key + " does not match certificate " + certificate);
        return new ServingCertificate(certificatePem, keyPem, digest(certificatePem, keyPem));
    }

    boolean sameAs(ServingCertificate other) {
        return other != null && Arrays.equals(fingerprint, other.fingerprint);
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
