package dev.lockkeeper.webhook.rules;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lockkeeper.webhook.admission.Verdict;
import dev.lockkeeper.webhook.rules.clone.CloneCompatibilityWarnings;
import dev.lockkeeper.webhook.support.Reviews;
import dev.lockkeeper.webhook.support.TestCluster;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * CDI v1.66 {@code pkg/controller/datavolume/pvc-clone-controller_test.go}, "validateContentTypes" and
 * "validateClone": what CDI's clone controller refuses later (event {@code CloneValidationFailed}) is a warning at
 * admission here, with the controller's message. Source: upstream's {@code CreatePvc("testPVC", "default", …)},
 * 1Gi. An empty expected message means no warning.
 */
class CloneValidationUpstreamTest {

    static Stream<Arguments> validateContentTypes() {
        return Stream.of(
                Arguments.of("true when using archive in source and target", "archive", "archive", true),
                Arguments.of("false when using archive in source and KubeVirt in target", "archive", "kubevirt", false),
                Arguments.of("false when using KubeVirt in source and archive in target", "kubevirt", "archive", false),
                Arguments.of("true when using KubeVirt in source and target", "kubevirt", "kubevirt", true),
                Arguments.of("true when using default in source and target", "", "", true),
                Arguments.of(
                        "true when using default in source and KubeVirt (explicit) in target", "", "kubevirt", true),
                Arguments.of(
                        "true when using KubeVirt (explicit) in source and default in target", "kubevirt", "", true),
                Arguments.of("false when using default in source and archive in target", "", "archive", false),
                Arguments.of("false when using archive in source and default in target", "archive", "", false));
    }

    @ParameterizedTest(name = "validateContentTypes should return {0}")
    @MethodSource("validateContentTypes")
    void contentTypesAsCdiComparesThem(
            String upstreamCase, String sourceContentType, String targetContentType, boolean compatible) {
        String contentType = targetContentType.isEmpty() ? "" : "contentType: " + targetContentType + ", ";
        List<String> warnings = warnings(
                sourceContentType,
                "",
                "{" + contentType + "source: {pvc: {namespace: default, name: testPVC}}, storage: {}}");
        String effectiveSource = sourceContentType.isEmpty() ? "kubevirt" : sourceContentType;
        String effectiveTarget = targetContentType.isEmpty() ? "kubevirt" : targetContentType;
        List<String> expected = compatible
                ? List.of()
                : List.of("Source contentType (" + effectiveSource + ") and target contentType (" + effectiveTarget
                        + ") do not match");
        assertEquals(expected, warnings, upstreamCase);
    }

    static Stream<Arguments> validateClone() {
        return Stream.of(
                Arguments.of(
                        "Should reject the clone if source and target have different content types",
                        "",
                        "{contentType: archive, source: {pvc: {namespace: default, name: testPVC}}, storage: {}}",
                        "Source contentType (kubevirt) and target contentType (archive) do not match"),
                Arguments.of(
                        "Should reject the clone if the target has an incompatible size and the source PVC is using block volumeMode (Storage API)",
                        "Block",
                        "{source: {pvc: {namespace: default, name: testPVC}}, storage: {resources: {requests: {storage: 1Mi}}}}",
                        "target resources requests storage size is smaller than the source"),
                Arguments.of(
                        "Should validate the clone when source PVC is using fs volumeMode, even if the target has an incompatible size (Storage API)",
                        "Filesystem",
                        "{source: {pvc: {namespace: default, name: testPVC}}, storage: {resources: {requests: {storage: 1Mi}}}}",
                        ""),
                Arguments.of(
                        "Should validate the clone if target's size is empty, even when the source uses block volumeMode (Storage API)",
                        "Block",
                        "{source: {pvc: {namespace: default, name: testPVC}}, storage: {}}",
                        ""),
                Arguments.of(
                        "Should reject the clone when the target has an incompatible size (PVC API)",
                        "",
                        "{source: {pvc: {namespace: default, name: testPVC}}, pvc: {resources: {requests: {storage: 1Mi}}}}",
                        "target resources requests storage size is smaller than the source"),
                Arguments.of(
                        "Should validate the clone when both sizes are compatible (PVC API)",
                        "",
                        "{source: {pvc: {namespace: default, name: testPVC}}, pvc: {resources: {requests: {storage: 1Gi}}}}",
                        ""));
    }

    @ParameterizedTest(name = "validateClone: {0}")
    @MethodSource("validateClone")
    void clonesAsCdiValidatesThem(String upstreamCase, String sourceVolumeMode, String spec, String expected) {
        List<String> warnings = warnings("kubevirt", sourceVolumeMode, spec);
        if (expected.isEmpty()) {
            assertEquals(List.of(), warnings, upstreamCase);
        } else {
            assertEquals(1, warnings.size(), upstreamCase + ": " + warnings);
            assertTrue(warnings.getFirst().startsWith(expected), upstreamCase + ": " + warnings);
        }
    }

    static List<String> warnings(String sourceContentType, String sourceVolumeMode, String spec) {
        String annotations = sourceContentType.isEmpty()
                ? ""
                : ", annotations: {cdi.kubevirt.io/storage.contentType: '" + sourceContentType + "'}";
        String volumeMode = sourceVolumeMode.isEmpty() ? "" : "volumeMode: " + sourceVolumeMode + ", ";
        TestCluster cluster = TestCluster.with("""
                {apiVersion: v1, kind: Namespace, metadata: {name: default}}
                ---
                {apiVersion: v1, kind: PersistentVolumeClaim, metadata: {name: testPVC, namespace: default%s},
                 spec: {%saccessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}}
                """.formatted(annotations, volumeMode));
        Verdict verdict = new CloneCompatibilityWarnings()
                .admit(Reviews.context(
                        Reviews.createDataVolume(
                                "default",
                                "{apiVersion: cdi.kubevirt.io/v1beta1, kind: DataVolume, metadata: {name: target, namespace: default}, spec: "
                                        + spec + "}"),
                        cluster));
        return assertInstanceOf(Verdict.Allow.class, verdict, "never denies").warnings();
    }
}
