package dev.lockkeeper.webhook.rules.export;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lockkeeper.webhook.admission.AdmissionRequest;
import dev.lockkeeper.webhook.admission.AdmissionRule;
import dev.lockkeeper.webhook.admission.Cause;
import dev.lockkeeper.webhook.admission.Json;
import dev.lockkeeper.webhook.admission.Match;
import dev.lockkeeper.webhook.admission.Operation;
import dev.lockkeeper.webhook.admission.Verdict;
import dev.lockkeeper.webhook.cluster.ClusterIndex;
import dev.lockkeeper.webhook.cluster.ClusterView;
import dev.lockkeeper.webhook.cluster.ResourceType;
import java.util.List;
import java.util.Optional;

/**
 * Validating, VirtualMachineExport CREATE: refuse to export a running VM or a PVC a live pod
 * mounts, at {@code kubectl apply} time, instead of KubeVirt's export that sits Pending. Snapshot
 * sources are the way to export a running VM; they are allowed, with a warning while not ready.
 */
public final class ExportOnlyWhenStopped implements AdmissionRule {
    private static final Match MATCH = Match.of("export.kubevirt.io", "virtualmachineexports", Operation.CREATE);

    @Override public String name() { return "export-source-in-use"; }

    @Override public Match match() { return MATCH; }

    @Override
    public Verdict admit(AdmissionRequest request, ClusterView cluster) {
        String namespace = request.objectNamespace();
        JsonNode source = request.object().path("spec").path("source");
        String name = Json.text(source, "name");
        return switch (Json.text(source, "kind")) {
            case Exports.VM -> vm(cluster, namespace, name);
            case Exports.PVC -> claimInUse(cluster, namespace, name)
                    .<Verdict>map(pod -> inUse(namespace, name, pod, "stop the pod before exporting")).orElse(Verdict.allow());
            case Exports.SNAPSHOT -> snapshot(cluster, namespace, name);
            default -> Verdict.allow();
        };
    }

    private static Verdict vm(ClusterView cluster, String namespace, String name) {
        Optional<ObjectNode> vm = cluster.get(ResourceType.VIRTUAL_MACHINE, namespace, name);
        Optional<ObjectNode> vmi = cluster.get(ResourceType.VIRTUAL_MACHINE_INSTANCE, namespace, name);
        if (vmi.isPresent() && !Exports.finished(vmi.get()) || vm.isPresent() && Exports.asksToRun(vm.get().path("spec"), () -> vmi)) {
            String message = "Virtual Machine " + namespace + "/" + name + " is running; stop it first (virtctl stop " + name
                    + " -n " + namespace + ") or export a VirtualMachineSnapshot of it instead (spec.source kind VirtualMachineSnapshot)";
            return Verdict.forbidden(message, Cause.forbidden("spec.source", message));
        }
        if (vm.isEmpty()) return Verdict.allow();
        for (String claim : ClusterIndex.volumeClaims(vm.get().path("spec").path("template").path("spec"))) {
            Optional<ObjectNode> pod = claimInUse(cluster, namespace, claim);
            if (pod.isPresent()) return inUse(namespace, claim, pod.get(), "stop it before exporting VM " + name);
        }
        return Verdict.allow();
    }

    private static Optional<ObjectNode> claimInUse(ClusterView cluster, String namespace, String claim) {
        return cluster.byIndex(ClusterIndex.POD_CLAIMS, namespace + "/" + claim).stream().filter(pod -> !Exports.finished(pod)).findFirst();
    }

    private static Verdict inUse(String namespace, String claim, JsonNode pod, String advice) {
        String podName = Json.text(pod, "metadata", "name");
        String phase = Json.text(pod, "status", "phase");
        String message = "PersistentVolumeClaim " + namespace + "/" + claim + " is in use by pod " + namespace + "/" + podName
                + (phase.isEmpty() ? "" : " (" + phase + ")") + "; " + advice + ", or export a VirtualMachineSnapshot instead";
        return Verdict.forbidden(message, Cause.forbidden("spec.source", message));
    }

    private static Verdict snapshot(ClusterView cluster, String namespace, String name) {
        Optional<ObjectNode> snapshot = cluster.read(ResourceType.VIRTUAL_MACHINE_SNAPSHOT, namespace, name);
        if (snapshot.isEmpty()) {
            return Verdict.allow(List.of("VirtualMachineSnapshot " + namespace + "/" + name + " does not exist yet; the export waits for it"));
        }
        if (!snapshot.get().path("status").path("readyToUse").asBoolean(false)) {
            return Verdict.allow(List.of("VirtualMachineSnapshot " + namespace + "/" + name + " is not readyToUse yet; the export waits for it"));
        }
        return Verdict.allow();
    }
}
