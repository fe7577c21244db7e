package dev.lockkeeper.controller.plan;

import static org.junit.jupiter.api.Assertions.*;

import dev.lockkeeper.certs.KeyPairs;
import dev.lockkeeper.certs.token.CloneTokenClaims;
import dev.lockkeeper.certs.token.CloneTokenClaims.TokenResource;
import dev.lockkeeper.certs.token.CloneTokenSigner;
import dev.lockkeeper.controller.api.Json;
import dev.lockkeeper.controller.api.Keys;
import dev.lockkeeper.controller.api.VolumeCopy;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The DataVolume is as datavolume-clone-authorization and datavolume-data-mover leave it (token for golden/fedora →
 * team-a/vm-disk, minted at its creation, 12:00), and its PVC as CDI's external population makes it (dataSourceRef
 * VolumeCopy vm-disk, controlled by the DataVolume).
 */
class DataVolumeAdoptionTest {
    static final Instant CREATED = Instant.parse("2026-12-03T12:00:00Z");
    static final String DV_UID = "d0d0d0d0-0000-4000-8000-000000000001";
    static final String INVALID = "The clone doesn't meet the validation requirements: invalid token";
    static final KeyPair KEYS = KeyPairs.newEd25519();
    final DataVolumeAdoption adoption = new DataVolumeAdoption(new CloneTokenCheck(KEYS.getPublic()));

    static String token(Instant minted, String sourceNs, String sourceName, String targetNs, String targetName) {
        return new CloneTokenSigner(KEYS.getPrivate(), Clock.fixed(minted, ZoneOffset.UTC))
                .sign(CloneTokenClaims.clone(
                        TokenResource.PERSISTENT_VOLUME_CLAIMS, sourceNs, sourceName, targetNs, targetName));
    }

    static final String GOOD_TOKEN = token(CREATED, "golden", "fedora", "team-a", "vm-disk");

    static GenericKubernetesResource dataVolume(Map<String, String> annotations, Map<String, Object> spec) {
        var dv = new GenericKubernetesResource();
        dv.setApiVersion("cdi.kubevirt.io/v1beta1");
        dv.setKind("DataVolume");
        dv.setMetadata(new ObjectMetaBuilder()
                .withName("vm-disk")
                .withNamespace("team-a")
                .withUid(DV_UID)
                .withCreationTimestamp(CREATED.toString())
                .withAnnotations(new HashMap<>(annotations))
                .build());
        dv.setAdditionalProperty("spec", spec);
        return dv;
    }

    static GenericKubernetesResource crossNamespace() {
        return dataVolume(
                Map.of(
                        "lockkeeper.dev/data-mover",
                        "lockkeeper",
                        "lockkeeper.dev/copy-source",
                        "golden/fedora",
                        Keys.CLONE_TOKEN,
                        GOOD_TOKEN),
                Map.of("storage", Map.of()));
    }

    static PersistentVolumeClaim claim(String ownerKind, String ownerName, String ownerUid, boolean controller) {
        return new PersistentVolumeClaimBuilder()
                .withNewMetadata()
                .withName("vm-disk")
                .withNamespace("team-a")
                .withUid("c1c1c1c1-0000-4000-8000-000000000002")
                .withOwnerReferences(new OwnerReferenceBuilder()
                        .withApiVersion("cdi.kubevirt.io/v1beta1")
                        .withKind(ownerKind)
                        .withName(ownerName)
                        .withUid(ownerUid)
                        .withController(controller)
                        .build())
                .endMetadata()
                .withNewSpec()
                .withNewDataSourceRef()
                .withApiGroup(Keys.GROUP)
                .withKind("VolumeCopy")
                .withName("vm-disk")
                .endDataSourceRef()
                .endSpec()
                .build();
    }

    static PersistentVolumeClaim claim() {
        return claim("DataVolume", "vm-disk", DV_UID, true);
    }

    @Test
    void aCrossNamespaceDataVolumeWithItsTokenGetsItsVolumeCopyOwnedByIt() {
        var dv = dataVolume(
                crossNamespace().getMetadata().getAnnotations(),
                Map.of("contentType", "archive", "preallocation", true, "priorityClassName", "vm-critical"));
        var decision = adoption.decide(claim(), Optional.of(dv));
        var create = assertInstanceOf(DataVolumeAdoption.Decision.CreateCopy.class, decision);
        VolumeCopy copy = Json.volumeCopy(create.copy());
        assertEquals(List.of("team-a", "vm-disk"), List.of(copy.namespace(), copy.name()));
        assertEquals(
                new VolumeCopy.PvcSource("golden", "fedora"),
                copy.spec().source().pvc());
        assertEquals("archive", copy.spec().contentType());
        assertEquals(true, copy.spec().preallocation());
        assertEquals("vm-critical", copy.spec().priorityClassName());
        assertEquals(
                Map.of("lockkeeper.dev/authorizing-datavolume", "vm-disk"),
                copy.metadata().getAnnotations());
        var owner = copy.metadata().getOwnerReferences().getFirst();
        assertEquals(
                List.of("cdi.kubevirt.io/v1beta1", "DataVolume", "vm-disk", DV_UID, true),
                List.of(
                        owner.getApiVersion(),
                        owner.getKind(),
                        owner.getName(),
                        owner.getUid(),
                        owner.getController()));
        assertEquals(1, copy.metadata().getOwnerReferences().size());
        assertEquals(List.of(new Action.Create(create.copy())), DataVolumeAdoption.actions(decision));
        assertEquals(VolumeCopy.KIND, create.copy().getKind(), "the shell creates it as a VolumeCopy, not a CopyTask");
    }

    @Test
    void aSameNamespaceDataVolumeNeedsNoTokenAndCdiDefaultsAreLeftToTheCopy() {
        var dv = dataVolume(
                Map.of("lockkeeper.dev/data-mover", "lockkeeper", "lockkeeper.dev/copy-source", "team-a/fedora"),
                Map.of("storage", Map.of()));
        var create = assertInstanceOf(
                DataVolumeAdoption.Decision.CreateCopy.class, adoption.decide(claim(), Optional.of(dv)));
        VolumeCopy copy = Json.volumeCopy(create.copy());
        assertEquals(
                new VolumeCopy.PvcSource("team-a", "fedora"),
                copy.spec().source().pvc());
        assertEquals("kubevirt", copy.spec().effectiveContentType());
        assertFalse(copy.spec().effectivePreallocation());
    }

    static Stream<Arguments> notOurs() {
        Consumer<GenericKubernetesResource> none = dv -> {};
        return Stream.of(
                Arguments.of("owned by something else", claim("VirtualMachine", "vm-disk", DV_UID, true), none),
                Arguments.of("owned by another DataVolume", claim("DataVolume", "other", DV_UID, true), none),
                Arguments.of(
                        "the DataVolume is not its controller", claim("DataVolume", "vm-disk", DV_UID, false), none),
                Arguments.of(
                        "a DataVolume of the same name but another UID", claim(), (Consumer<GenericKubernetesResource>)
                                dv -> dv.getMetadata().setUid("d0d0d0d0-0000-4000-8000-000000000009")),
                Arguments.of("not opted in", claim(), (Consumer<GenericKubernetesResource>)
                        dv -> dv.getMetadata().getAnnotations().remove("lockkeeper.dev/data-mover")),
                Arguments.of("opted in to another mover", claim(), (Consumer<GenericKubernetesResource>)
                        dv -> dv.getMetadata().getAnnotations().put("lockkeeper.dev/data-mover", "cdi")),
                Arguments.of("being deleted", claim(), (Consumer<GenericKubernetesResource>) dv -> dv.getMetadata()
                        .setDeletionTimestamp(CREATED.plusSeconds(60).toString())),
                Arguments.of("a copy under way whose VolumeCopy went", withFinalizer(), none),
                Arguments.of("a copy done whose VolumeCopy went", succeeded(), none));
    }

    static PersistentVolumeClaim withFinalizer() {
        var claim = claim();
        claim.getMetadata().setFinalizers(List.of(Keys.FINALIZER));
        return claim;
    }

    static PersistentVolumeClaim succeeded() {
        var claim = claim();
        claim.getMetadata().setAnnotations(Map.of(Keys.CLONE_PHASE, "Succeeded"));
        return claim;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("notOurs")
    void noCopyIsMadeForAClaimThatIsNotAnOptedInDataVolumes(
            String name, PersistentVolumeClaim claim, Consumer<GenericKubernetesResource> edit) {
        var dv = crossNamespace();
        edit.accept(dv);
        var decision = adoption.decide(claim, Optional.of(dv));
        assertEquals(new DataVolumeAdoption.Decision.NotOurs(), decision);
        assertEquals(List.of(), DataVolumeAdoption.actions(decision));
    }

    @Test
    void aDataVolumeThatIsGoneMakesNoCopy() {
        assertEquals(new DataVolumeAdoption.Decision.NotOurs(), adoption.decide(claim(), Optional.empty()));
    }

    static Stream<Arguments> refusals() {
        return Stream.of(
                Arguments.of(
                        "no token",
                        Map.of("lockkeeper.dev/copy-source", "golden/fedora"),
                        "The clone doesn't meet the validation requirements: clone token missing",
                        "clone token missing"),
                Arguments.of(
                        "a copy-source edited after admission",
                        Map.of("lockkeeper.dev/copy-source", "golden/secrets", Keys.CLONE_TOKEN, GOOD_TOKEN),
                        INVALID,
                        "source name does not match"),
                Arguments.of(
                        "a copy-source moved to another namespace",
                        Map.of("lockkeeper.dev/copy-source", "finance/fedora", Keys.CLONE_TOKEN, GOOD_TOKEN),
                        INVALID,
                        "source namespace does not match"),
                Arguments.of(
                        "the token of another DataVolume",
                        Map.of(
                                "lockkeeper.dev/copy-source",
                                "golden/fedora",
                                Keys.CLONE_TOKEN,
                                token(CREATED, "golden", "fedora", "team-a", "other-disk")),
                        INVALID,
                        "target name does not match"),
                Arguments.of(
                        "a token that had expired when the DataVolume was created",
                        Map.of(
                                "lockkeeper.dev/copy-source",
                                "golden/fedora",
                                Keys.CLONE_TOKEN,
                                token(CREATED.minusSeconds(6 * 60), "golden", "fedora", "team-a", "vm-disk")),
                        INVALID,
                        "expired at 2026-12-03T11:59:00Z"),
                Arguments.of(
                        "a copy-source that is no namespace/name",
                        Map.of("lockkeeper.dev/copy-source", "golden/fedora/../x", Keys.CLONE_TOKEN, GOOD_TOKEN),
                        "The clone doesn't meet the validation requirements: DataVolume team-a/vm-disk has no valid"
                                + " lockkeeper.dev/copy-source (namespace/name): golden/fedora/../x",
                        "has no valid"),
                Arguments.of(
                        "no copy-source",
                        Map.of(Keys.CLONE_TOKEN, GOOD_TOKEN),
                        "The clone doesn't meet the validation requirements: DataVolume team-a/vm-disk has no valid"
                                + " lockkeeper.dev/copy-source (namespace/name): null",
                        "has no valid"));
    }

    @Test
    void aContentTypeTheVolumeCopyCannotHoldIsRefusedWithCdisMessage() {
        var dv = dataVolume(crossNamespace().getMetadata().getAnnotations(), Map.of("contentType", "iso"));
        assertEquals(
                List.of(Action.Emit.warning(
                        "CloneValidationFailed",
                        "The clone doesn't meet the validation requirements: ContentType not one of: kubevirt,"
                                + " archive")),
                DataVolumeAdoption.actions(adoption.decide(claim(), Optional.of(dv))));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("refusals")
    void aDataVolumeWhoseTokenDoesNotGrantItsCopyGetsNoneAndCdisEvent(
            String name, Map<String, String> annotations, String message, String detail) {
        Map<String, String> all = new HashMap<>(annotations);
        all.put("lockkeeper.dev/data-mover", "lockkeeper");
        var decision = adoption.decide(claim(), Optional.of(dataVolume(all, Map.of())));
        var refused = assertInstanceOf(DataVolumeAdoption.Decision.Refused.class, decision);
        assertEquals(
                List.of(Action.Emit.warning("CloneValidationFailed", message)), DataVolumeAdoption.actions(decision));
        assertTrue(refused.detail().contains(detail), refused.detail());
    }
}
