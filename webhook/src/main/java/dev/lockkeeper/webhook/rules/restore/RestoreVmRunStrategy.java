package dev.lockkeeper.webhook.rules.restore;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lockkeeper.webhook.admission.AdmissionRequest;
import dev.lockkeeper.webhook.admission.AdmissionRule;
import dev.lockkeeper.webhook.admission.Match;
import dev.lockkeeper.webhook.admission.ObjectEdit;
import dev.lockkeeper.webhook.admission.Operation;
import dev.lockkeeper.webhook.admission.ReviewContext;
import dev.lockkeeper.webhook.admission.Verdict;
import dev.lockkeeper.webhook.cluster.ClusterView;
import dev.lockkeeper.webhook.json.Json;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Mutating, restored VM CREATE: the Velero Restore's {@code restore-run-strategy} label sets the
 * restored VM's {@code spec.runStrategy} (e.g. Halted, to restore without booting), as the
 * kubevirt-velero-plugin does; {@code spec.running} is removed because KubeVirt rejects both.
 */
public final class RestoreVmRunStrategy implements AdmissionRule {
    private static final Match MATCH = Match.of("kubevirt.io", "virtualmachines", Operation.CREATE);
    private static final Set<String> RUN_STRATEGIES =
            Set.of("Always", "RerunOnFailure", "Manual", "Halted", "Once", "WaitAsReceiver");

    @Override
    public String name() {
        return "restore-vm-run-strategy";
    }

    @Override
    public Match match() {
        return MATCH;
    }

    @Override
    public Verdict admit(ReviewContext review) {
        AdmissionRequest request = review.request();
        ClusterView cluster = review.cluster();
        ObjectNode vm = request.object();
        if (!RestoreMarkers.present(review.policy(), vm)) return Verdict.allow();
        Optional<VeleroRestore> restore =
                VeleroRestore.of(vm, cluster, review.policy().restore().veleroNamespace());
        String wanted =
                restore.map(r -> r.label(RestoreKeys.RESTORE_RUN_STRATEGY)).orElse("");
        JsonNode spec = vm.path("spec");
        if (wanted.isEmpty() || !(spec instanceof ObjectNode)) return Verdict.allow();
        String asks = " (Restore " + restore.get().name() + " asks)";
        if (!RUN_STRATEGIES.contains(wanted)) {
            return Verdict.allow(
                    List.of("restore: ignored run strategy " + wanted + ", not a KubeVirt run strategy" + asks));
        }
        String current =
                spec.has("running") ? "running: " + spec.path("running").asText() : Json.text(spec, "runStrategy");
        if (current.equals(wanted)) return Verdict.allow();
        ObjectEdit edit = ObjectEdit.of(vm);
        edit.remove("spec", "running");
        edit.put(wanted, "spec", "runStrategy");
        return edit.verdict(
                List.of("restore: runStrategy " + (current.isEmpty() ? "(none)" : current) + " -> " + wanted + asks));
    }
}
