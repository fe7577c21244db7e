package dev.lockkeeper.certs.token;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.jca.JCAContext;
import com.nimbusds.jose.util.Base64URL;
import java.io.IOException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.util.Set;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.bouncycastle.crypto.params.Ed25519PublicKeyParameters;
import org.bouncycastle.crypto.signers.Ed25519Signer;
import org.bouncycastle.crypto.util.PrivateKeyFactory;
import org.bouncycastle.crypto.util.PublicKeyFactory;

/**
 * JWS {@code EdDSA} (RFC 8037, Ed25519) for nimbus, computed with BouncyCastle's Ed25519: nimbus's
 * own EdDSA support needs Google Tink, and the JDK's Ed25519 is ~20x slower than BouncyCastle's here.
 */
final class Ed25519Jws {
    private static final Set<JWSAlgorithm> ALGORITHMS = Set.of(JWSAlgorithm.EdDSA);

    private Ed25519Jws() {}

    static boolean isEd25519(java.security.Key key) {
        return "Ed25519".equalsIgnoreCase(key.getAlgorithm()) || "EdDSA".equalsIgnoreCase(key.getAlgorithm());
    }

    static JWSSigner signer(PrivateKey key) {
        Ed25519PrivateKeyParameters parameters;
        try {
            parameters = (Ed25519PrivateKeyParameters) PrivateKeyFactory.createKey(key.getEncoded());
        } catch (IOException | ClassCastException e) {
            throw new IllegalArgumentException("not an Ed25519 private key", e);
        }
        return new JWSSigner() {
            @Override
            public Base64URL sign(JWSHeader header, byte[] signingInput) throws JOSEException {
                if (!JWSAlgorithm.EdDSA.equals(header.getAlgorithm()))
                    throw new JOSEException("only EdDSA is supported");
                Ed25519Signer signer = new Ed25519Signer();
                signer.init(true, parameters);
                signer.update(signingInput, 0, signingInput.length);
                return Base64URL.encode(signer.generateSignature());
            }

            @Override
            public Set<JWSAlgorithm> supportedJWSAlgorithms() {
                return ALGORITHMS;
            }

            @Override
            public JCAContext getJCAContext() {
                return new JCAContext();
            }
        };
    }

    static JWSVerifier verifier(PublicKey key) {
        Ed25519PublicKeyParameters parameters;
        try {
            parameters = (Ed25519PublicKeyParameters) PublicKeyFactory.createKey(key.getEncoded());
        } catch (IOException | ClassCastException e) {
            throw new IllegalArgumentException("not an Ed25519 public key", e);
        }
        return new JWSVerifier() {
            @Override
            public boolean verify(JWSHeader header, byte[] signingInput, Base64URL signature) {
                if (!JWSAlgorithm.EdDSA.equals(header.getAlgorithm())) return false;
                Ed25519Signer verifier = new Ed25519Signer();
                verifier.init(false, parameters);
                verifier.update(signingInput, 0, signingInput.length);
                return verifier.verifySignature(signature.decode());
            }

            @Override
            public Set<JWSAlgorithm> supportedJWSAlgorithms() {
                return ALGORITHMS;
            }

            @Override
            public JCAContext getJCAContext() {
                return new JCAContext();
            }
        };
    }
}
