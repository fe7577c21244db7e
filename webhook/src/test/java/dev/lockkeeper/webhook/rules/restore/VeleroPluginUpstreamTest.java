package dev.lockkeeper.webhook.rules.restore;

import static dev.lockkeeper.webhook.rules.restore.RestoreReviews.*;
import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lockkeeper.webhook.admission.AdmissionRequest;
import dev.lockkeeper.webhook.admission.Decision;
import dev.lockkeeper.webhook.support.TestCluster;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * kubevirt-velero-plugin v0.9 {@code pkg/util/util_test.go} ({@code TestIsMacAddressCleared}) and
 * {@code pkg/plugin/vm_restore_item_action_test.go} ({@code TestVmRestoreExecute}), case by case: the plugin's
 * switches are labels on the Velero Restore, on when present ({@code metav1.HasLabel}), whatever their value.
 */
class VeleroPluginUpstreamTest {
    static final String MAC = "52:54:00:aa:bb:01";
    static final String UUID = "6a1f3c2e-8d4b-4e7a-9c1d-2b3e4f5a6b7c";

    static String veleroRestore(String labels) {
        return "{apiVersion: velero.io/v1, kind: Restore, metadata: {name: r, namespace: velero, labels: {" + labels
                + "}}, spec: {backupName: nightly}}";
    }

    static String vm(String run) {
        return "{apiVersion: kubevirt.io/v1, kind: VirtualMachine, metadata: {name: web, namespace: team-a}, spec: {"
                + run + ", template: {spec: " + "{domain: {firmware: {uuid: " + UUID
                + "}, devices: {interfaces: [{name: default, masquerade: {}, macAddress: '" + MAC + "'}]}}}}}}";
    }

    static Stream<Arguments> switches() {
        return Stream.of(
                // TestIsMacAddressCleared "Clear MAC address should return false with no label"
                Arguments.of("no label keeps the MAC", "", "running: true", true, true, "running", "true"),
                // "Clear MAC address should return true with ClearMacAddressLabel label" (an empty value)
                Arguments.of(
                        "empty clear-mac-address clears",
                        "velero.kubevirt.io/clear-mac-address: ''",
                        "running: true",
                        false,
                        true,
                        "running",
                        "true"),
                // HasLabel: a value that reads as off still switches on
                Arguments.of(
                        "clear-mac-address 'false' clears",
                        "velero.kubevirt.io/clear-mac-address: 'false'",
                        "running: true",
                        false,
                        true,
                        "running",
                        "true"),
                // TestVmRestoreExecute "Running VM should be restored running" / "Stopped VM should be restored
                // stopped"
                Arguments.of("running VM stays running", "", "running: true", true, true, "running", "true"),
                Arguments.of(
                        "stopped VM stays stopped", "", "runStrategy: Halted", true, true, "runStrategy", "Halted"),
                // "Stopped VM should be restored running when using appropriate label"
                Arguments.of(
                        "restore-run-strategy Always",
                        "velero.kubevirt.io/restore-run-strategy: Always",
                        "runStrategy: Halted",
                        true,
                        true,
                        "runStrategy",
                        "Always"),
                // "Running VM should be restored stopped when using appropriate label" / "Running field should be
                // cleared ..."
                Arguments.of(
                        "restore-run-strategy Halted",
                        "velero.kubevirt.io/restore-run-strategy: Halted",
                        "running: true",
                        true,
                        true,
                        "runStrategy",
                        "Halted"),
                // "New firmware UUID should be generated when using appropriate label"
                Arguments.of(
                        "generate-new-firmware-uuid",
                        "velero.kubevirt.io/generate-new-firmware-uuid: 'true'",
                        "running: true",
                        true,
                        false,
                        "running",
                        "true"),
                Arguments.of(
                        "generate-new-firmware-uuid 'false'",
                        "velero.kubevirt.io/generate-new-firmware-uuid: 'false'",
                        "running: true",
                        true,
                        false,
                        "running",
                        "true"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("switches")
    void pluginSwitchesAreLabelPresence(
            String name,
            String labels,
            String run,
            boolean macKept,
            boolean uuidKept,
            String runField,
            String runValue) {
        TestCluster cluster = TestCluster.with(veleroRestore(labels));
        AdmissionRequest request = create(restored(vm(run), "r"));
        Decision decision = mutate(cluster, request);
        ObjectNode stored = patched(request, decision);
        JsonNode domain = stored.at("/spec/template/spec/domain");
        assertEquals(macKept, domain.at("/devices/interfaces/0").has("macAddress"), name);
        assertEquals(uuidKept, UUID.equals(domain.at("/firmware/uuid").asText()), name);
        assertEquals(runValue, stored.path("spec").path(runField).asText(), name);
        assertFalse(
                stored.path("spec").has("running") && stored.path("spec").has("runStrategy"),
                name + ": running and runStrategy are exclusive");
        if (labels.contains("'false'")) {
            String label = labels.substring(0, labels.indexOf(':'));
            assertTrue(
                    decision.warnings().stream()
                            .allMatch(
                                    w -> w.endsWith(
                                            "(Restore r has label " + label
                                                    + ": \"false\"; like the kubevirt-velero-plugin, Lockkeeper acts on the label's presence)")),
                    decision.warnings().toString());
            assertFalse(decision.warnings().isEmpty(), name);
        }
    }
}
