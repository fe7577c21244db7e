package dev.lockkeeper.certs.token;

import static org.junit.jupiter.api.Assertions.*;

import com.nimbusds.jose.JWSAlgorithm;
import dev.lockkeeper.certs.KeyPairs;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CloneTokenTest {
    static final Instant MINTED = Instant.parse("2026-11-22T10:00:00Z");
    static final Clock AT_MINT = Clock.fixed(MINTED, ZoneOffset.UTC);
    static final CloneTokenClaims.TokenResource PVCS = CloneTokenClaims.TokenResource.PERSISTENT_VOLUME_CLAIMS;
    static final CloneTokenVerifier.ExpectedClone EXPECTED =
            new CloneTokenVerifier.ExpectedClone(PVCS, "golden", "fedora", "team-a", "disk", "");

    final KeyPair keys = KeyPairs.newEd25519();
    final String token = new CloneTokenSigner(keys.getPrivate(), AT_MINT)
            .sign(CloneTokenClaims.clone(PVCS, "golden", "fedora", "team-a", "disk"));

    @Test
    void carriesUpstreamClaimsAndVerifies() throws Exception {
        String[] parts = token.split("\\.");
        String header = new String(Base64.getUrlDecoder().decode(parts[0]), StandardCharsets.UTF_8);
        String payload = new String(Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8);
        assertEquals("{\"alg\":\"EdDSA\"}", header);
        for (String claim : new String[] {
            "\"iss\":\"cdi-apiserver\"",
            "\"operation\":\"Clone\"",
            "\"name\":\"fedora\"",
            "\"namespace\":\"golden\"",
            "\"targetNamespace\":\"team-a\"",
            "\"targetName\":\"disk\"",
            "\"resource\":\"persistentvolumeclaims\"",
            "\"iat\":" + MINTED.getEpochSecond(),
            "\"nbf\":" + MINTED.getEpochSecond(),
            "\"exp\":" + MINTED.plus(Duration.ofMinutes(5)).getEpochSecond()
        }) {
            assertTrue(payload.contains(claim), claim + " missing from " + payload);
        }
        CloneTokenClaims claims = verifier(AT_MINT).verify(token, EXPECTED);
        assertEquals(Map.of("targetNamespace", "team-a", "targetName", "disk"), claims.params());
    }

    @Test
    void acceptsWithinLeewayAfterExpiry() throws Exception {
        verifier(at(Duration.ofMinutes(5).plusSeconds(9))).verify(token, EXPECTED);
    }

    @Test
    void rejectsExpiredToken() {
        var e = assertThrows(
                InvalidCloneTokenException.class,
                () -> verifier(at(Duration.ofMinutes(5).plusSeconds(11))).verify(token, EXPECTED));
        assertEquals("invalid token", e.getMessage());
        assertTrue(e.detail().contains("expired"), e.detail());
    }

    @Test
    void rejectsTamperedPayload() {
        String[] parts = token.split("\\.");
        String payload =
                new String(Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8).replace("team-a", "team-b");
        String forged = parts[0] + "."
                + Base64.getUrlEncoder().withoutPadding().encodeToString(payload.getBytes(StandardCharsets.UTF_8)) + "."
                + parts[2];
        var e = assertThrows(
                InvalidCloneTokenException.class,
                () -> verifier(AT_MINT)
                        .verify(
                                forged,
                                new CloneTokenVerifier.ExpectedClone(PVCS, "golden", "fedora", "team-b", "disk", "")));
        assertTrue(e.detail().contains("signature"), e.detail());
    }

    @Test
    void rejectsTokenForAnotherTargetOrSource() {
        for (var other : new CloneTokenVerifier.ExpectedClone[] {
            new CloneTokenVerifier.ExpectedClone(PVCS, "golden", "fedora", "team-b", "disk", ""),
            new CloneTokenVerifier.ExpectedClone(PVCS, "golden", "fedora", "team-a", "other-disk", ""),
            new CloneTokenVerifier.ExpectedClone(PVCS, "golden", "centos", "team-a", "disk", ""),
            new CloneTokenVerifier.ExpectedClone(
                    CloneTokenClaims.TokenResource.VOLUME_SNAPSHOTS, "golden", "fedora", "team-a", "disk", "")
        }) {
            assertThrows(
                    InvalidCloneTokenException.class, () -> verifier(AT_MINT).verify(token, other), other.toString());
        }
    }

    @Test
    void rejectsTokenSignedByAnotherKey() {
        String foreign = new CloneTokenSigner(KeyPairs.newEd25519().getPrivate(), AT_MINT)
                .sign(CloneTokenClaims.clone(PVCS, "golden", "fedora", "team-a", "disk"));
        assertThrows(InvalidCloneTokenException.class, () -> verifier(AT_MINT).verify(foreign, EXPECTED));
    }

    @Test
    void rejectsGarbage() {
        var e = assertThrows(
                InvalidCloneTokenException.class, () -> verifier(AT_MINT).verify("not.a.jwt", EXPECTED));
        assertEquals("invalid token", e.getMessage());
    }

    @Test
    void rsaKeysSignPs256LikeUpstream() throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
        generator.initialize(2048);
        KeyPair rsa = generator.generateKeyPair();
        var signer = new CloneTokenSigner(rsa.getPrivate(), AT_MINT);
        assertEquals(JWSAlgorithm.PS256, signer.algorithm());
        String rsaToken = signer.sign(CloneTokenClaims.clone(PVCS, "golden", "fedora", "team-a", "disk"));
        new CloneTokenVerifier(rsa.getPublic(), AT_MINT).verify(rsaToken, EXPECTED);
        assertThrows(
                InvalidCloneTokenException.class,
                () -> verifier(AT_MINT).verify(rsaToken, EXPECTED),
                "an EdDSA verifier must not accept a PS256 token");
    }

    @Test
    void p256KeysSignEs256() throws Exception {
        KeyPair ec = KeyPairs.newP256();
        var signer = new CloneTokenSigner(ec.getPrivate(), AT_MINT);
        assertEquals(JWSAlgorithm.ES256, signer.algorithm());
        String ecToken = signer.sign(CloneTokenClaims.clone(PVCS, "golden", "fedora", "team-a", "disk"));
        new CloneTokenVerifier(ec.getPublic(), AT_MINT).verify(ecToken, EXPECTED);
        assertThrows(InvalidCloneTokenException.class, () -> verifier(AT_MINT).verify(ecToken, EXPECTED));
    }

    @Test
    void rejectsAlgNoneAndAlgorithmSwitching() {
        String[] parts = token.split("\\.");
        String none = Base64.getUrlEncoder()
                .withoutPadding()
                .encodeToString("{\"alg\":\"none\"}".getBytes(StandardCharsets.UTF_8));
        var e = assertThrows(
                InvalidCloneTokenException.class,
                () -> verifier(AT_MINT).verify(none + "." + parts[1] + ".", EXPECTED));
        assertEquals("invalid token", e.getMessage());
    }

    @Test
    void keyFilesAreGeneratedOnceAndReused(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("clone-token.key");
        KeyPair first = TokenKeyFiles.loadOrGenerate(file);
        KeyPair second = TokenKeyFiles.loadOrGenerate(file);
        assertArrayEquals(first.getPublic().getEncoded(), second.getPublic().getEncoded());
        assertEquals(
                "rw-------",
                java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        assertTrue(Files.readString(TokenKeyFiles.publicKeyFile(file)).startsWith("-----BEGIN PUBLIC KEY-----"));
    }

    private CloneTokenVerifier verifier(Clock clock) {
        return new CloneTokenVerifier(keys.getPublic(), clock);
    }

    private static Clock at(Duration afterMint) {
        return Clock.fixed(MINTED.plus(afterMint), ZoneOffset.UTC);
    }
}
