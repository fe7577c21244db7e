package dev.lockkeeper.webhook.rules.copy;

import static dev.lockkeeper.webhook.rules.copy.CopyFixtures.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.lockkeeper.certs.KeyPairs;
import dev.lockkeeper.certs.token.CloneTokenClaims.TokenResource;
import dev.lockkeeper.certs.token.CloneTokenSigner;
import dev.lockkeeper.certs.token.CloneTokenVerifier;
import dev.lockkeeper.certs.token.InvalidCloneTokenException;
import dev.lockkeeper.webhook.admission.AdmissionChain;
import dev.lockkeeper.webhook.admission.AdmissionRequest;
import dev.lockkeeper.webhook.admission.Cause;
import dev.lockkeeper.webhook.admission.Decision;
import dev.lockkeeper.webhook.admission.Operation;
import dev.lockkeeper.webhook.cluster.AccessReview;
import dev.lockkeeper.webhook.rules.Rulebook;
import dev.lockkeeper.webhook.rules.clone.CloneAuthorizer;
import dev.lockkeeper.webhook.support.TestCluster;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class VolumeCopyCloneAuthorizationTest {
    static final Instant MINTED = Instant.parse("2026-12-03T12:00:00Z");
    static final String TOKEN_PATH = "/metadata/annotations/cdi.kubevirt.io~1storage.clone.token";
    static final String GOLDEN_PVC = """
            apiVersion: v1
            kind: PersistentVolumeClaim
            metadata: {name: fedora-40, namespace: golden-images}
            spec: {resources: {requests: {storage: 10Gi}}}
            """;
    static final String CROSS_NAMESPACE = """
            apiVersion: lockkeeper.dev/v1alpha1
            kind: VolumeCopy
            metadata: {name: fedora-copy, namespace: team-a}
            spec: {source: {pvc: {namespace: golden-images, name: fedora-40}}}
            """;
    static final String DENIED = "User alice has insufficient permissions in clone source namespace golden-images. "
            + "Missing in namespace golden-images: \"create\" on datavolumes/source (cdi.kubevirt.io) named \"fedora-40\", "
            + "or \"create\" on pods. Grant it with: kubectl create rolebinding clone-source-alice "
            + "--namespace=golden-images --clusterrole=lockkeeper:clone-source --user=alice";

    final KeyPair keys = KeyPairs.newEd25519();

    Decision mutate(TestCluster cluster, AdmissionRequest request) {
        return run(
                AdmissionChain.Stage.MUTATING,
                Rulebook.mutating(
                        new CloneAuthorizer(Rulebook.DEFAULT_CLONE_SOURCE_ROLE),
                        new CloneTokenSigner(keys.getPrivate(), Clock.fixed(MINTED, ZoneOffset.UTC))),
                cluster,
                request);
    }

    static AdmissionRequest create(String yaml) {
        return volumeCopy(Operation.CREATE, yaml, null, ALICE);
    }

    static String withAnnotations(String yaml, String annotations) {
        return yaml.replace(
                "metadata: {name: fedora-copy, namespace: team-a}",
                "metadata: {name: fedora-copy, namespace: team-a, annotations: {" + annotations + "}}");
    }

    /** What the controller's CloneTokenCheck asks of a token: these claims, valid at the copy's creationTimestamp. */
    void assertControllerAccepts(String token, String targetNamespace, String targetName) throws Exception {
        new CloneTokenVerifier(keys.getPublic(), Clock.fixed(MINTED.plusSeconds(1), ZoneOffset.UTC))
                .verify(
                        token,
                        new CloneTokenVerifier.ExpectedClone(
                                TokenResource.PERSISTENT_VOLUME_CLAIMS,
                                "golden-images",
                                "fedora-40",
                                targetNamespace,
                                targetName,
                                "3f0b6c52-9a0e-4a43-8f8e-1c2d3e4f5a6b"));
    }

    @Test
    void anAuthorizedCrossNamespaceCopyGetsATokenTheControllerAccepts() throws Exception {
        Decision decision = mutate(TestCluster.with(GOLDEN_PVC).grant("datavolumes/source"), create(CROSS_NAMESPACE));
        assertTrue(decision.allowed());
        assertEquals(1, decision.patch().size(), decision.patch().toString());
        assertEquals("add", decision.patch().get(0).path("op").asText());
        assertEquals(
                "/metadata/annotations", decision.patch().get(0).path("path").asText());
        String token = decision.patch()
                .get(0)
                .path("value")
                .path("cdi.kubevirt.io/storage.clone.token")
                .asText();
        assertControllerAccepts(token, "team-a", "fedora-copy");
        assertThrows(
                InvalidCloneTokenException.class,
                () -> assertControllerAccepts(token, "team-a", "other-copy"),
                "bound to this copy's name");
        assertThrows(
                InvalidCloneTokenException.class,
                () -> assertControllerAccepts(token, "team-b", "fedora-copy"),
                "bound to this copy's namespace");
    }

    @Test
    void permissionIsAskedAsCdiAsksItForAPvcClone() {
        TestCluster cluster = TestCluster.with(GOLDEN_PVC).grant("pods");
        assertTrue(mutate(cluster, create(CROSS_NAMESPACE)).patched());
        assertEquals(
                List.of(
                        new AccessReview(
                                "alice",
                                List.of("system:authenticated"),
                                Map.of(),
                                "golden-images",
                                "create",
                                "cdi.kubevirt.io",
                                "datavolumes",
                                "source",
                                "fedora-40"),
                        new AccessReview(
                                "alice",
                                List.of("system:authenticated"),
                                Map.of(),
                                "golden-images",
                                "create",
                                "",
                                "pods",
                                "",
                                "fedora-40")),
                cluster.reviews());
    }

    static Stream<Arguments> refusals() {
        return Stream.of(
                Arguments.of(
                        "no permission in the source namespace",
                        TestCluster.with(GOLDEN_PVC),
                        CROSS_NAMESPACE,
                        403,
                        DENIED,
                        new Cause("FieldValueForbidden", "spec.source.pvc.namespace", DENIED)),
                Arguments.of(
                        "permission in an unknown namespace",
                        TestCluster.with().grant("datavolumes/source"),
                        CROSS_NAMESPACE.replace("golden-images", "nowhere"),
                        422,
                        "namespaces \"nowhere\" not found",
                        new Cause(
                                "FieldValueNotFound", "spec.source.pvc.namespace", "namespaces \"nowhere\" not found")),
                Arguments.of(
                        "an unknown namespace, to someone who may not clone from it",
                        TestCluster.with(),
                        CROSS_NAMESPACE.replace("golden-images", "nowhere"),
                        403,
                        DENIED.replace("golden-images", "nowhere"),
                        new Cause(
                                "FieldValueForbidden",
                                "spec.source.pvc.namespace",
                                DENIED.replace("golden-images", "nowhere"))),
                Arguments.of(
                        "the SubjectAccessReview failing",
                        TestCluster.with(GOLDEN_PVC).authorizationUnavailable(),
                        CROSS_NAMESPACE,
                        403,
                        "authorization could not be checked for cloning golden-images/fedora-40 (SubjectAccessReview "
                                + "failed: connection refused); refusing the clone, retry shortly",
                        new Cause(
                                "FieldValueForbidden",
                                "spec.source.pvc",
                                "authorization could not be checked for cloning golden-images/fedora-40 "
                                        + "(SubjectAccessReview failed: connection refused); refusing the clone, retry shortly")),
                Arguments.of(
                        "generateName across namespaces",
                        TestCluster.with(GOLDEN_PVC).grant("datavolumes/source"),
                        CROSS_NAMESPACE.replace("name: fedora-copy,", "generateName: fedora-copy-,"),
                        422,
                        GENERATED_NAME,
                        new Cause("FieldValueInvalid", "metadata.name", GENERATED_NAME)));
    }

    static final String GENERATED_NAME = "VolumeCopy team-a/fedora-copy-* copies from another namespace and needs"
            + " metadata.name: its clone token names the target, and a name generated after admission would fail the"
            + " token check (\"invalid token\"); set metadata.name instead of generateName";

    @ParameterizedTest(name = "{0}")
    @MethodSource("refusals")
    void refusedAsADataVolumeCloneIs(
            String name, TestCluster cluster, String yaml, int code, String message, Cause cause) {
        Decision decision = mutate(cluster, create(yaml));
        assertFalse(decision.allowed());
        assertEquals(code, decision.code());
        assertEquals(message, decision.message());
        assertEquals(List.of(cause), decision.causes());
        assertNull(decision.patch());
    }

    @Test
    void aGeneratedNameIsRefusedBeforeAnyPermissionIsAsked() {
        TestCluster cluster = TestCluster.with(GOLDEN_PVC).grant("datavolumes/source");
        mutate(cluster, create(CROSS_NAMESPACE.replace("name: fedora-copy,", "generateName: fedora-copy-,")));
        assertEquals(List.of(), cluster.reviews());
    }

    static Stream<Arguments> sameNamespace() {
        return Stream.of(
                Arguments.of("source namespace given", CROSS_NAMESPACE.replace("golden-images", "team-a")),
                Arguments.of(
                        "source namespace left out",
                        CROSS_NAMESPACE.replace("{namespace: golden-images, name: fedora-40}", "{name: fedora-40}")),
                Arguments.of(
                        "generateName",
                        CROSS_NAMESPACE
                                .replace("{namespace: golden-images, name: fedora-40}", "{name: fedora-40}")
                                .replace("name: fedora-copy,", "generateName: fedora-copy-,")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("sameNamespace")
    void aSameNamespaceCopyNeedsNoPermissionAndNoToken(String name, String yaml) {
        TestCluster cluster = TestCluster.with();
        Decision decision = mutate(cluster, create(yaml));
        assertTrue(decision.allowed());
        assertNull(decision.patch());
        assertEquals(List.of(), cluster.reviews());
    }

    static Stream<Arguments> clientTokensOnCreate() {
        String sent = "cdi.kubevirt.io/storage.clone.token: sent-by-client, owner: alice";
        return Stream.of(
                Arguments.of(
                        "same namespace", withAnnotations(CROSS_NAMESPACE.replace("golden-images", "team-a"), sent)),
                Arguments.of(
                        "no source to authorize (the CRD refuses it)",
                        withAnnotations(CROSS_NAMESPACE.replace("name: fedora-40", "name: ''"), sent)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("clientTokensOnCreate")
    void aTokenTheClientSentIsRemovedOnCreate(String name, String yaml) {
        Decision decision = mutate(TestCluster.with(), create(yaml));
        assertTrue(decision.allowed());
        assertEquals(
                "[{\"op\":\"remove\",\"path\":\"" + TOKEN_PATH + "\"}]",
                decision.patch().toString());
    }

    /**
     * A forged review (sent straight to the webhook's Service, claiming to be alice, who may clone) got a valid token.
     * Carried on a real CREATE it is removed either way: mallory's own request is refused, and alice's gets the token
     * this rule mints for her request, never the one sent.
     */
    @Test
    void aTokenFromAForgedReviewIsRemovedAndOnlyAnAuthorizedCreateGetsOneMinted() throws Exception {
        Decision forged = mutate(TestCluster.with(GOLDEN_PVC).grant("datavolumes/source"), create(CROSS_NAMESPACE));
        String obtained = forged.patch()
                .get(0)
                .path("value")
                .path("cdi.kubevirt.io/storage.clone.token")
                .asText();
        String carrying = withAnnotations(CROSS_NAMESPACE, "cdi.kubevirt.io/storage.clone.token: " + obtained);

        var mallory = new dev.lockkeeper.webhook.admission.UserInfo(
                "mallory", "uid-mallory", List.of("system:authenticated"), Map.of());
        Decision refused = mutate(
                TestCluster.with(GOLDEN_PVC),
                volumeCopy(Operation.CREATE, carrying.replace("alice", "mallory"), null, mallory));
        assertFalse(refused.allowed());
        assertEquals(403, refused.code());
        assertEquals(DENIED.replace("alice", "mallory"), refused.message());

        String stale =
                withAnnotations(CROSS_NAMESPACE, "cdi.kubevirt.io/storage.clone.token: eyJhbGciOiJFZERTQSJ9.e30.c2ln");
        Decision authorized = mutate(TestCluster.with(GOLDEN_PVC).grant("datavolumes/source"), create(stale));
        assertTrue(authorized.allowed());
        assertEquals(1, authorized.patch().size());
        assertEquals("replace", authorized.patch().get(0).path("op").asText());
        assertEquals(TOKEN_PATH, authorized.patch().get(0).path("path").asText());
        String minted = authorized.patch().get(0).path("value").asText();
        assertNotEquals("eyJhbGciOiJFZERTQSJ9.e30.c2ln", minted);
        assertControllerAccepts(minted, "team-a", "fedora-copy");
    }

    static final String STORED =
            withAnnotations(CROSS_NAMESPACE, "cdi.kubevirt.io/storage.clone.token: minted-at-create");

    static Stream<Arguments> updates() {
        String warning = "the clone token of a VolumeCopy is minted by Lockkeeper when it is created; the one sent was"
                + " not kept";
        return Stream.of(
                Arguments.of(
                        "a token added to a copy stored without one",
                        CROSS_NAMESPACE,
                        withAnnotations(CROSS_NAMESPACE, "cdi.kubevirt.io/storage.clone.token: forged"),
                        "[{\"op\":\"remove\",\"path\":\"" + TOKEN_PATH + "\"}]",
                        List.of(warning)),
                Arguments.of(
                        "the stored token swapped",
                        STORED,
                        withAnnotations(CROSS_NAMESPACE, "cdi.kubevirt.io/storage.clone.token: forged"),
                        "[{\"op\":\"replace\",\"path\":\"" + TOKEN_PATH + "\",\"value\":\"minted-at-create\"}]",
                        List.of(warning)),
                Arguments.of(
                        "the stored token kept while a label changes",
                        STORED,
                        STORED.replace("annotations: {", "labels: {tier: gold}, annotations: {"),
                        null,
                        List.of()),
                Arguments.of("the stored token removed", STORED, CROSS_NAMESPACE, null, List.of()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("updates")
    void anUpdateKeepsOnlyTheStoredToken(String name, String stored, String sent, String patch, List<String> warnings) {
        TestCluster cluster = TestCluster.with(GOLDEN_PVC);
        Decision decision = mutate(cluster, volumeCopy(Operation.UPDATE, sent, stored, ALICE));
        assertTrue(decision.allowed());
        assertEquals(patch, decision.patch() == null ? null : decision.patch().toString());
        assertEquals(warnings, decision.warnings());
        assertEquals(List.of(), cluster.reviews(), "an update is never a new clone");
    }

    /** The copy the controller makes for DataVolume team-a/fedora-copy (DataVolumeAdoption), as it sends it. */
    static final String FOR_DATA_VOLUME = """
            apiVersion: lockkeeper.dev/v1alpha1
            kind: VolumeCopy
            metadata:
              name: fedora-copy
              namespace: team-a
              annotations: {lockkeeper.dev/authorizing-datavolume: fedora-copy}
              ownerReferences:
              - {apiVersion: cdi.kubevirt.io/v1beta1, kind: DataVolume, name: fedora-copy, uid: 0d0d0d0d-0000-4000-8000-000000000001, controller: true}
            spec: {source: {pvc: {namespace: golden-images, name: fedora-40}}}
            """;

    @Test
    void theControllersCopyForADataVolumeIsNotJudgedByTheControllersPermissionsAndGetsNoToken() {
        TestCluster cluster = TestCluster.with(GOLDEN_PVC);
        Decision decision = mutate(cluster, volumeCopy(Operation.CREATE, FOR_DATA_VOLUME, null, CONTROLLER));
        assertTrue(decision.allowed());
        assertNull(decision.patch(), "no token: the DataVolume's authorizes it");
        assertEquals(List.of(), cluster.reviews(), "the controller's own permissions are not asked");

        String carrying = FOR_DATA_VOLUME.replace(
                "{lockkeeper.dev/authorizing-datavolume: fedora-copy}",
                "{lockkeeper.dev/authorizing-datavolume: fedora-copy, cdi.kubevirt.io/storage.clone.token: sent}");
        Decision stripped = mutate(cluster, volumeCopy(Operation.CREATE, carrying, null, CONTROLLER));
        assertEquals(
                "[{\"op\":\"remove\",\"path\":\"" + TOKEN_PATH + "\"}]",
                stripped.patch().toString());
    }

    static Stream<Arguments> judgedAsUsual() {
        var controller = CopyFixtures.CONTROLLER;
        return Stream.of(
                Arguments.of("anyone else setting the DataVolume owner", FOR_DATA_VOLUME, ALICE),
                Arguments.of(
                        "a same-named service account of another namespace",
                        FOR_DATA_VOLUME,
                        serviceAccount("team-a", "lockkeeper-controller", Map.of())),
                Arguments.of(
                        "the controller, the DataVolume not the controlling owner",
                        FOR_DATA_VOLUME.replace("controller: true", "controller: false"),
                        controller),
                Arguments.of(
                        "the controller, the annotation naming another DataVolume",
                        FOR_DATA_VOLUME.replace(
                                "authorizing-datavolume: fedora-copy", "authorizing-datavolume: other-disk"),
                        controller),
                Arguments.of(
                        "the controller, the owner no DataVolume",
                        FOR_DATA_VOLUME.replace("cdi.kubevirt.io/v1beta1, kind: DataVolume", "v1, kind: Pod"),
                        controller),
                Arguments.of(
                        "the controller, no annotation",
                        FOR_DATA_VOLUME.replace(
                                "annotations: {lockkeeper.dev/authorizing-datavolume: fedora-copy}", "labels: {}"),
                        controller));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("judgedAsUsual")
    void aDataVolumeOwnerIsNoWayAroundTheCheck(
            String name, String yaml, dev.lockkeeper.webhook.admission.UserInfo user) {
        TestCluster cluster = TestCluster.with(GOLDEN_PVC);
        Decision decision = mutate(cluster, volumeCopy(Operation.CREATE, yaml, null, user));
        assertFalse(decision.allowed());
        assertEquals(403, decision.code());
        assertTrue(
                decision.message().startsWith("User " + user.username() + " has insufficient permissions"),
                decision.message());
        assertFalse(cluster.reviews().isEmpty());
    }
}
