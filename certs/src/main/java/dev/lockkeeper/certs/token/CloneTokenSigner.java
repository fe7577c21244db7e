package dev.lockkeeper.certs.token;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.security.PrivateKey;
import java.security.interfaces.ECPrivateKey;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;

/**
 * Mints CDI-compatible clone tokens. The key decides the algorithm: Ed25519 (the default) signs
 * EdDSA, EC P-256 signs ES256, RSA signs PS256 like upstream. Measured per token on the 2-core
 * machine (bench/webhook.sh): EdDSA ~60 us, ES256 ~290 us, PS256 ~1.7 ms; PS256 alone would eat a
 * core at 600 clones/s. Only Lockkeeper's own data mover verifies these tokens, so EdDSA is safe.
 */
public final class CloneTokenSigner {
    public static final String ISSUER = "cdi-apiserver";
    public static final Duration LIFETIME = Duration.ofMinutes(5);

    private final JWSSigner signer;
    private final JWSAlgorithm algorithm;
    private final Clock clock;

    public CloneTokenSigner(PrivateKey key, Clock clock) {
        this.clock = clock;
        try {
            if (Ed25519Jws.isEd25519(key)) {
                this.signer = Ed25519Jws.signer(key);
                this.algorithm = JWSAlgorithm.EdDSA;
            } else if (key instanceof ECPrivateKey ec) {
                this.signer = new ECDSASigner(ec);
                this.algorithm = JWSAlgorithm.ES256;
            } else if ("RSA".equals(key.getAlgorithm())) {
                this.signer = new RSASSASigner(key);
                this.algorithm = JWSAlgorithm.PS256;
            } else {
                throw new IllegalArgumentException(
                        "clone token key must be Ed25519, EC P-256 or RSA, got " + key.getAlgorithm());
            }
        } catch (JOSEException e) {
            throw new IllegalArgumentException("unusable clone token key: " + e.getMessage(), e);
        }
    }

    public JWSAlgorithm algorithm() {
        return algorithm;
    }

    public String sign(CloneTokenClaims claims) {
        Instant now = clock.instant();
        JWTClaimsSet set = new JWTClaimsSet.Builder()
                .issuer(ISSUER)
                .issueTime(Date.from(now))
                .notBeforeTime(Date.from(now))
                .expirationTime(Date.from(now.plus(LIFETIME)))
                .claim("operation", claims.operation())
                .claim("name", claims.name())
                .claim("namespace", claims.namespace())
                .claim("resource", claims.resource().toClaim())
                .claim("params", claims.params())
                .build();
        SignedJWT jwt = new SignedJWT(new JWSHeader(algorithm), set);
        try {
            jwt.sign(signer);
        } catch (JOSEException e) {
            throw new IllegalStateException("signing clone token failed", e);
        }
        return jwt.serialize();
    }
}
