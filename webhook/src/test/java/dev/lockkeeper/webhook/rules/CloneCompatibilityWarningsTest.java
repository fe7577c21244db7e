package dev.lockkeeper.webhook.rules;

import static org.junit.jupiter.api.Assertions.*;

import dev.lockkeeper.webhook.admission.Verdict;
import dev.lockkeeper.webhook.rules.clone.CloneCompatibilityWarnings;
import dev.lockkeeper.webhook.support.Reviews;
import dev.lockkeeper.webhook.support.TestCluster;
import java.util.List;
import org.junit.jupiter.api.Test;

class CloneCompatibilityWarningsTest {
    final TestCluster cluster = TestCluster.with("""
            apiVersion: v1
            kind: PersistentVolumeClaim
            metadata: {name: disk, namespace: golden-images}
            spec: {volumeMode: Block, resources: {requests: {storage: 10Gi}}}
            ---
            apiVersion: v1
            kind: PersistentVolumeClaim
            metadata: {name: archive, namespace: golden-images, annotations: {cdi.kubevirt.io/storage.contentType: archive}}
            spec: {resources: {requests: {storage: 1Gi}}}
            """);
    final CloneCompatibilityWarnings rule = new CloneCompatibilityWarnings();

    List<String> warnings(String spec) {
        Verdict verdict = rule.admit(Reviews.context(
                Reviews.createDataVolume(
                        "team-a",
                        "{apiVersion: cdi.kubevirt.io/v1beta1, kind: DataVolume, metadata: {name: t, namespace: team-a}, spec: "
                                + spec + "}"),
                cluster));
        return assertInstanceOf(Verdict.Allow.class, verdict, "never denies").warnings();
    }

    @Test
    void warnsWhenTargetIsSmallerThanSource() {
        assertEquals(
                List.of("target resources requests storage size is smaller than the source 5368709120 < 10737418240"),
                warnings(
                        "{source: {pvc: {namespace: golden-images, name: disk}}, pvc: {volumeMode: Block, resources: {requests: {storage: 5Gi}}}}"));
    }

    @Test
    void warnsOnVolumeModeMismatchOnlyForNonKubevirtContent() {
        assertEquals(
                List.of(),
                warnings(
                        "{source: {pvc: {namespace: golden-images, name: disk}}, pvc: {resources: {requests: {storage: 10Gi}}}}"),
                "kubevirt content converts between volume modes");
        assertEquals(
                List.of(
                        "Source contentType (kubevirt) and target contentType (archive) do not match",
                        "source volumeMode (Block) and target volumeMode (Filesystem) do not match, contentType (archive)"),
                warnings(
                        "{contentType: archive, source: {pvc: {namespace: golden-images, name: disk}}, pvc: {resources: {requests: {storage: 10Gi}}}}"));
    }

    @Test
    void warnsOnContentTypeMismatch() {
        assertEquals(
                List.of("Source contentType (archive) and target contentType (kubevirt) do not match"),
                warnings("{source: {pvc: {namespace: golden-images, name: archive}}, storage: {}}"));
    }

    @Test
    void silentWhenSourceUnknownOrCompatible() {
        assertEquals(
                List.of(),
                warnings(
                        "{source: {pvc: {namespace: golden-images, name: missing}}, storage: {resources: {requests: {storage: 1Mi}}}}"));
        assertEquals(
                List.of(),
                warnings(
                        "{source: {pvc: {namespace: golden-images, name: disk}}, storage: {resources: {requests: {storage: 20Gi}}}}"));
        assertEquals(List.of(), warnings("{source: {blank: {}}, storage: {resources: {requests: {storage: 1Mi}}}}"));
    }
}
