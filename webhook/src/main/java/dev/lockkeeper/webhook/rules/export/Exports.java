package dev.lockkeeper.webhook.rules.export;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lockkeeper.webhook.cluster.ClusterIndex;
import dev.lockkeeper.webhook.cluster.ClusterView;
import dev.lockkeeper.webhook.json.Json;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * What KubeVirt's VirtualMachineExports hold on to: an export is active until its phase is
 * Terminated or Skipped (a new export without status is active), and covers its source PVC, or
 * every PVC of its source VM (directly or through the VM's DataVolumes).
 */
final class Exports {
    static final String PVC = "PersistentVolumeClaim";
    static final String VM = "VirtualMachine";
    static final String SNAPSHOT = "VirtualMachineSnapshot";
    static final String BACKUP = "VirtualMachineBackup";
    static final String TEMPLATE = "VirtualMachineTemplate";
    private static final Set<String> FINISHED_EXPORT_PHASES = Set.of("Terminated", "Skipped");
    private static final Set<String> FINISHED_VMI_PHASES = Set.of("Succeeded", "Failed");
    // A VM with one of these asks to run whatever its VMI looks like now.
    private static final Set<String> RUNNING_STRATEGIES = Set.of("Always", "WaitAsReceiver");
    // These ask to run until a VMI has finished; RerunOnFailure runs a failed one again.
    private static final Set<String> RUN_UNTIL_DONE_STRATEGIES = Set.of("RerunOnFailure", "Once");

    private Exports() {}

    static boolean active(JsonNode export) {
        return !FINISHED_EXPORT_PHASES.contains(Json.text(export, "status", "phase"));
    }

    /** KubeVirt's export controller ({@code isSourceInUseVM}): a VMI that has not Succeeded or Failed runs its VM. */
    static boolean finished(JsonNode vmi) {
        return FINISHED_VMI_PHASES.contains(Json.text(vmi, "status", "phase"));
    }

    /**
     * KubeVirt's {@code PodsUsingPVCs}: every pod that has not Succeeded holds its claims. A Failed pod
     * still does (its volumes stay attached until it is deleted), and so does one without a phase yet.
     */
    static boolean holdsClaims(JsonNode pod) {
        return !"Succeeded".equals(Json.text(pod, "status", "phase"));
    }

    /**
     * True when KubeVirt keeps (or puts) a VM with spec {@code vmSpec} running, given its VMI as it is now:
     * {@code running: true} or Always/WaitAsReceiver always; Once and RerunOnFailure until a VMI has finished,
     * and RerunOnFailure again after a failure. Halted and Manual never start a VM by themselves. The VMI is
     * looked up only for the strategies it decides, which are the rare ones.
     */
    static boolean asksToRun(JsonNode vmSpec, Supplier<Optional<ObjectNode>> currentVmi) {
        if (vmSpec.path("running").asBoolean(false)) return true;
        String strategy = Json.text(vmSpec, "runStrategy");
        if (RUNNING_STRATEGIES.contains(strategy)) return true;
        if (!RUN_UNTIL_DONE_STRATEGIES.contains(strategy)) return false;
        Optional<ObjectNode> vmi = currentVmi.get();
        if (vmi.isEmpty() || !finished(vmi.get())) return true;
        return "RerunOnFailure".equals(strategy) && "Failed".equals(Json.text(vmi.get(), "status", "phase"));
    }

    /** Why VirtualMachine {@code vm} may not start now, and what to do about it. */
    static String startRefusal(String namespace, String vm, List<ObjectNode> exports) {
        return startRefusal("VirtualMachine " + namespace + "/" + vm, namespace, exports, "start the VM");
    }

    /** Why {@code subject} ("VirtualMachineInstance team-a/vmi") may not start now, and {@code then} what to do. */
    static String startRefusal(String subject, String namespace, List<ObjectNode> exports, String then) {
        String first = Json.text(exports.getFirst(), "metadata", "name");
        return subject + " cannot start while VirtualMachineExport " + describe(exports)
                + " is active; delete the export (kubectl delete virtualmachineexport " + first + " -n " + namespace
                + ") or wait until it is Terminated, then " + then;
    }

    /** Active exports of VM {@code vm} itself. */
    static List<ObjectNode> ofVm(ClusterView cluster, String namespace, String vm) {
        return active(cluster.byIndex(ClusterIndex.EXPORT_SOURCES, namespace + "/" + VM + "/" + vm));
    }

    /** Active exports that hold {@code claim}: exports of the PVC, and exports of any VM whose disks use it. */
    static List<ObjectNode> holding(ClusterView cluster, String namespace, String claim) {
        List<ObjectNode> found = new ArrayList<>(
                active(cluster.byIndex(ClusterIndex.EXPORT_SOURCES, namespace + "/" + PVC + "/" + claim)));
        for (ObjectNode vm : cluster.byIndex(ClusterIndex.VM_CLAIMS, namespace + "/" + claim)) {
            found.addAll(ofVm(cluster, namespace, Json.text(vm, "metadata", "name")));
        }
        return found;
    }

    /** Active exports that hold any of {@code claims} or the VM itself, without repeats. */
    static List<ObjectNode> blockingStart(ClusterView cluster, String namespace, String vm, List<String> claims) {
        Map<String, ObjectNode> byName = new LinkedHashMap<>();
        ofVm(cluster, namespace, vm).forEach(e -> byName.put(Json.text(e, "metadata", "name"), e));
        for (String claim : claims)
            holding(cluster, namespace, claim).forEach(e -> byName.putIfAbsent(Json.text(e, "metadata", "name"), e));
        return new ArrayList<>(byName.values());
    }

    /** {@code team-a/web-export (Ready), team-a/disk-export (Pending)}. */
    static String describe(List<ObjectNode> exports) {
        return exports.stream()
                .map(e -> Json.text(e, "metadata", "namespace") + "/" + Json.text(e, "metadata", "name") + " ("
                        + (Json.text(e, "status", "phase").isEmpty()
                                ? "no status yet"
                                : Json.text(e, "status", "phase"))
                        + ")")
                .collect(Collectors.joining(", "));
    }

    private static List<ObjectNode> active(List<ObjectNode> exports) {
        return exports.stream().filter(Exports::active).toList();
    }
}
