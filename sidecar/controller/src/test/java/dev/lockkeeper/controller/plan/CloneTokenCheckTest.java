package dev.lockkeeper.controller.plan;

import static org.junit.jupiter.api.Assertions.*;

import dev.lockkeeper.certs.KeyPairs;
import dev.lockkeeper.certs.token.CloneTokenClaims;
import dev.lockkeeper.certs.token.CloneTokenClaims.TokenResource;
import dev.lockkeeper.certs.token.CloneTokenSigner;
import dev.lockkeeper.controller.api.Keys;
import dev.lockkeeper.controller.api.VolumeCopy;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The token is judged at the VolumeCopy's creationTimestamp (17:00 in {@link World#copy}), never at "now".
 * Claims as CDI's {@code validateTokenData} (pkg/controller/common/util.go) checks them.
 */
class CloneTokenCheckTest {
    static final Instant CREATED = Instant.parse("2026-12-02T17:00:00Z");
    final KeyPair webhookKeys = KeyPairs.newEd25519();
    final CloneTokenCheck check = new CloneTokenCheck(webhookKeys.getPublic());

    String token(Instant mintedAt, String sourceNs, String sourceName, String targetNs, String targetName) {
        return new CloneTokenSigner(webhookKeys.getPrivate(), Clock.fixed(mintedAt, ZoneOffset.UTC))
                .sign(CloneTokenClaims.clone(
                        TokenResource.PERSISTENT_VOLUME_CLAIMS, sourceNs, sourceName, targetNs, targetName));
    }

    TokenVerdict verdict(String token) {
        return check.check(World.copy("golden-images", token));
    }

    @Test
    void aTokenMintedAtAdmissionIsValidLongAfterItsExpiry() {
        // the reconcile happens hours later; the token expired at 17:05 but the object was created at 17:00
        assertEquals(
                new TokenVerdict.Valid(),
                verdict(token(CREATED.minusSeconds(1), "golden-images", "win11", "alice", "win11-copy")));
    }

    @Test
    void aTokenAlreadyExpiredWhenTheObjectWasCreatedIsRefused() {
        var verdict = verdict(token(CREATED.minusSeconds(6 * 60), "golden-images", "win11", "alice", "win11-copy"));
        assertTrue(
                verdict instanceof TokenVerdict.Invalid i && i.detail().startsWith("expired at"), verdict.toString());
    }

    @Test
    void aTokenForAnotherTargetOrSourceIsRefused() {
        assertEquals(
                new TokenVerdict.Invalid("target name does not match"),
                verdict(token(CREATED, "golden-images", "win11", "alice", "other-copy")));
        assertEquals(
                new TokenVerdict.Invalid("target namespace does not match"),
                verdict(token(CREATED, "golden-images", "win11", "bob", "win11-copy")));
        assertEquals(
                new TokenVerdict.Invalid("source name does not match"),
                verdict(token(CREATED, "golden-images", "win10", "alice", "win11-copy")));
    }

    @Test
    void aTamperedOrForeignTokenIsRefused() {
        String good = token(CREATED, "golden-images", "win11", "alice", "win11-copy");
        String[] parts = good.split("\\.");
        String payload =
                new String(java.util.Base64.getUrlDecoder().decode(parts[1])).replace("win11-copy", "win11-copz");
        String tampered = parts[0] + "."
                + java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(payload.getBytes()) + "." + parts[2];
        assertEquals(new TokenVerdict.Invalid("signature does not verify"), verdict(tampered));
        String foreign = new CloneTokenSigner(KeyPairs.newEd25519().getPrivate(), Clock.fixed(CREATED, ZoneOffset.UTC))
                .sign(CloneTokenClaims.clone(
                        TokenResource.PERSISTENT_VOLUME_CLAIMS, "golden-images", "win11", "alice", "win11-copy"));
        assertEquals(new TokenVerdict.Invalid("signature does not verify"), verdict(foreign));
        assertTrue(verdict("not.a.jwt") instanceof TokenVerdict.Invalid);
    }

    @Test
    void aMissingTokenIsRefusedAndSameNamespaceNeedsNone() {
        assertEquals(new TokenVerdict.Invalid("clone token missing"), verdict(null));
        assertEquals(new TokenVerdict.NotRequired(), check.check(World.copy("alice", null)));
        assertEquals(
                new TokenVerdict.NotRequired(),
                check.check(World.copy(null, null)),
                "no namespace means the copy's own");
    }

    @Test
    void aTokenBoundToAnotherUidIsRefused() {
        var claims = new CloneTokenClaims(
                "Clone",
                "win11",
                "golden-images",
                TokenResource.PERSISTENT_VOLUME_CLAIMS,
                Map.of(
                        "targetNamespace",
                        "alice",
                        "targetName",
                        "win11-copy",
                        "uid",
                        "00000000-0000-4000-8000-000000000000"));
        String token =
                new CloneTokenSigner(webhookKeys.getPrivate(), Clock.fixed(CREATED, ZoneOffset.UTC)).sign(claims);
        assertEquals(new TokenVerdict.Invalid("target uid does not match"), verdict(token));
    }

    @Test
    void withoutACreationTimestampThereIsNothingToJudgeBy() {
        VolumeCopy copy = World.copy("golden-images", token(CREATED, "golden-images", "win11", "alice", "win11-copy"));
        copy.metadata().setCreationTimestamp(null);
        assertTrue(check.check(copy) instanceof TokenVerdict.Invalid);
    }

    /** The DataVolume win11-copy in alice, created at 17:00 with the token its creation minted. */
    static GenericKubernetesResource dataVolume(String token) {
        var dv = new GenericKubernetesResource();
        dv.setApiVersion("cdi.kubevirt.io/v1beta1");
        dv.setKind("DataVolume");
        dv.setMetadata(new ObjectMetaBuilder()
                .withName("win11-copy")
                .withNamespace("alice")
                .withUid("d0d0d0d0-0000-4000-8000-000000000001")
                .withCreationTimestamp(CREATED.toString())
                .withAnnotations(token == null ? Map.of() : Map.of(Keys.CLONE_TOKEN, token))
                .build());
        return dv;
    }

    /** A copy the controller made for {@link #dataVolume}: no token of its own, owned by it, made an hour later. */
    static VolumeCopy madeFor(String sourceNamespace, String ownerUid) {
        VolumeCopy copy = World.copy(sourceNamespace, null);
        copy.metadata().setAnnotations(Map.of(DataVolumeAdoption.AUTHORIZING_DATA_VOLUME, "win11-copy"));
        copy.metadata().setCreationTimestamp(CREATED.plusSeconds(3600).toString());
        copy.metadata()
                .setOwnerReferences(List.of(new OwnerReferenceBuilder()
                        .withApiVersion("cdi.kubevirt.io/v1beta1")
                        .withKind("DataVolume")
                        .withName("win11-copy")
                        .withUid(ownerUid)
                        .withController(true)
                        .build()));
        return copy;
    }

    static final String DV_UID = "d0d0d0d0-0000-4000-8000-000000000001";

    @Test
    void aCopyMadeForADataVolumeIsJudgedByTheDataVolumesTokenAtItsCreation() {
        String token = token(CREATED.minusSeconds(1), "golden-images", "win11", "alice", "win11-copy");
        assertEquals(
                new TokenVerdict.Valid(),
                check.check(madeFor("golden-images", DV_UID), Optional.of(dataVolume(token))),
                "the copy was made after the token expired, the DataVolume before");
        assertEquals(
                new TokenVerdict.Invalid("clone token missing"),
                check.check(madeFor("golden-images", DV_UID), Optional.of(dataVolume(null))));
        assertEquals(
                new TokenVerdict.Invalid("source name does not match"),
                check.check(
                        madeFor("golden-images", DV_UID),
                        Optional.of(dataVolume(token(CREATED, "golden-images", "win10", "alice", "win11-copy")))));
        assertEquals(
                new TokenVerdict.NotRequired(),
                check.check(madeFor("alice", DV_UID), Optional.empty()),
                "same namespace");
    }

    @Test
    void aDataVolumesTokenAuthorizesOnlyACopyItControls() {
        var dv = Optional.of(dataVolume(token(CREATED, "golden-images", "win11", "alice", "win11-copy")));
        assertEquals(
                new TokenVerdict.Invalid("DataVolume alice/win11-copy was not found"),
                check.check(madeFor("golden-images", DV_UID), Optional.empty()));
        assertEquals(
                new TokenVerdict.Invalid("the VolumeCopy is not controlled by DataVolume alice/win11-copy"),
                check.check(madeFor("golden-images", "d0d0d0d0-0000-4000-8000-000000000009"), dv),
                "a DataVolume of that name recreated since");
        VolumeCopy unowned = madeFor("golden-images", DV_UID);
        unowned.metadata().setOwnerReferences(null);
        assertEquals(
                new TokenVerdict.Invalid("the VolumeCopy is not controlled by DataVolume alice/win11-copy"),
                check.check(unowned, dv));
    }

    @Test
    void aCopyNamingNoDataVolumeIsJudgedByItsOwnToken() {
        var dv = Optional.of(dataVolume(token(CREATED, "golden-images", "win11", "alice", "win11-copy")));
        assertEquals(
                new TokenVerdict.Invalid("clone token missing"), check.check(World.copy("golden-images", null), dv));
    }
}
