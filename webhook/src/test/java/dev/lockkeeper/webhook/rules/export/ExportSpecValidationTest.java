package dev.lockkeeper.webhook.rules.export;

import static dev.lockkeeper.webhook.rules.export.ExportFixtures.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.lockkeeper.webhook.admission.Decision;
import dev.lockkeeper.webhook.admission.Operation;
import dev.lockkeeper.webhook.support.TestCluster;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class ExportSpecValidationTest {
    final TestCluster cluster = TestCluster.with();

    Decision create(String version, String source, String extra) {
        return validate(
                cluster,
                request(
                        "export.kubevirt.io",
                        version,
                        "VirtualMachineExport",
                        "virtualmachineexports",
                        "",
                        Operation.CREATE,
                        "{metadata: {name: exp, namespace: team-a}, spec: {source: " + source + extra + "}}",
                        null,
                        CAROL));
    }

    static Stream<Arguments> invalidSources() {
        return Stream.of(
                Arguments.of(
                        "pvc with api group",
                        "{kind: PersistentVolumeClaim, apiGroup: core, name: disk}",
                        "PVC API group must be missing or blank",
                        "spec.source.apiGroup"),
                Arguments.of(
                        "pvc without name",
                        "{kind: PersistentVolumeClaim}",
                        "PVC name must not be empty",
                        "spec.source.name"),
                Arguments.of(
                        "snapshot without api group",
                        "{kind: VirtualMachineSnapshot, name: s}",
                        "VMSnapshot API group must be snapshot.kubevirt.io",
                        "spec.source.apiGroup"),
                Arguments.of(
                        "snapshot without name",
                        "{kind: VirtualMachineSnapshot, apiGroup: snapshot.kubevirt.io}",
                        "VMSnapshot name must not be empty",
                        "spec.source.name"),
                Arguments.of(
                        "vm with wrong group",
                        "{kind: VirtualMachine, apiGroup: kubevirt.com, name: web}",
                        "VM API group must be kubevirt.io",
                        "spec.source.apiGroup"),
                Arguments.of(
                        "vm without name",
                        "{kind: VirtualMachine, apiGroup: kubevirt.io}",
                        "Virtual Machine name must not be empty",
                        "spec.source.name"),
                Arguments.of("unknown kind", "{kind: Pod, name: x}", "invalid kind", "spec.source.kind"),
                Arguments.of("no kind", "{name: x}", "invalid kind", "spec.source.kind"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalidSources")
    void rejectsSourcesWithUpstreamMessagesInBothApiVersions(String name, String source, String message, String field) {
        for (String version : List.of("v1beta1", "v1")) {
            Decision decision = create(version, source, "");
            assertEquals(422, decision.code(), version);
            assertEquals(message, decision.message(), version);
            assertEquals(field, decision.causes().getFirst().field(), version);
        }
    }

    @Test
    void acceptsEachValidSourceKind() {
        assertTrue(create("v1", "{kind: PersistentVolumeClaim, apiGroup: '', name: disk}", "")
                .allowed());
        assertTrue(create("v1beta1", "{kind: VirtualMachine, apiGroup: kubevirt.io, name: web}", "")
                .allowed());
    }

    @Test
    void specIsImmutableAfterCreation() {
        String old =
                "{metadata: {name: exp, namespace: team-a}, spec: {source: {kind: PersistentVolumeClaim, name: disk}}}";
        var changed = request(
                "export.kubevirt.io",
                "v1",
                "VirtualMachineExport",
                "virtualmachineexports",
                "",
                Operation.UPDATE,
                old.replace("name: disk", "name: other"),
                old,
                CAROL);
        Decision decision = validate(cluster, changed);
        assertEquals("spec in immutable after creation", decision.message());
        var relabelled = request(
                "export.kubevirt.io",
                "v1",
                "VirtualMachineExport",
                "virtualmachineexports",
                "",
                Operation.UPDATE,
                old.replace("namespace: team-a}", "namespace: team-a, labels: {a: b}}"),
                old,
                CAROL);
        assertTrue(validate(cluster, relabelled).allowed());
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"soon", "10", "-1h", "0s", "1x"})
    void rejectsTtlThatIsNotAPositiveDuration(String ttl) {
        Decision decision = create("v1", "{kind: PersistentVolumeClaim, name: disk}", ", ttlDuration: '" + ttl + "'");
        assertEquals(422, decision.code(), ttl);
        assertEquals("spec.ttlDuration", decision.causes().getFirst().field());
    }

    @Test
    void warnsAboutTtlAboveTheConfiguredMaximum() {
        assertEquals(
                List.of(),
                create("v1", "{kind: PersistentVolumeClaim, name: disk}", ", ttlDuration: 1h30m")
                        .warnings());
        assertEquals(
                List.of("ttlDuration 48h exceeds the recommended maximum 24h"),
                create("v1", "{kind: PersistentVolumeClaim, name: disk}", ", ttlDuration: 48h")
                        .warnings());
        var tighter = request(
                "export.kubevirt.io",
                "v1",
                "VirtualMachineExport",
                "virtualmachineexports",
                "",
                Operation.CREATE,
                "{metadata: {name: exp, namespace: team-a}, spec: {source: {kind: PersistentVolumeClaim, name: disk}, ttlDuration: 2h}}",
                null,
                CAROL);
        assertEquals(
                List.of("ttlDuration 2h exceeds the recommended maximum 1h"),
                validate(cluster, tighter, "export: {maxTtl: 1h}").warnings());
    }
}
