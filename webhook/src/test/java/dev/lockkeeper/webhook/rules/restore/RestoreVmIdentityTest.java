package dev.lockkeeper.webhook.rules.restore;

import static dev.lockkeeper.webhook.rules.restore.RestoreReviews.*;
import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lockkeeper.webhook.admission.AdmissionRequest;
import dev.lockkeeper.webhook.admission.Decision;
import dev.lockkeeper.webhook.json.Json;
import dev.lockkeeper.webhook.policy.EnforcementMode;
import dev.lockkeeper.webhook.policy.Policy;
import dev.lockkeeper.webhook.support.TestCluster;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** {@link RestoreVmIdentity} and {@link RestoreVmRunStrategy}. */
class RestoreVmIdentityTest {
    static final Pattern LOCAL_UNICAST_MAC = Pattern.compile("[0-9a-f][26ae](:[0-9a-f]{2}){5}");
    static final String ORIGINAL_UUID = "6a1f3c2e-8d4b-4e7a-9c1d-2b3e4f5a6b7c";

    /** The original VM still running in team-b, and a standalone VMI using another MAC. */
    static final String ORIGINALS = """
            apiVersion: v1
            kind: List
            items:
            - apiVersion: kubevirt.io/v1
              kind: VirtualMachine
              metadata: {name: web, namespace: team-b}
              spec:
                runStrategy: Always
                template:
                  spec:
                    domain:
                      firmware: {uuid: 6A1F3C2E-8D4B-4E7A-9C1D-2B3E4F5A6B7C, serial: web-serial-1}
                      devices: {interfaces: [{name: default, masquerade: {}, macAddress: "52:54:00:aa:bb:01"}]}
            - apiVersion: kubevirt.io/v1
              kind: VirtualMachineInstance
              metadata: {name: batch, namespace: team-b}
              spec: {domain: {devices: {interfaces: [{name: default, macAddress: "52:54:00:aa:bb:02"}]}}}
            """;

    /** The VM as backed up in team-b and restored into team-a. */
    static String backedUpVm(String firmware) {
        return """
                apiVersion: kubevirt.io/v1
                kind: VirtualMachine
                metadata:
                  name: web
                  namespace: team-a
                  uid: 3e4f0000-0000-4000-8000-000000000040
                  resourceVersion: "991"
                  generation: 3
                  annotations: {kubevirt.io/latest-observed-api-version: v1}
                spec:
                  running: true
                  template:
                    metadata: {labels: {app: web}}
                    spec:
                      domain:
                        %s
                        devices:
                          interfaces:
                          - {name: default, masquerade: {}, macAddress: "52-54-00-AA-BB-01"}
                          - {name: storage, bridge: {}, macAddress: "52:54:00:aa:bb:02"}
                          - {name: mgmt, bridge: {}, macAddress: "52:54:00:aa:bb:03"}
                        resources: {requests: {memory: 2Gi}}
                      networks: [{name: default, pod: {}}]
                status: {printableStatus: Running, ready: true, created: true}
                """.formatted(firmware);
    }

    static final String FIRMWARE =
            "firmware: {uuid: " + ORIGINAL_UUID + ", serial: web-serial-1, bootloader: {efi: {}}}";

    /**
     * The patch is built from what the rule changed, one operation per MAC: a whole-object diff of a VM this size took
     * time and memory quadratic in the interface count (8,000 interfaces ran it out of heap).
     */
    @Test
    void twoHundredFiftySixTakenMacsAreExactlyTwoHundredFiftySixReplaceOperations() {
        StringBuilder interfaces = new StringBuilder();
        for (int i = 0; i < 256; i++) {
            interfaces
                    .append("{name: nic")
                    .append(i)
                    .append(", bridge: {}, macAddress: \"52:54:00:aa:01:")
                    .append(String.format("%02x", i))
                    .append("\"},");
        }
        String vm = "{apiVersion: kubevirt.io/v1, kind: VirtualMachine, metadata: {name: web, namespace: %s},"
                + " spec: {template: {spec: {domain: {devices: {interfaces: [" + interfaces + "]}}}}}}";
        AdmissionRequest request = create(restored(vm.formatted("team-a"), "plain"));
        Decision decision = mutate(TestCluster.with(vm.formatted("team-b")), request);
        assertTrue(decision.allowed());
        assertEquals(256, decision.patch().size());
        for (int i = 0; i < 256; i++) {
            JsonNode op = decision.patch().get(i);
            assertEquals("replace", op.path("op").asText());
            assertEquals(
                    "/spec/template/spec/domain/devices/interfaces/" + i + "/macAddress",
                    op.path("path").asText());
            assertTrue(LOCAL_UNICAST_MAC.matcher(op.path("value").asText()).matches(), op.toString());
        }
        assertEquals(256, decision.warnings().size());
        assertEquals(
                request.object().at("/spec/template/spec/domain/devices/interfaces/7/name"),
                patched(request, decision).at("/spec/template/spec/domain/devices/interfaces/7/name"),
                "the rest is kept");
    }

    /**
     * What the whole-object diff could not do: a Restore that clears MACs, on a VM with 12,000 of them (the policy's
     * limit raised to allow it), is 12,000 remove operations built in memory linear in the VM. A diff of the two VMs
     * needs a 12,000 x 12,000 table, more than the test JVM's 512 MiB heap (8,000 interfaces ran the Deployment's out).
     * The review gets 30 s here, so only memory, never a slow machine, can fail it.
     */
    @Test
    void clearingTwelveThousandMacsIsTwelveThousandRemoveOperations() throws Exception {
        StringBuilder interfaces = new StringBuilder();
        for (int i = 0; i < 12_000; i++) {
            interfaces
                    .append("{name: nic")
                    .append(i)
                    .append(", bridge: {}, macAddress: \"52:54:01:")
                    .append(String.format("%02x:%02x:%02x", i >> 16, (i >> 8) & 0xff, i & 0xff))
                    .append("\"},");
        }
        ObjectNode vm = restored(
                "{apiVersion: kubevirt.io/v1, kind: VirtualMachine, metadata: {name: web, namespace: team-a},"
                        + " spec: {template: {spec: {domain: {devices: {interfaces: [" + interfaces + "]}}}}}}",
                "plugin");
        Policy wide = dev.lockkeeper.webhook.rules.Rulebook.policyParser()
                .parse("wide.yaml", "limits: {maxInterfaces: 20000, defaultTimeout: 30s, answerReserve: 0s}");
        Decision decision = mutate(TestCluster.with(PLUGIN_RESTORE), wide, create(vm));
        assertTrue(decision.allowed(), decision.message());
        List<String> removed = new ArrayList<>();
        decision.patch().forEach(op -> {
            if (op.path("op").asText().equals("remove"))
                removed.add(op.path("path").asText());
        });
        assertEquals(12_000, removed.size());
        assertEquals("/spec/template/spec/domain/devices/interfaces/11999/macAddress", removed.getLast());
    }

    @Test
    void macsAndFirmwareUsedByAnotherVmOrVmiAreReplacedAndNamedInWarnings() {
        TestCluster cluster = TestCluster.with(ORIGINALS);
        AdmissionRequest request = create(restored(backedUpVm(FIRMWARE), "plain"));
        Decision decision = mutate(cluster, request);
        assertTrue(decision.allowed());
        List<String> paths = new ArrayList<>();
        decision.patch()
                .forEach(op ->
                        paths.add(op.path("op").asText() + " " + op.path("path").asText()));
        assertEquals(
                List.of(
                                "replace /spec/template/spec/domain/firmware/serial",
                                "replace /spec/template/spec/domain/firmware/uuid",
                                "replace /spec/template/spec/domain/devices/interfaces/0/macAddress",
                                "replace /spec/template/spec/domain/devices/interfaces/1/macAddress")
                        .stream()
                        .sorted()
                        .toList(),
                paths.stream().sorted().toList());

        JsonNode domain = patched(request, decision).at("/spec/template/spec/domain");
        String mac0 = domain.at("/devices/interfaces/0/macAddress").asText(),
                mac1 = domain.at("/devices/interfaces/1/macAddress").asText();
        assertTrue(
                LOCAL_UNICAST_MAC.matcher(mac0).matches()
                        && LOCAL_UNICAST_MAC.matcher(mac1).matches(),
                mac0 + " " + mac1);
        assertEquals(
                "52:54:00:aa:bb:03",
                domain.at("/devices/interfaces/2/macAddress").asText(),
                "an unused MAC is kept");
        String uuid = domain.at("/firmware/uuid").asText(),
                serial = domain.at("/firmware/serial").asText();
        assertEquals(4, UUID.fromString(uuid).version());
        assertEquals(
                "{\"efi\":{}}", domain.at("/firmware/bootloader").toString(), "fields the rule does not own are kept");
        assertEquals(
                List.of(
                        "restore: MAC 52-54-00-AA-BB-01 -> " + mac0 + " on interface default (used by VM team-b/web)",
                        "restore: MAC 52:54:00:aa:bb:02 -> " + mac1
                                + " on interface storage (used by VMI team-b/batch)",
                        "restore: uuid " + ORIGINAL_UUID + " -> " + uuid + " (used by VM team-b/web)",
                        "restore: serial web-serial-1 -> " + serial + " (used by VM team-b/web)"),
                decision.warnings());
        decision.warnings().forEach(w -> assertTrue(w.length() <= 120, w));

        assertNull(
                reinvoked(cluster, request, decision).patch(),
                "replacements are unused, so a reinvocation changes nothing");
    }

    @Test
    void theVmItselfAndItsOwnVmiAreNoConflict() {
        TestCluster cluster =
                TestCluster.with(ORIGINALS.replace("team-b", "team-a").replace("name: batch", "name: web"));
        assertNull(
                mutate(cluster, create(restored(backedUpVm(FIRMWARE), "plain"))).patch());
    }

    @Test
    void theSameVmCreatedWithoutARestoreMarkerPassesUntouched() {
        TestCluster cluster = TestCluster.with(ORIGINALS, PLUGIN_RESTORE);
        Decision decision = mutate(cluster, create(created(backedUpVm(FIRMWARE))));
        assertNull(decision.patch());
        assertEquals(List.of(), decision.warnings());
    }

    @Test
    void aVeleroRestoreWithoutPluginLabelsChangesOnlyConflicts() {
        TestCluster cluster = TestCluster.with(PLAIN_RESTORE);
        Decision decision = mutate(cluster, create(restored(backedUpVm(FIRMWARE), "plain")));
        assertNull(decision.patch());
        assertEquals(List.of(), decision.warnings());
    }

    @Test
    void aVeleroRestoreWithPluginLabelsClearsMacsRegeneratesFirmwareAndSetsTheRunStrategy() {
        TestCluster cluster = TestCluster.with(PLUGIN_RESTORE);
        AdmissionRequest request = create(restored(backedUpVm(FIRMWARE), "plugin"));
        Decision decision = mutate(cluster, request);
        ObjectNode stored = patched(request, decision);
        JsonNode domain = stored.at("/spec/template/spec/domain");
        domain.path("devices").path("interfaces").forEach(i -> assertFalse(i.has("macAddress"), i.toString()));
        assertNotEquals(ORIGINAL_UUID, domain.at("/firmware/uuid").asText());
        assertNotEquals("web-serial-1", domain.at("/firmware/serial").asText());
        assertEquals("plugin", Json.annotation(stored, RestoreKeys.IDENTITY_REGENERATED_FOR));
        assertEquals("Halted", stored.at("/spec/runStrategy").asText());
        assertFalse(stored.path("spec").has("running"), "running and runStrategy are exclusive");
        assertEquals(
                List.of(
                        "restore: cleared MAC 52-54-00-AA-BB-01 on interface default (Restore plugin asks)",
                        "restore: cleared MAC 52:54:00:aa:bb:02 on interface storage (Restore plugin asks)",
                        "restore: cleared MAC 52:54:00:aa:bb:03 on interface mgmt (Restore plugin asks)",
                        "restore: uuid " + ORIGINAL_UUID + " -> "
                                + domain.at("/firmware/uuid").asText() + " (Restore plugin asks)",
                        "restore: serial web-serial-1 -> "
                                + domain.at("/firmware/serial").asText() + " (Restore plugin asks)",
                        "restore: runStrategy running: true -> Halted (Restore plugin asks)"),
                decision.warnings());

        Decision again = reinvoked(cluster, request, decision);
        assertNull(again.patch(), "the identity-regenerated-for annotation stops a second regeneration");
        assertEquals(List.of(), again.warnings());
    }

    @Test
    void aReinvocationKeepsMacsAnotherWebhookAssignedAfterTheClearing() throws Exception {
        TestCluster cluster = TestCluster.with(PLUGIN_RESTORE);
        AdmissionRequest request = create(restored(backedUpVm(FIRMWARE), "plugin"));
        ObjectNode cleared = patched(request, mutate(cluster, request));
        ObjectNode assigned = cleared.deepCopy();
        ((ObjectNode) assigned.at("/spec/template/spec/domain/devices/interfaces/0"))
                .put("macAddress", "02:00:00:00:00:01");
        Decision again = mutate(cluster, create(assigned));
        assertNull(again.patch(), "kubemacpool's MAC survives the reinvocation");
    }

    @Test
    void theVeleroRestoreIsReadFromTheConfiguredNamespace() {
        TestCluster cluster = TestCluster.with(PLUGIN_RESTORE.replace("namespace: velero", "namespace: openshift-adp"));
        AdmissionRequest request = create(restored(backedUpVm(FIRMWARE), "plugin"));
        assertNull(mutate(cluster, request).patch(), "not found in the default velero namespace: nothing asked");
        Policy oadp = new Policy(
                java.util.Map.of(),
                java.util.Set.of(),
                Policy.Export.DEFAULT,
                new Policy.Restore(Policy.Restore.DEFAULT.markerLabels(), java.util.List.of(), "openshift-adp"));
        assertNotNull(
                mutate(cluster, oadp, request).patch(), "the plugin labels apply once the namespace is configured");
    }

    @Test
    void regenerationGivesAVmWithoutFirmwareAUuidAndNoSerial() {
        AdmissionRequest request = create(restored(backedUpVm("cpu: {cores: 2}"), "plugin"));
        ObjectNode stored = patched(request, mutate(TestCluster.with(PLUGIN_RESTORE), request));
        JsonNode firmware = stored.at("/spec/template/spec/domain/firmware");
        assertEquals(4, UUID.fromString(firmware.path("uuid").asText()).version());
        assertFalse(firmware.has("serial"));
    }

    @Test
    void aRestoreTheWebhookCannotFindFallsBackToConflictsOnly() {
        Decision decision =
                mutate(TestCluster.with(ORIGINALS), create(restored(backedUpVm(FIRMWARE), "deleted-meanwhile")));
        assertEquals(4, decision.patch().size());
    }

    @Test
    void aRunStrategyThatKubeVirtDoesNotKnowIsIgnoredWithAWarning() {
        TestCluster cluster = TestCluster.with(PLAIN_RESTORE.replace(
                "name: plain, namespace: velero",
                "name: typo, namespace: velero, labels: {velero.kubevirt.io/restore-run-strategy: Stopped}"));
        Decision decision = mutate(cluster, create(restored(backedUpVm(FIRMWARE), "typo")));
        assertNull(decision.patch());
        assertEquals(
                List.of("restore: ignored run strategy Stopped, not a KubeVirt run strategy (Restore typo asks)"),
                decision.warnings());
    }

    @Test
    void warnModeReportsTheIdentityPatchWithoutApplyingIt() {
        Decision decision = mutate(
                TestCluster.with(ORIGINALS),
                mode("restore-vm-identity", EnforcementMode.WARN),
                create(restored(backedUpVm(FIRMWARE), "plain")));
        assertNull(decision.patch());
        assertTrue(
                decision.warnings().getLast().startsWith("restore-vm-identity (warn mode) would patch: replace "),
                decision.warnings().toString());
    }

    @Test
    void generatedMacsAreLocallyAdministeredUnicast() {
        IdentityUsers nobody = new IdentityUsers(TestCluster.with(), "team-a", "web");
        for (int i = 0; i < 1000; i++) {
            String mac = IdentityGenerator.mac(nobody);
            assertTrue(LOCAL_UNICAST_MAC.matcher(mac).matches(), mac);
        }
    }
}
