package dev.lockkeeper.webhook.rules.export;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lockkeeper.webhook.admission.AdmissionRequest;
import dev.lockkeeper.webhook.admission.AdmissionRule;
import dev.lockkeeper.webhook.admission.Cause;
import dev.lockkeeper.webhook.admission.Match;
import dev.lockkeeper.webhook.admission.Operation;
import dev.lockkeeper.webhook.admission.ReviewContext;
import dev.lockkeeper.webhook.admission.Verdict;
import dev.lockkeeper.webhook.cluster.ClusterIndex;
import dev.lockkeeper.webhook.cluster.ClusterView;
import dev.lockkeeper.webhook.cluster.ResourceType;
import dev.lockkeeper.webhook.json.Json;
import java.util.List;
import java.util.Optional;

/**
 * Validating, VirtualMachineExport CREATE: refuse to export a running VM or a PVC a pod holds, at
 * {@code kubectl apply} time, instead of KubeVirt's export that sits Pending ({@code InUse}). What
 * "in use" means follows KubeVirt's export controller, per source kind:
 * <ul>
 *   <li>VirtualMachine: its VMI has not Succeeded or Failed ({@code isSourceInUseVM}); beyond upstream, also a VM
 *       whose spec asks to run (KubeVirt would start it under the exporter) and a disk of it that a pod holds.</li>
 *   <li>PersistentVolumeClaim: a pod that has not Succeeded mounts it ({@code PodsUsingPVCs}).</li>
 *   <li>VirtualMachineSnapshot, VirtualMachineBackup, VirtualMachineTemplate: never in use; KubeVirt exports a
 *       snapshot's restored copies, a backup taken from the running VM, and a template's volumes without checking
 *       pods. While the source is not there or not ready, the export waits: a warning in the export controller's
 *       words says so.</li>
 * </ul>
 */
public final class ExportSourceInUse implements AdmissionRule {
    private static final Match MATCH = Match.of("export.kubevirt.io", "virtualmachineexports", Operation.CREATE);

    @Override
    public String name() {
        return "export-source-in-use";
    }

    @Override
    public Match match() {
        return MATCH;
    }

    @Override
    public Verdict admit(ReviewContext review) {
        AdmissionRequest request = review.request();
        ClusterView cluster = review.cluster();
        String namespace = request.objectNamespace();
        JsonNode source = request.object().path("spec").path("source");
        String name = Json.text(source, "name");
        return switch (Json.text(source, "kind")) {
            case Exports.VM -> vm(cluster, namespace, name);
            case Exports.PVC ->
                claimInUse(cluster, namespace, name)
                        .<Verdict>map(pod -> inUse(namespace, name, pod, "stop the pod before exporting"))
                        .orElse(Verdict.allow());
            case Exports.SNAPSHOT -> snapshot(cluster, namespace, name);
            case Exports.BACKUP -> backup(cluster, namespace, name);
            case Exports.TEMPLATE -> template(cluster, namespace, name);
            default -> Verdict.allow();
        };
    }

    private static Verdict vm(ClusterView cluster, String namespace, String name) {
        Optional<ObjectNode> vm = cluster.get(ResourceType.VIRTUAL_MACHINE, namespace, name);
        Optional<ObjectNode> vmi = cluster.get(ResourceType.VIRTUAL_MACHINE_INSTANCE, namespace, name);
        if (vmi.isPresent() && !Exports.finished(vmi.get())
                || vm.isPresent() && Exports.asksToRun(vm.get().path("spec"), () -> vmi)) {
            String message = "Virtual Machine " + namespace + "/" + name + " is running; stop it first (virtctl stop "
                    + name + " -n " + namespace
                    + ") or export a VirtualMachineSnapshot of it instead (spec.source kind VirtualMachineSnapshot)";
            return Verdict.forbidden(message, Cause.forbidden("spec.source", message));
        }
        if (vm.isEmpty()) return Verdict.allow();
        for (String claim :
                ClusterIndex.volumeClaims(vm.get().path("spec").path("template").path("spec"))) {
            Optional<ObjectNode> pod = claimInUse(cluster, namespace, claim);
            if (pod.isPresent()) return inUse(namespace, claim, pod.get(), "stop it before exporting VM " + name);
        }
        return Verdict.allow();
    }

    private static Optional<ObjectNode> claimInUse(ClusterView cluster, String namespace, String claim) {
        return cluster.byIndex(ClusterIndex.POD_CLAIMS, namespace + "/" + claim).stream()
                .filter(Exports::holdsClaims)
                .findFirst();
    }

    private static Verdict inUse(String namespace, String claim, JsonNode pod, String advice) {
        String podName = Json.text(pod, "metadata", "name");
        String phase = Json.text(pod, "status", "phase");
        String message = "PersistentVolumeClaim " + namespace + "/" + claim + " is in use by pod " + namespace + "/"
                + podName + (phase.isEmpty() ? "" : " (" + phase + ")") + "; " + advice
                + ", or export a VirtualMachineSnapshot instead";
        return Verdict.forbidden(message, Cause.forbidden("spec.source", message));
    }

    /** The export controller's {@code getPVCFromSourceVMSnapshot} conditions. */
    private static Verdict snapshot(ClusterView cluster, String namespace, String name) {
        Optional<ObjectNode> snapshot = cluster.read(ResourceType.VIRTUAL_MACHINE_SNAPSHOT, namespace, name);
        String subject = Exports.SNAPSHOT + " " + namespace + "/" + name;
        if (snapshot.isEmpty()) return waits(subject + " not found");
        if (!snapshot.get().path("status").path("readyToUse").asBoolean(false))
            return waits(subject + " is not ready to use");
        return Verdict.allow();
    }

    /** The export controller's {@code VMBackupSource.SourceCondition}: it exports a backup that is Progressing and has volumes. */
    private static Verdict backup(ClusterView cluster, String namespace, String name) {
        Optional<ObjectNode> backup = cluster.read(ResourceType.VIRTUAL_MACHINE_BACKUP, namespace, name);
        String subject = Exports.BACKUP + " " + namespace + "/" + name + ": ";
        if (backup.isEmpty()) return waits(subject + "VMBackup does not exist yet");
        JsonNode status = backup.get().path("status");
        if (status.isMissingNode() || status.isNull()) return waits(subject + "VMBackup is not progressing");
        if (status.path("includedVolumes").isEmpty()) return waits(subject + "VMBackup has no included volumes");
        Optional<JsonNode> progressing = condition(status, "Progressing");
        if (progressing.isEmpty()) return waits(subject + "VMBackup progressing condition not found");
        if (!"True".equals(Json.text(progressing.get(), "status"))) {
            String message = Json.text(progressing.get(), "message");
            return waits(subject + (message.isEmpty() ? "VMBackup is not progressing" : message));
        }
        return Verdict.allow();
    }

    /** The export controller's {@code getPVCFromSourceVMTemplate}: it exports a template whose Ready condition is True. */
    private static Verdict template(ClusterView cluster, String namespace, String name) {
        Optional<ObjectNode> template = cluster.read(ResourceType.VIRTUAL_MACHINE_TEMPLATE, namespace, name);
        String subject = Exports.TEMPLATE + " " + namespace + "/" + name;
        if (template.isEmpty()) return waits(subject + " not found");
        boolean ready = condition(template.get().path("status"), "Ready")
                .map(c -> "True".equals(Json.text(c, "status")))
                .orElse(false);
        return ready ? Verdict.allow() : waits(subject + " is not ready");
    }

    private static Optional<JsonNode> condition(JsonNode status, String type) {
        for (JsonNode condition : status.path("conditions"))
            if (type.equals(Json.text(condition, "type"))) return Optional.of(condition);
        return Optional.empty();
    }

    private static Verdict waits(String reason) {
        return Verdict.allow(List.of(reason + "; the export waits for it"));
    }
}
