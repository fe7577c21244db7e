package dev.lockkeeper.webhook.rules.copy;

import static dev.lockkeeper.webhook.rules.copy.CopyFixtures.*;
import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lockkeeper.certs.KeyPairs;
import dev.lockkeeper.certs.token.CloneTokenClaims.TokenResource;
import dev.lockkeeper.certs.token.CloneTokenSigner;
import dev.lockkeeper.certs.token.CloneTokenVerifier;
import dev.lockkeeper.webhook.admission.AdmissionChain;
import dev.lockkeeper.webhook.admission.AdmissionRequest;
import dev.lockkeeper.webhook.admission.Decision;
import dev.lockkeeper.webhook.admission.Operation;
import dev.lockkeeper.webhook.rules.Rulebook;
import dev.lockkeeper.webhook.rules.clone.CloneAuthorizer;
import dev.lockkeeper.webhook.support.Reviews;
import dev.lockkeeper.webhook.support.TestCluster;
import io.fabric8.zjsonpatch.JsonPatch;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class DataVolumeDataMoverTest {
    static final Clock CLOCK = Clock.fixed(Instant.parse("2026-12-03T12:00:00Z"), ZoneOffset.UTC);
    static final String CDI_CONFIG = """
            apiVersion: cdi.kubevirt.io/v1beta1
            kind: CDIConfig
            metadata: {name: config}
            status: {filesystemOverhead: {global: "0.055", storageClass: {ceph-fs: "0.1"}}}
            """;
    static final String BLOCK_SOURCE = """
            apiVersion: v1
            kind: PersistentVolumeClaim
            metadata: {name: fedora-40, namespace: team-a}
            spec: {volumeMode: Block, resources: {requests: {storage: 9Gi}}}
            status: {phase: Bound, capacity: {storage: 10Gi}}
            """;
    static final String DATA_VOLUME = """
            apiVersion: cdi.kubevirt.io/v1beta1
            kind: DataVolume
            metadata: {name: disk, namespace: team-a, annotations: {lockkeeper.dev/data-mover: lockkeeper}}
            spec:
              source: {pvc: {name: fedora-40}}
              storage: {accessModes: [ReadWriteOnce]}
            """;
    static final String OPS_AFTER_SIZE = "{\"op\":\"remove\",\"path\":\"/spec/source\"},"
            + "{\"op\":\"add\",\"path\":\"/spec/storage/dataSourceRef\",\"value\":{\"apiGroup\":\"lockkeeper.dev\"}},"
            + "{\"op\":\"add\",\"path\":\"/spec/storage/dataSourceRef/kind\",\"value\":\"VolumeCopy\"},"
            + "{\"op\":\"add\",\"path\":\"/spec/storage/dataSourceRef/name\",\"value\":\"disk\"},"
            + "{\"op\":\"add\",\"path\":\"/metadata/annotations/lockkeeper.dev~1copy-source\",\"value\":\"team-a/fedora-40\"}]";

    final KeyPair keys = KeyPairs.newEd25519();

    Decision mutate(TestCluster cluster, AdmissionRequest request) {
        return run(
                AdmissionChain.Stage.MUTATING,
                Rulebook.mutating(
                        new CloneAuthorizer(Rulebook.DEFAULT_CLONE_SOURCE_ROLE),
                        new CloneTokenSigner(keys.getPrivate(), CLOCK)),
                cluster,
                request);
    }

    static AdmissionRequest create(String yaml) {
        return Reviews.dataVolume(Operation.CREATE, "team-a", TestCluster.yaml(yaml), null, ALICE);
    }

    static String sizeOp(String bytes) {
        return "[{\"op\":\"add\",\"path\":\"/spec/storage/resources\",\"value\":{\"requests\":{\"storage\":\"" + bytes
                + "\"}}},";
    }

    static Stream<Arguments> sizes() {
        return Stream.of(
                Arguments.of(
                        "block source, filesystem target: CDI's global overhead on the MiB-aligned capacity",
                        DATA_VOLUME,
                        // ceil(10 GiB * 1.055)
                        "11327976244"),
                Arguments.of(
                        "the target class's own overhead",
                        DATA_VOLUME.replace(
                                "accessModes: [ReadWriteOnce]",
                                "accessModes: [ReadWriteOnce], storageClassName: ceph-fs"),
                        "11811160064"),
                Arguments.of(
                        "a class without an entry gets the global overhead",
                        DATA_VOLUME.replace(
                                "accessModes: [ReadWriteOnce]",
                                "accessModes: [ReadWriteOnce], storageClassName: local"),
                        "11327976244"),
                Arguments.of(
                        "block target: no overhead",
                        DATA_VOLUME.replace(
                                "accessModes: [ReadWriteOnce]", "accessModes: [ReadWriteOnce], volumeMode: Block"),
                        "10737418240"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("sizes")
    void aMissingSizeIsFilledFromTheSource(String name, String yaml, String bytes) {
        Decision decision = mutate(TestCluster.with(BLOCK_SOURCE, CDI_CONFIG), create(yaml));
        assertTrue(decision.allowed(), decision.message());
        assertEquals(sizeOp(bytes) + OPS_AFTER_SIZE, decision.patch().toString());
    }

    @Test
    void withoutACdiConfigThereIsNoOverheadAndAnUnboundSourceGivesItsRequest() {
        Decision decision = mutate(
                TestCluster.with(BLOCK_SOURCE.replace("status: {phase: Bound, capacity: {storage: 10Gi}}", "")),
                create(DATA_VOLUME));
        assertEquals(sizeOp("9663676416") + OPS_AFTER_SIZE, decision.patch().toString());
    }

    @Test
    void aGivenSizeIsKept() {
        Decision decision = mutate(
                TestCluster.with(CDI_CONFIG),
                create(DATA_VOLUME.replace(
                        "accessModes: [ReadWriteOnce]",
                        "accessModes: [ReadWriteOnce], resources: {requests: {storage: 12Gi}}")));
        assertEquals("[" + OPS_AFTER_SIZE, decision.patch().toString(), "the source need not even be known");
    }

    @Test
    void theRewrittenDataVolumePassesCdisValidationAsExternalPopulation() {
        TestCluster cluster = TestCluster.with(BLOCK_SOURCE, CDI_CONFIG);
        AdmissionRequest request = create(DATA_VOLUME);
        Decision mutated = mutate(cluster, request);
        JsonNode rewritten = JsonPatch.apply(mutated.patch(), request.object());
        assertEquals(
                "{\"apiGroup\":\"lockkeeper.dev\",\"kind\":\"VolumeCopy\",\"name\":\"disk\"}",
                rewritten.path("spec").path("storage").path("dataSourceRef").toString());
        assertFalse(rewritten.path("spec").has("source"));
        Decision validated = run(
                AdmissionChain.Stage.VALIDATING,
                Rulebook.validating(new CloneAuthorizer(Rulebook.DEFAULT_CLONE_SOURCE_ROLE)),
                cluster,
                request.withObject((com.fasterxml.jackson.databind.node.ObjectNode) rewritten));
        assertTrue(validated.allowed(), validated.message());
    }

    @Test
    void aCrossNamespaceSourceIsAuthorizedAndTokenedForTheVolumeCopyOfTheSameNameBeforeItMoves() throws Exception {
        String cross =
                DATA_VOLUME.replace("{pvc: {name: fedora-40}}", "{pvc: {namespace: golden-images, name: fedora-40}}");
        String goldenSource = BLOCK_SOURCE.replace("namespace: team-a", "namespace: golden-images");

        Decision refused = mutate(TestCluster.with(goldenSource, CDI_CONFIG), create(cross));
        assertEquals(403, refused.code());
        assertEquals("datavolume-clone-authorization", refused.decidedBy());

        Decision allowed =
                mutate(TestCluster.with(goldenSource, CDI_CONFIG).grant("datavolumes/source"), create(cross));
        JsonNode rewritten = JsonPatch.apply(allowed.patch(), create(cross).object());
        assertEquals(
                "golden-images/fedora-40",
                rewritten
                        .path("metadata")
                        .path("annotations")
                        .path("lockkeeper.dev/copy-source")
                        .asText());
        new CloneTokenVerifier(keys.getPublic(), CLOCK)
                .verify(
                        rewritten
                                .path("metadata")
                                .path("annotations")
                                .path("cdi.kubevirt.io/storage.clone.token")
                                .asText(),
                        new CloneTokenVerifier.ExpectedClone(
                                TokenResource.PERSISTENT_VOLUME_CLAIMS,
                                "golden-images",
                                "fedora-40",
                                "team-a",
                                "disk",
                                ""));
    }

    @Test
    void aDataVolumeWithoutTheOptInOnlyLosesACopySourceItSent() {
        String plain = DATA_VOLUME.replace(
                "annotations: {lockkeeper.dev/data-mover: lockkeeper}",
                "annotations: {lockkeeper.dev/copy-source: team-b/secret}");
        Decision decision = mutate(TestCluster.with(BLOCK_SOURCE), create(plain));
        assertEquals(
                "[{\"op\":\"remove\",\"path\":\"/metadata/annotations/lockkeeper.dev~1copy-source\"}]",
                decision.patch().toString());
        assertNull(mutate(
                        TestCluster.with(BLOCK_SOURCE),
                        create(plain.replace(", annotations: {lockkeeper.dev/copy-source: team-b/secret}", "")))
                .patch());
    }

    @Test
    void aGeneratedNameOrAnUnknownSourceIsRefused() {
        Decision generated = mutate(
                TestCluster.with(BLOCK_SOURCE), create(DATA_VOLUME.replace("name: disk,", "generateName: disk-,")));
        assertEquals(422, generated.code());
        assertEquals(
                "a DataVolume moved by Lockkeeper (lockkeeper.dev/data-mover: lockkeeper) needs metadata.name: its"
                        + " VolumeCopy is named after it; set metadata.name instead of generateName",
                generated.message());
        Decision unknown = mutate(TestCluster.with(), create(DATA_VOLUME));
        assertEquals(422, unknown.code());
        assertEquals(
                "the size of DataVolume team-a/disk cannot be filled in: its source PersistentVolumeClaim"
                        + " team-a/fedora-40 was not found; set spec.storage.resources.requests.storage",
                unknown.message());
    }

    @Test
    void requiredSpaceIsCdisGetRequiredSpace() {
        long mi = 1024 * 1024;
        assertEquals(mi, DataVolumeDataMover.requiredSpace(0, mi));
        assertEquals(2 * mi, DataVolumeDataMover.requiredSpace(0, mi + 1), "aligned up to the next MiB first");
        assertEquals((long) Math.ceil(2 * mi * 1.055), DataVolumeDataMover.requiredSpace(0.055, mi + 1));
    }
}
