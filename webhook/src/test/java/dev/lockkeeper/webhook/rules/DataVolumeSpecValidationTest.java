package dev.lockkeeper.webhook.rules;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lockkeeper.webhook.admission.Operation;
import dev.lockkeeper.webhook.admission.Verdict;
import dev.lockkeeper.webhook.rules.datavolume.DataVolumeSpecValidation;
import dev.lockkeeper.webhook.support.Reviews;
import dev.lockkeeper.webhook.support.TestCluster;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class DataVolumeSpecValidationTest {
    final DataVolumeSpecValidation rule = new DataVolumeSpecValidation();
    final TestCluster cluster = TestCluster.with("""
            apiVersion: v1
            kind: PersistentVolumeClaim
            metadata: {name: taken, namespace: team-a}
            spec: {}
            ---
            apiVersion: v1
            kind: PersistentVolumeClaim
            metadata: {name: restored, namespace: team-a, annotations: {cdi.kubevirt.io/storage.populatedFor: restored}}
            spec: {}
            """);

    static Stream<Arguments> invalidSpecs() {
        return Stream.of(
                Arguments.of("no pvc or storage", "{source: {blank: {}}}", "Missing Data volume PVC", "spec.pvc"),
                Arguments.of(
                        "both pvc and storage",
                        "{source: {blank: {}}, pvc: {}, storage: {}}",
                        "Duplicate storage definition, both target storage and target pvc defined",
                        "spec"),
                Arguments.of(
                        "pvc without size",
                        "{source: {blank: {}}, pvc: {accessModes: [ReadWriteOnce]}}",
                        "PVC size is missing",
                        "spec.pvc.resources.requests.storage"),
                Arguments.of(
                        "pvc size zero",
                        "{source: {blank: {}}, pvc: {accessModes: [ReadWriteOnce], resources: {requests: {storage: '0'}}}}",
                        "PVC size can't be equal or less than zero",
                        "spec.pvc.resources.requests.storage"),
                Arguments.of(
                        "pvc size negative",
                        "{source: {blank: {}}, pvc: {accessModes: [ReadWriteOnce], resources: {requests: {storage: '-1Gi'}}}}",
                        "PVC size can't be equal or less than zero",
                        "spec.pvc.resources.requests.storage"),
                Arguments.of(
                        "pvc below 1MiB",
                        "{source: {blank: {}}, pvc: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1000Ki}}}}",
                        "PVC size should be at least 1MiB",
                        "spec.pvc.resources.requests.storage"),
                Arguments.of(
                        "storage without size (not a clone)",
                        "{source: {blank: {}}, storage: {}}",
                        "Storage size is missing",
                        "spec.storage.resources.requests.storage"),
                Arguments.of(
                        "storage size zero",
                        "{source: {blank: {}}, storage: {resources: {requests: {storage: 0Gi}}}}",
                        "Storage size can't be equal or less than zero",
                        "spec.storage.resources.requests.storage"),
                Arguments.of(
                        "malformed size",
                        "{source: {blank: {}}, storage: {resources: {requests: {storage: lots}}}}",
                        "Storage size is not a valid quantity: \"lots\": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
                        "spec.storage.resources.requests.storage"),
                Arguments.of(
                        "pvc without access mode",
                        "{source: {blank: {}}, pvc: {resources: {requests: {storage: 1Gi}}}}",
                        "Required value: at least 1 access mode is required",
                        "spec.pvc.accessModes"),
                Arguments.of(
                        "pvc two access modes",
                        "{source: {blank: {}}, pvc: {accessModes: [ReadWriteOnce, ReadOnlyMany], resources: {requests: {storage: 1Gi}}}}",
                        "PVC multiple accessModes",
                        "spec.pvc.accessModes"),
                Arguments.of(
                        "pvc unknown access mode",
                        "{source: {blank: {}}, pvc: {accessModes: [WriteSometimes], resources: {requests: {storage: 1Gi}}}}",
                        "Unsupported value: \"WriteSometimes\": supported values: \"ReadOnlyMany\", \"ReadWriteMany\", \"ReadWriteOnce\", \"ReadWriteOncePod\"",
                        "spec.pvc.accessModes"),
                Arguments.of(
                        "storage unknown access mode",
                        "{source: {blank: {}}, storage: {accessModes: [Nope], resources: {requests: {storage: 1Gi}}}}",
                        "Unsupported value: \"Nope\": supported values: \"ReadOnlyMany\", \"ReadWriteMany\", \"ReadWriteOnce\", \"ReadWriteOncePod\"",
                        "spec.storage.accessModes"),
                Arguments.of(
                        "neither source nor sourceRef",
                        "{storage: {resources: {requests: {storage: 1Gi}}}}",
                        "Data volume should have either Source or SourceRef, or be externally populated",
                        "spec.source"),
                Arguments.of(
                        "both source and sourceRef",
                        "{source: {blank: {}}, sourceRef: {kind: DataSource, name: x}, storage: {}}",
                        "Data volume should have either Source or SourceRef, or be externally populated",
                        "spec.source"),
                Arguments.of(
                        "sourceRef without kind",
                        "{sourceRef: {name: x}, storage: {}}",
                        "Missing sourceRef kind",
                        "spec.sourceRef.kind"),
                Arguments.of(
                        "sourceRef wrong kind",
                        "{sourceRef: {kind: PersistentVolumeClaim, name: x}, storage: {}}",
                        "Unsupported sourceRef kind PersistentVolumeClaim, currently only DataSource is supported",
                        "spec.sourceRef.kind"),
                Arguments.of(
                        "sourceRef without name",
                        "{sourceRef: {kind: DataSource}, storage: {}}",
                        "Missing sourceRef name",
                        "spec.sourceRef.name"),
                Arguments.of(
                        "empty source",
                        "{source: {}, storage: {resources: {requests: {storage: 1Gi}}}}",
                        "Missing Data volume source",
                        "spec.source"),
                Arguments.of(
                        "two sources",
                        "{source: {blank: {}, http: {url: 'https://x'}}, storage: {resources: {requests: {storage: 1Gi}}}}",
                        "Multiple Data volume sources",
                        "spec.source"),
                Arguments.of(
                        "bad content type",
                        "{contentType: iso, source: {blank: {}}, storage: {resources: {requests: {storage: 1Gi}}}}",
                        "ContentType not one of: kubevirt, archive",
                        "spec.contentType"),
                Arguments.of(
                        "pvc source without namespace",
                        "{source: {pvc: {name: fedora}}, storage: {}}",
                        "spec.source.PVC source PVC is not valid",
                        "spec.source.pvc"),
                Arguments.of(
                        "pvc source without name",
                        "{source: {pvc: {namespace: golden-images}}, storage: {}}",
                        "spec.source.PVC source PVC is not valid",
                        "spec.source.pvc"),
                Arguments.of(
                        "snapshot source without name",
                        "{source: {snapshot: {namespace: golden-images}}, storage: {}}",
                        "spec.source.Snapshot source snapshot is not valid",
                        "spec.source.snapshot"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalidSpecs")
    void rejectsWithUpstreamMessage(String name, String spec, String message, String field) {
        Verdict.Deny deny = assertInstanceOf(Verdict.Deny.class, create("disk", spec));
        assertEquals(422, deny.code());
        assertEquals(message, deny.message());
        assertEquals(field, deny.causes().getFirst().field());
    }

    static Stream<Arguments> validSpecs() {
        return Stream.of(
                Arguments.of(
                        "blank with pvc",
                        "{source: {blank: {}}, pvc: {accessModes: [ReadWriteOncePod], resources: {requests: {storage: 1Mi}}}}"),
                Arguments.of(
                        "clone with storage and no size",
                        "{source: {pvc: {namespace: golden-images, name: fedora}}, storage: {}}"),
                Arguments.of("sourceRef clone", "{sourceRef: {kind: DataSource, name: fedora}, storage: {}}"),
                Arguments.of(
                        "externally populated",
                        "{storage: {resources: {requests: {storage: 1Gi}}, dataSourceRef: {apiGroup: example.com, kind: Foo, name: x}}}"),
                Arguments.of(
                        "archive content",
                        "{contentType: archive, source: {http: {url: 'https://x'}}, storage: {resources: {requests: {storage: 1Gi}}}}"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("validSpecs")
    void acceptsValidSpecs(String name, String spec) {
        assertInstanceOf(Verdict.Allow.class, create("disk", spec));
    }

    @Test
    void rejectsNamesLongerThan253Characters() {
        Verdict.Deny deny = assertInstanceOf(
                Verdict.Deny.class,
                create("d".repeat(254), "{source: {blank: {}}, storage: {resources: {requests: {storage: 1Gi}}}}"));
        assertEquals("Name cannot be longer than 253 characters", deny.message());
    }

    @Test
    void rejectsAnExistingDestinationPvcUnlessItWasPopulatedForThisDataVolume() {
        String spec = "{source: {blank: {}}, storage: {resources: {requests: {storage: 1Gi}}}}";
        Verdict.Deny deny = assertInstanceOf(Verdict.Deny.class, create("taken", spec));
        assertEquals("Destination PVC team-a/taken already exists", deny.message());
        assertInstanceOf(Verdict.Allow.class, create("restored", spec));
    }

    @Test
    void specIsImmutableOnUpdateButMetadataIsNot() {
        ObjectNode old = dataVolume("disk", "{source: {blank: {}}, storage: {resources: {requests: {storage: 1Gi}}}}");
        ObjectNode resized =
                dataVolume("disk", "{source: {blank: {}}, storage: {resources: {requests: {storage: 2Gi}}}}");
        Verdict.Deny deny = assertInstanceOf(
                Verdict.Deny.class,
                rule.admit(Reviews.context(
                        Reviews.dataVolume(Operation.UPDATE, "team-a", resized, old, Reviews.ALICE), cluster)));
        assertEquals("Cannot update DataVolume Spec", deny.message());
        ObjectNode labelled = old.deepCopy();
        ((ObjectNode) labelled.get("metadata")).putObject("labels").put("tier", "gold");
        assertInstanceOf(
                Verdict.Allow.class,
                rule.admit(Reviews.context(
                        Reviews.dataVolume(Operation.UPDATE, "team-a", labelled, old, Reviews.ALICE), cluster)));
    }

    private Verdict create(String name, String spec) {
        return rule.admit(Reviews.context(
                Reviews.dataVolume(Operation.CREATE, "team-a", dataVolume(name, spec), null, Reviews.ALICE), cluster));
    }

    private static ObjectNode dataVolume(String name, String spec) {
        return TestCluster.yaml("{apiVersion: cdi.kubevirt.io/v1beta1, kind: DataVolume, metadata: {name: " + name
                + ", namespace: team-a}, spec: " + spec + "}");
    }
}
