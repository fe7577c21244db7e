package dev.lockkeeper.certs.token;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.security.PublicKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Checks a clone token before any byte moves, the way CDI's copier does: signature, issuer,
 * validity window with {@value #LEEWAY_SECONDS}s leeway, operation, source, resource and target
 * (and the target UID when the token is bound to one). Every failure is "invalid token".
 */
public final class CloneTokenVerifier {
    public static final long LEEWAY_SECONDS = 10;

    private final JWSVerifier verifier;
    private final JWSAlgorithm algorithm;
    private final Clock clock;

    public CloneTokenVerifier(PublicKey key, Clock clock) {
        this.clock = clock;
        try {
            if (Ed25519Jws.isEd25519(key)) {
                this.verifier = Ed25519Jws.verifier(key);
                this.algorithm = JWSAlgorithm.EdDSA;
            } else if (key instanceof ECPublicKey ec) {
                this.verifier = new ECDSAVerifier(ec);
                this.algorithm = JWSAlgorithm.ES256;
            } else if (key instanceof RSAPublicKey rsa) {
                this.verifier = new RSASSAVerifier(rsa);
                this.algorithm = JWSAlgorithm.PS256;
            } else {
                throw new IllegalArgumentException(
                        "clone token key must be Ed25519, EC P-256 or RSA, got " + key.getAlgorithm());
            }
        } catch (JOSEException e) {
            throw new IllegalArgumentException("unusable clone token key: " + e.getMessage(), e);
        }
    }

    /** What the copier is about to do; the token must grant exactly this. */
    public record ExpectedClone(
            CloneTokenClaims.TokenResource resource,
            String sourceNamespace,
            String sourceName,
            String targetNamespace,
            String targetName,
            String targetUid) {}

    public CloneTokenClaims verify(String token, ExpectedClone expected) throws InvalidCloneTokenException {
        SignedJWT jwt;
        JWTClaimsSet claims;
        try {
            jwt = SignedJWT.parse(token);
            claims = jwt.getJWTClaimsSet();
        } catch (ParseException e) {
            throw new InvalidCloneTokenException("not a JWT: " + e.getMessage());
        }
        if (!algorithm.equals(jwt.getHeader().getAlgorithm())) {
            throw new InvalidCloneTokenException(
                    "algorithm " + jwt.getHeader().getAlgorithm() + " is not " + algorithm);
        }
        try {
            if (!jwt.verify(verifier)) throw new InvalidCloneTokenException("signature does not verify");
        } catch (JOSEException e) {
            throw new InvalidCloneTokenException("signature check failed: " + e.getMessage());
        }
        checkWindow(claims);
        require(CloneTokenSigner.ISSUER.equals(claims.getIssuer()), "issuer " + claims.getIssuer());
        try {
            require(CloneTokenClaims.OPERATION_CLONE.equals(claims.getStringClaim("operation")), "operation");
            require(expected.sourceName().equals(claims.getStringClaim("name")), "source name");
            require(expected.sourceNamespace().equals(claims.getStringClaim("namespace")), "source namespace");
            Map<String, Object> resource = claims.getJSONObjectClaim("resource");
            require(
                    resource != null
                            && expected.resource().group().equals(resource.get("group"))
                            && expected.resource().version().equals(resource.get("version"))
                            && expected.resource().resource().equals(resource.get("resource")),
                    "resource");
            Map<String, Object> rawParams = claims.getJSONObjectClaim("params");
            Map<String, String> params = new HashMap<>();
            if (rawParams != null) rawParams.forEach((k, v) -> params.put(k, Objects.toString(v, "")));
            require(expected.targetNamespace().equals(params.get("targetNamespace")), "target namespace");
            require(expected.targetName().equals(params.get("targetName")), "target name");
            if (params.containsKey("uid")) require(params.get("uid").equals(expected.targetUid()), "target uid");
            return new CloneTokenClaims(
                    claims.getStringClaim("operation"),
                    claims.getStringClaim("name"),
                    claims.getStringClaim("namespace"),
                    expected.resource(),
                    params);
        } catch (ParseException e) {
            throw new InvalidCloneTokenException("malformed claim: " + e.getMessage());
        }
    }

    private void checkWindow(JWTClaimsSet claims) throws InvalidCloneTokenException {
        Instant now = clock.instant();
        Duration leeway = Duration.ofSeconds(LEEWAY_SECONDS);
        Date expires = claims.getExpirationTime();
        Date notBefore = claims.getNotBeforeTime();
        require(expires != null, "no expiry");
        if (now.minus(leeway).isAfter(expires.toInstant()))
            throw new InvalidCloneTokenException("expired at " + expires.toInstant());
        if (notBefore != null && now.plus(leeway).isBefore(notBefore.toInstant())) {
            throw new InvalidCloneTokenException("not valid before " + notBefore.toInstant());
        }
    }

    private static void require(boolean condition, String what) throws InvalidCloneTokenException {
        if (!condition) throw new InvalidCloneTokenException(what + " does not match");
    }
}
