package dev.lockkeeper.webhook.rules;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lockkeeper.certs.KeyPairs;
import dev.lockkeeper.certs.token.CloneTokenClaims.TokenResource;
import dev.lockkeeper.certs.token.CloneTokenSigner;
import dev.lockkeeper.certs.token.CloneTokenVerifier;
import dev.lockkeeper.webhook.admission.AdmissionChain;
import dev.lockkeeper.webhook.admission.AdmissionRequest;
import dev.lockkeeper.webhook.admission.Decision;
import dev.lockkeeper.webhook.admission.RuleObserver;
import dev.lockkeeper.webhook.cluster.AccessReview;
import dev.lockkeeper.webhook.json.Json;
import dev.lockkeeper.webhook.rules.clone.CloneAuthorizer;
import dev.lockkeeper.webhook.support.Reviews;
import dev.lockkeeper.webhook.support.TestCluster;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DataVolumeCloneAuthorizationTest {
    static final Clock CLOCK = Clock.fixed(Instant.parse("2026-11-22T10:00:00Z"), ZoneOffset.UTC);
    static final String GOLDEN_PVC = """
            apiVersion: v1
            kind: PersistentVolumeClaim
            metadata: {name: fedora-40, namespace: golden-images}
            spec: {resources: {requests: {storage: 10Gi}}}
            """;
    static final String PVC_CLONE = """
            apiVersion: cdi.kubevirt.io/v1beta1
            kind: DataVolume
            metadata: {name: disk, namespace: team-a}
            spec:
              source: {pvc: {namespace: golden-images, name: fedora-40}}
              storage: {resources: {requests: {storage: 10Gi}}}
            """;
    static final String SNAPSHOT_CLONE = """
            apiVersion: cdi.kubevirt.io/v1beta1
            kind: DataVolume
            metadata: {name: disk, namespace: team-a}
            spec:
              source: {snapshot: {namespace: golden-images, name: fedora-snap}}
              storage: {resources: {requests: {storage: 10Gi}}}
            """;

    final KeyPair keys = KeyPairs.newEd25519();

    Decision mutate(TestCluster cluster, AdmissionRequest request) {
        CloneAuthorizer authorizer = new CloneAuthorizer("lockkeeper:clone-source");
        return new AdmissionChain(
                        AdmissionChain.Stage.MUTATING,
                        Rulebook.mutating(authorizer, new CloneTokenSigner(keys.getPrivate(), CLOCK)),
                        cluster,
                        RuleObserver.NONE,
                        () -> dev.lockkeeper.webhook.policy.Policy.DEFAULT)
                .decide(request);
    }

    @Test
    void pvcCloneSendsDataVolumeSourceReviewWithTheRequestersIdentityFirst() {
        TestCluster cluster = TestCluster.with(GOLDEN_PVC).grant("datavolumes/source");
        Decision decision = mutate(cluster, Reviews.createDataVolume("team-a", PVC_CLONE));
        assertTrue(decision.allowed());
        assertEquals(
                List.of(new AccessReview(
                        "alice",
                        List.of("developers", "system:authenticated"),
                        Map.of("scopes", List.of("clone")),
                        "golden-images",
                        "create",
                        "cdi.kubevirt.io",
                        "datavolumes",
                        "source",
                        "fedora-40")),
                cluster.reviews());
    }

    @Test
    void pvcCloneFallsBackToCreatePodsWhenDataVolumeSourceIsDenied() {
        TestCluster cluster = TestCluster.with(GOLDEN_PVC).grant("pods");
        Decision decision = mutate(cluster, Reviews.createDataVolume("team-a", PVC_CLONE));
        assertTrue(decision.allowed());
        assertEquals(2, cluster.reviews().size());
        AccessReview fallback = cluster.reviews().get(1);
        assertEquals(
                List.of("golden-images", "create", "", "pods", "", "fedora-40"),
                List.of(
                        fallback.namespace(),
                        fallback.verb(),
                        fallback.group(),
                        fallback.resource(),
                        fallback.subresource(),
                        fallback.name()));
    }

    @Test
    void allowedCrossNamespaceCloneGetsATokenForExactlyThisSourceAndTarget() throws Exception {
        Decision decision = mutate(
                TestCluster.with(GOLDEN_PVC).grant("datavolumes/source"),
                Reviews.createDataVolume("team-a", PVC_CLONE));
        JsonNode patch = decision.patch();
        assertEquals(1, patch.size());
        assertEquals("add", patch.get(0).path("op").asText());
        assertEquals("/metadata/annotations", patch.get(0).path("path").asText());
        String token = patch.get(0)
                .path("value")
                .path("cdi.kubevirt.io/storage.clone.token")
                .asText();
        new CloneTokenVerifier(keys.getPublic(), CLOCK)
                .verify(
                        token,
                        new CloneTokenVerifier.ExpectedClone(
                                TokenResource.PERSISTENT_VOLUME_CLAIMS,
                                "golden-images",
                                "fedora-40",
                                "team-a",
                                "disk",
                                ""));
    }

    @Test
    void tokenAnnotationKeyIsJsonPointerEscapedWhenAnnotationsExist() {
        String withAnnotations = PVC_CLONE.replace(
                "metadata: {name: disk, namespace: team-a}",
                "metadata: {name: disk, namespace: team-a, annotations: {owner: alice}}");
        Decision decision = mutate(
                TestCluster.with(GOLDEN_PVC).grant("datavolumes/source"),
                Reviews.createDataVolume("team-a", withAnnotations));
        assertEquals(
                "/metadata/annotations/cdi.kubevirt.io~1storage.clone.token",
                decision.patch().get(0).path("path").asText());
    }

    @Test
    void deniedCloneIs403WithUpstreamWordingTheMissingPermissionAndAFix() {
        Decision decision = mutate(TestCluster.with(GOLDEN_PVC), Reviews.createDataVolume("team-a", PVC_CLONE));
        assertFalse(decision.allowed());
        assertEquals(403, decision.code());
        assertEquals(
                "User alice has insufficient permissions in clone source namespace golden-images. "
                        + "Missing in namespace golden-images: \"create\" on datavolumes/source (cdi.kubevirt.io) named \"fedora-40\", "
                        + "or \"create\" on pods. Grant it with: kubectl create rolebinding clone-source-alice "
                        + "--namespace=golden-images --clusterrole=lockkeeper:clone-source --user=alice",
                decision.message());
        assertEquals("spec.source.pvc.namespace", decision.causes().getFirst().field());
        assertNull(decision.patch());
    }

    @Test
    void snapshotCloneNeedsBothPodsAndPvcsWhenDataVolumeSourceIsDenied() {
        TestCluster both = TestCluster.with().grant("pods", "pvcs");
        assertTrue(
                mutate(both, Reviews.createDataVolume("team-a", SNAPSHOT_CLONE)).allowed());
        assertEquals(
                List.of("datavolumes/source", "pods", "pvcs"),
                both.reviews().stream().map(AccessReview::resourcePath).toList());

        TestCluster podsOnly = TestCluster.with().grant("pods");
        Decision denied = mutate(podsOnly, Reviews.createDataVolume("team-a", SNAPSHOT_CLONE));
        assertEquals(403, denied.code());
        assertTrue(denied.message().contains("(refused: create pvcs)"), denied.message());

        TestCluster none = TestCluster.with().grant("pvcs");
        assertFalse(
                mutate(none, Reviews.createDataVolume("team-a", SNAPSHOT_CLONE)).allowed());
        assertEquals(
                List.of("datavolumes/source", "pods"),
                none.reviews().stream().map(AccessReview::resourcePath).toList(),
                "upstream stops at the first refused implicit permission");
    }

    @Test
    void snapshotTokenNamesTheVolumeSnapshotResource() throws Exception {
        Decision decision = mutate(
                TestCluster.with().grant("datavolumes/source"), Reviews.createDataVolume("team-a", SNAPSHOT_CLONE));
        String token = decision.patch()
                .get(0)
                .path("value")
                .path("cdi.kubevirt.io/storage.clone.token")
                .asText();
        new CloneTokenVerifier(keys.getPublic(), CLOCK)
                .verify(
                        token,
                        new CloneTokenVerifier.ExpectedClone(
                                TokenResource.VOLUME_SNAPSHOTS, "golden-images", "fedora-snap", "team-a", "disk", ""));
    }

    @Test
    void dataSourceIsResolvedAndOnlyItsPvcIsAuthorized() {
        TestCluster cluster = TestCluster.with(GOLDEN_PVC, """
                apiVersion: cdi.kubevirt.io/v1beta1
                kind: DataSource
                metadata: {name: fedora, namespace: golden-images}
                spec: {source: {pvc: {namespace: golden-images, name: fedora-40}}}
                """).grant("datavolumes/source");
        Decision decision = mutate(cluster, Reviews.createDataVolume("team-a", """
                apiVersion: cdi.kubevirt.io/v1beta1
                kind: DataVolume
                metadata: {name: disk, namespace: team-a}
                spec:
                  sourceRef: {kind: DataSource, namespace: golden-images, name: fedora}
                  storage: {}
                """));
        assertTrue(decision.patched());
        assertEquals("fedora-40", cluster.reviews().getFirst().name());
        assertEquals("datavolumes/source", cluster.reviews().getFirst().resourcePath());
    }

    @Test
    void dataSourcePointingAtADataSourceUsesItsResolvedStatusSource() {
        TestCluster cluster = TestCluster.with("""
                apiVersion: cdi.kubevirt.io/v1beta1
                kind: DataSource
                metadata: {name: fedora-latest, namespace: golden-images}
                spec: {source: {dataSource: {namespace: golden-images, name: fedora}}}
                status: {source: {snapshot: {namespace: golden-images, name: fedora-snap}}}
                """).grant("datavolumes/source");
        mutate(cluster, Reviews.createDataVolume("team-a", """
                apiVersion: cdi.kubevirt.io/v1beta1
                kind: DataVolume
                metadata: {name: disk, namespace: team-a}
                spec: {sourceRef: {kind: DataSource, namespace: golden-images, name: fedora-latest}, storage: {}}
                """));
        assertEquals("fedora-snap", cluster.reviews().getFirst().name());
    }

    @Test
    void missingDataSourceIsInvalid() {
        Decision decision = mutate(TestCluster.with(), Reviews.createDataVolume("team-a", """
                apiVersion: cdi.kubevirt.io/v1beta1
                kind: DataVolume
                metadata: {name: disk, namespace: team-a}
                spec: {sourceRef: {kind: DataSource, name: nope}, storage: {}}
                """));
        assertEquals(422, decision.code());
        assertEquals("SourceRef DataSource/team-a/nope not found", decision.message());
    }

    @Test
    void sameNamespaceCloneNeedsNoReviewAndNoToken() {
        TestCluster cluster = TestCluster.with();
        Decision decision = mutate(
                cluster,
                Reviews.createDataVolume(
                        "golden-images", PVC_CLONE.replace("namespace: team-a", "namespace: golden-images")));
        assertTrue(decision.allowed());
        assertNull(decision.patch());
        assertTrue(cluster.reviews().isEmpty());
    }

    @Test
    void sourceNamespaceDefaultsToTheTargetNamespace() {
        TestCluster cluster = TestCluster.with();
        Decision decision = mutate(
                cluster,
                Reviews.createDataVolume(
                        "team-a",
                        PVC_CLONE.replace("{namespace: golden-images, name: fedora-40}", "{name: fedora-40}")));
        assertTrue(decision.allowed());
        assertTrue(cluster.reviews().isEmpty());
    }

    @Test
    void prePopulatedAndStaticVolumesAreSkipped() {
        for (String annotation :
                List.of("cdi.kubevirt.io/storage.prePopulated", "cdi.kubevirt.io/storage.checkStaticVolume")) {
            TestCluster cluster = TestCluster.with();
            Decision decision = mutate(
                    cluster,
                    Reviews.createDataVolume(
                            "team-a",
                            PVC_CLONE.replace(
                                    "metadata: {name: disk, namespace: team-a}",
                                    "metadata: {name: disk, namespace: team-a, annotations: {" + annotation
                                            + ": disk}}")));
            assertTrue(decision.allowed(), annotation);
            assertNull(decision.patch(), annotation);
            assertTrue(cluster.reviews().isEmpty(), annotation);
        }
    }

    @Test
    void unknownSourceNamespaceIsInvalidButOnlyToldToThoseWhoMayCloneFromIt() {
        Decision granted = mutate(
                TestCluster.with().grant("datavolumes/source"),
                Reviews.createDataVolume("team-a", PVC_CLONE.replace("golden-images", "nowhere")));
        assertEquals(422, granted.code());
        assertEquals("namespaces \"nowhere\" not found", granted.message());
        Decision refused = mutate(
                TestCluster.with(), Reviews.createDataVolume("team-a", PVC_CLONE.replace("golden-images", "nowhere")));
        assertEquals(403, refused.code(), "no way to probe which namespaces exist");
    }

    @Test
    void failingSubjectAccessReviewFailsClosed() {
        Decision decision =
                mutate(TestCluster.with().authorizationUnavailable(), Reviews.createDataVolume("team-a", PVC_CLONE));
        assertFalse(decision.allowed());
        assertEquals(403, decision.code());
        assertTrue(
                decision.message().startsWith("authorization could not be checked for cloning golden-images/fedora-40"),
                decision.message());
    }

    @Test
    void nonCloneDataVolumesPassUntouched() {
        TestCluster cluster = TestCluster.with();
        Decision decision = mutate(cluster, Reviews.createDataVolume("team-a", """
                apiVersion: cdi.kubevirt.io/v1beta1
                kind: DataVolume
                metadata: {name: disk, namespace: team-a}
                spec: {source: {http: {url: "https://example.org/disk.img"}}, storage: {resources: {requests: {storage: 1Gi}}}}
                """));
        assertTrue(decision.allowed());
        assertNull(decision.patch());
        assertTrue(cluster.reviews().isEmpty());
    }

    @Test
    void userSuppliedTokenIsReplacedBySignedOne() {
        String forged = PVC_CLONE.replace(
                "metadata: {name: disk, namespace: team-a}",
                "metadata: {name: disk, namespace: team-a, annotations: {cdi.kubevirt.io/storage.clone.token: forged}}");
        Decision decision =
                mutate(TestCluster.with().grant("datavolumes/source"), Reviews.createDataVolume("team-a", forged));
        JsonNode op = decision.patch().get(0);
        assertEquals("replace", op.path("op").asText());
        assertEquals(
                "/metadata/annotations/cdi.kubevirt.io~1storage.clone.token",
                op.path("path").asText());
        assertNotEquals("forged", op.path("value").asText());
    }

    @Test
    void clientSuppliedTokensAreRemovedWhereNoTokenIsMinted() {
        String stolen =
                "annotations: {cdi.kubevirt.io/storage.clone.token: stolen, cdi.kubevirt.io/storage.extended.clone.token: stolen, owner: x";
        for (String dataVolume : List.of(
                PVC_CLONE.replace(
                        "metadata: {name: disk, namespace: team-a}",
                        "metadata: {name: disk, namespace: team-a, " + stolen
                                + ", cdi.kubevirt.io/storage.checkStaticVolume: 'true'}}"),
                PVC_CLONE
                        .replace("namespace: golden-images", "namespace: team-a")
                        .replace(
                                "metadata: {name: disk, namespace: team-a}",
                                "metadata: {name: disk, namespace: team-a, " + stolen + "}}"))) {
            Decision decision = mutate(TestCluster.with(), Reviews.createDataVolume("team-a", dataVolume));
            assertTrue(decision.allowed());
            assertEquals(
                    "[{\"op\":\"remove\",\"path\":\"/metadata/annotations/cdi.kubevirt.io~1storage.clone.token\"},"
                            + "{\"op\":\"remove\",\"path\":\"/metadata/annotations/cdi.kubevirt.io~1storage.extended.clone.token\"}]",
                    decision.patch().toString());
        }
    }

    @Test
    void dryRunRequestsGetTheSameDecision() {
        AdmissionRequest normal = Reviews.createDataVolume("team-a", PVC_CLONE);
        AdmissionRequest dryRun = new AdmissionRequest(
                normal.uid(),
                normal.kind(),
                normal.resource(),
                "",
                normal.operation(),
                normal.namespace(),
                normal.name(),
                normal.userInfo(),
                normal.object(),
                null,
                true);
        assertEquals(
                mutate(TestCluster.with(), normal).message(),
                mutate(TestCluster.with(), dryRun).message());
        assertTrue(mutate(TestCluster.with().grant("pods"), dryRun).patched());
        assertEquals(
                "disk", Json.text(normal.object(), "metadata", "name"), "the request object itself is never modified");
        assertFalse(normal.object().path("metadata").has("annotations"));
    }
}
