package dev.lockkeeper.webhook.rules.restore;

import static dev.lockkeeper.webhook.rules.restore.RestoreReviews.*;
import static dev.lockkeeper.webhook.rules.restore.RestoreVmIdentityTest.LOCAL_UNICAST_MAC;
import static dev.lockkeeper.webhook.rules.restore.RestoreVmIdentityTest.ORIGINALS;
import static dev.lockkeeper.webhook.rules.restore.RestoreVmIdentityTest.ORIGINAL_UUID;
import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lockkeeper.webhook.admission.AdmissionRequest;
import dev.lockkeeper.webhook.admission.Decision;
import dev.lockkeeper.webhook.support.TestCluster;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link RestoreVmiIdentity}: a VMI no VM owns gets the identity fixes a restored VM gets. */
class RestoreVmiIdentityTest {
    /** A standalone VMI backed up in team-b and restored into team-a, next to the original VM's MAC and firmware. */
    static String backedUpVmi(String metadataExtra) {
        return """
                apiVersion: kubevirt.io/v1
                kind: VirtualMachineInstance
                metadata: {name: scratch, namespace: team-a, uid: 3e4f0000-0000-4000-8000-000000000041%s}
                spec:
                  domain:
                    firmware: {uuid: %s, serial: web-serial-1}
                    devices:
                      interfaces:
                      - {name: default, masquerade: {}, macAddress: "52:54:00:aa:bb:01"}
                      - {name: spare, bridge: {}, macAddress: "52:54:00:aa:bb:09"}
                  networks: [{name: default, pod: {}}]
                status: {phase: Running}
                """.formatted(metadataExtra, ORIGINAL_UUID);
    }

    @Test
    void macsAndFirmwareAnotherVmUsesAreReplacedInTheVmiDomain() {
        TestCluster cluster = TestCluster.with(ORIGINALS);
        AdmissionRequest request = create(restored(backedUpVmi(""), "plain"));
        Decision decision = mutate(cluster, request);
        assertTrue(decision.allowed());
        List<String> ops = new ArrayList<>();
        decision.patch()
                .forEach(op ->
                        ops.add(op.path("op").asText() + " " + op.path("path").asText()));
        assertEquals(
                List.of(
                        "replace /spec/domain/devices/interfaces/0/macAddress",
                        "replace /spec/domain/firmware/serial",
                        "replace /spec/domain/firmware/uuid"),
                ops.stream().sorted().toList());
        JsonNode domain = patched(request, decision).at("/spec/domain");
        String mac = domain.at("/devices/interfaces/0/macAddress").asText();
        assertTrue(LOCAL_UNICAST_MAC.matcher(mac).matches(), mac);
        assertEquals(
                "52:54:00:aa:bb:09",
                domain.at("/devices/interfaces/1/macAddress").asText(),
                "an unused MAC is kept");
        assertEquals(
                "restore: MAC 52:54:00:aa:bb:01 -> " + mac + " on interface default (used by VM team-b/web)",
                decision.warnings().getFirst());
        assertNull(reinvoked(cluster, request, decision).patch(), "a reinvocation changes nothing");
    }

    @Test
    void aPluginRestoreClearsTheVmiMacsAndRegeneratesItsFirmware() {
        AdmissionRequest request = create(restored(backedUpVmi(""), "plugin"));
        JsonNode domain = patched(request, mutate(TestCluster.with(PLUGIN_RESTORE), request))
                .at("/spec/domain");
        domain.path("devices").path("interfaces").forEach(i -> assertFalse(i.has("macAddress"), i.toString()));
        assertNotEquals(ORIGINAL_UUID, domain.at("/firmware/uuid").asText());
    }

    @Test
    void aVmiAVmOwnsIsLeftToTheOwnedVmiRefusal() {
        TestCluster cluster = TestCluster.with(ORIGINALS);
        for (String owned : List.of(
                ", annotations: {cdi.kubevirt.io/velero.isOwned: \"true\"}",
                ", labels: {vm.kubevirt.io/name: scratch}")) {
            Decision decision = mutate(cluster, create(restored(backedUpVmi(owned), "plain")));
            assertNull(decision.patch(), owned);
            assertFalse(
                    validate(cluster, create(restored(backedUpVmi(owned), "plain")))
                            .allowed(),
                    owned);
        }
    }

    @Test
    void aVmiCreatedWithoutARestoreMarkerPassesUntouched() {
        Decision decision = mutate(TestCluster.with(ORIGINALS), create(created(backedUpVmi(""))));
        assertNull(decision.patch());
        assertEquals(List.of(), decision.warnings());
    }
}
