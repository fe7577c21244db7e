package dev.lockkeeper.certs;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;

/** PEM encoding and decoding of certificates and private keys (PKCS#8, SEC1 and PKCS#1 keys are read). */
public final class Pem {
    private Pem() {}

    public static String encodeCertificate(X509Certificate certificate) {
        return write(certificate);
    }

    /** Writes PKCS#8 ("BEGIN PRIVATE KEY"), the form Vert.x, Go and openssl all read. */
    public static String encodePrivateKey(PrivateKey key) {
        try {
            return write(new JcaPKCS8Generator(key, null).generate());
        } catch (IOException e) {
            throw new IllegalStateException("could not encode private key", e);
        }
    }

    /** Writes an X.509 SubjectPublicKeyInfo ("BEGIN PUBLIC KEY"). */
    public static String encodePublicKey(PublicKey key) {
        return write(key);
    }

    public static PublicKey decodePublicKey(String pem) {
        try (PEMParser parser = new PEMParser(new StringReader(pem))) {
            for (Object item = parser.readObject(); item != null; item = parser.readObject()) {
                if (item instanceof SubjectPublicKeyInfo info) return new JcaPEMKeyConverter().getPublicKey(info);
            }
        } catch (IOException e) {
            throw new PemException("not a valid PEM public key: " + e.getMessage(), e);
        }
        throw new PemException("no PUBLIC KEY block found");
    }

    public static List<X509Certificate> decodeCertificates(String pem) {
        List<X509Certificate> certificates = new ArrayList<>();
        try (PEMParser parser = new PEMParser(new StringReader(pem))) {
            for (Object item = parser.readObject(); item != null; item = parser.readObject()) {
                if (item instanceof X509CertificateHolder holder) {
                    certificates.add(new JcaX509CertificateConverter().getCertificate(holder));
                }
            }
        } catch (IOException | CertificateException e) {
            throw new PemException("not a valid PEM certificate: " + e.getMessage(), e);
        }
        if (certificates.isEmpty()) throw new PemException("no CERTIFICATE block found");
        return certificates;
    }

    public static PrivateKey decodePrivateKey(String pem) {
        try (PEMParser parser = new PEMParser(new StringReader(pem))) {
            for (Object item = parser.readObject(); item != null; item = parser.readObject()) {
                var converter = new JcaPEMKeyConverter();
                if (item instanceof PrivateKeyInfo info) return converter.getPrivateKey(info);
                if (item instanceof PEMKeyPair pair)
                    return converter.getKeyPair(pair).getPrivate();
            }
        } catch (IOException e) {
            throw new PemException("not a valid PEM private key: " + e.getMessage(), e);
        }
        throw new PemException("no PRIVATE KEY block found");
    }

    private static String write(Object object) {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
            writer.writeObject(object);
        } catch (IOException e) {
            throw new IllegalStateException("could not write PEM", e);
        }
        return out.toString();
    }

    public static final class PemException extends RuntimeException {
        public PemException(String message) {
            super(message);
        }

        public PemException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
