package dev.lockkeeper.webhook.rules.restore;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lockkeeper.webhook.admission.AdmissionRequest;
import dev.lockkeeper.webhook.admission.AdmissionRule;
import dev.lockkeeper.webhook.admission.Cause;
import dev.lockkeeper.webhook.admission.Match;
import dev.lockkeeper.webhook.admission.Operation;
import dev.lockkeeper.webhook.admission.ReviewContext;
import dev.lockkeeper.webhook.admission.Verdict;
import dev.lockkeeper.webhook.cluster.ClusterView;
import dev.lockkeeper.webhook.cluster.FeatureGates;
import dev.lockkeeper.webhook.cluster.ResourceType;
import dev.lockkeeper.webhook.json.Json;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Validating, VirtualMachineRestore CREATE/UPDATE: KubeVirt v1.9's {@code VMRestoreAdmitter} with its messages
 * (sic), in its order: the {@code Snapshot} gate (KubeVirt CR), target apiGroup and kind, {@code patches} only
 * under {@code /spec/} or labels/annotations (upstream's own string parsing), volume restore overrides, volume
 * restore and ownership policies, no second restore of a target while one is in progress; spec immutable.
 * Not ported: the backend-storage check for a restore to another VM (it reads the snapshot's content, which
 * Lockkeeper does not watch); KubeVirt's own webhook still makes it.
 *
 * <p>Beyond upstream, a target whose VMI exists is judged by {@code targetReadinessPolicy} (KubeVirt restores
 * only once no VMI exists): StopTarget, WaitGracePeriod (the default) and WaitEventually are allowed with a
 * warning saying what KubeVirt will do; FailImmediate, which KubeVirt would fail at once, is refused.
 */
public final class VirtualMachineRestoreValidation implements AdmissionRule {
    private static final Match MATCH =
            Match.of("snapshot.kubevirt.io", "virtualmachinerestores", Operation.CREATE, Operation.UPDATE);
    private static final String SNAPSHOT_GATE = "Snapshot";
    private static final Set<String> VOLUME_RESTORE_POLICIES = Set.of("InPlace", "RandomizeNames", "PrefixTargetName");
    private static final Set<String> VOLUME_OWNERSHIP_POLICIES = Set.of("VirtualMachine", "None");

    @Override
    public String name() {
        return "virtualmachinerestore-validation";
    }

    @Override
    public Match match() {
        return MATCH;
    }

    @Override
    public Verdict admit(ReviewContext review) {
        AdmissionRequest request = review.request();
        ClusterView cluster = review.cluster();
        JsonNode spec = request.object().path("spec");
        if (request.operation() == Operation.UPDATE) {
            return spec.equals(request.oldObject().path("spec"))
                    ? Verdict.allow()
                    : Verdict.invalid(List.of(Cause.invalid("spec", "spec in immutable after creation")));
        }
        if (!FeatureGates.kubevirt(cluster, SNAPSHOT_GATE, FeatureGates.Maturity.BETA)) {
            // KubeVirt answers this with a plain error (400), not a field cause.
            return new Verdict.Deny(
                    400, "BadRequest", "Snapshot/Restore feature gate not enabled", List.of(), List.of());
        }
        JsonNode target = spec.path("target");
        List<Cause> causes = new ArrayList<>();
        if (!target.path("apiGroup").isTextual()) {
            causes.add(Cause.notFound("spec.target.apiGroup", "missing apiGroup"));
        } else if (!"kubevirt.io".equals(target.path("apiGroup").asText())) {
            causes.add(Cause.invalid("spec.target.apiGroup", "invalid apiGroup"));
        } else if (!"VirtualMachine".equals(Json.text(target, "kind"))) {
            causes.add(Cause.invalid("spec.target.kind", "invalid kind"));
        } else {
            causes.addAll(patchCauses(spec.path("patches")));
            causes.addAll(overrideCauses(spec.path("volumeRestoreOverrides")));
            policyCause(spec, "volumeRestorePolicy", VOLUME_RESTORE_POLICIES, "volume restore policy")
                    .ifPresent(causes::add);
            policyCause(spec, "volumeOwnershipPolicy", VOLUME_OWNERSHIP_POLICIES, "volume ownership policy")
                    .ifPresent(causes::add);
        }
        String namespace = request.objectNamespace();
        for (ObjectNode other : cluster.list(ResourceType.VIRTUAL_MACHINE_RESTORE, namespace)) {
            if (other.path("spec").path("target").equals(target)
                    && !other.path("status").path("complete").asBoolean(false)) {
                causes.add(Cause.invalid(
                        "spec.target",
                        "VirtualMachineRestore \"" + Json.text(other, "metadata", "name") + "\" in progress"));
            }
        }
        if (!causes.isEmpty()) return Verdict.invalid(causes);
        return targetReadiness(spec, namespace, cluster);
    }

    /**
     * Upstream's {@code validatePatches}, string for string: each patch is trimmed of braces and split at commas
     * into {@code "key": value} pairs; a pair without exactly one colon is malformed, and a {@code "path"} must be
     * under {@code /spec/}, {@code /metadata/labels/} or {@code /metadata/annotations/}.
     */
    static List<Cause> patchCauses(JsonNode patches) {
        List<Cause> causes = new ArrayList<>();
        for (JsonNode patch : patches) {
            for (String pair : trim(patch.asText(), "{}").split(",", -1)) {
                String[] keyValue = pair.split(":", -1);
                if (keyValue.length != 2) {
                    causes.add(Cause.invalid(
                            "spec.patches",
                            "patch format is not valid - one \":\" expected in a single key-value json patch: "
                                    + pair));
                    continue;
                }
                String key = keyValue[0].strip(), value = keyValue[1].strip();
                if (!key.equals("\"path\"")) continue;
                if (value.startsWith("\"/metadata/labels/") || value.startsWith("\"/metadata/annotations/")) continue;
                if (!value.startsWith("\"/spec/")) {
                    causes.add(Cause.invalid(
                            "spec.patches", "patching is valid only for elements under /spec/ only: " + pair));
                }
            }
        }
        return causes;
    }

    /** Go's {@code strings.Trim}: drops every leading and trailing character that is in {@code set}. */
    private static String trim(String text, String set) {
        int start = 0, end = text.length();
        while (start < end && set.indexOf(text.charAt(start)) >= 0) start++;
        while (end > start && set.indexOf(text.charAt(end - 1)) >= 0) end--;
        return text.substring(start, end);
    }

    private static List<Cause> overrideCauses(JsonNode overrides) {
        List<Cause> causes = new ArrayList<>();
        int i = 0;
        for (JsonNode override : overrides) {
            String at = "spec.volumeRestoreOverrides[" + i++ + "]";
            if (Json.text(override, "volumeName").isEmpty())
                causes.add(Cause.invalid(at + ".volumeName", "must provide a volume name"));
            // Go's nil check: an empty map counts as given, only an absent one does not.
            if (Json.text(override, "restoreName").isEmpty()
                    && !override.path("annotations").isObject()
                    && !override.path("labels").isObject()) {
                causes.add(Cause.invalid(at, "must provide at least one overriden field"));
            }
        }
        return causes;
    }

    private static Optional<Cause> policyCause(JsonNode spec, String field, Set<String> allowed, String what) {
        if (!spec.has(field) || spec.path(field).isNull()) return Optional.empty();
        String policy = spec.path(field).asText();
        return allowed.contains(policy)
                ? Optional.empty()
                : Optional.of(Cause.invalid("spec." + field, what + " \"" + policy + "\" doesn't exist"));
    }

    /** KubeVirt restores a VM only once it has no VMI ({@code vmRestoreTarget.Ready}); until then the policy decides. */
    private static Verdict targetReadiness(JsonNode spec, String namespace, ClusterView cluster) {
        String target = Json.text(spec, "target", "name");
        Optional<ObjectNode> vmi = target.isEmpty()
                ? Optional.empty()
                : cluster.get(ResourceType.VIRTUAL_MACHINE_INSTANCE, namespace, target);
        if (vmi.isEmpty()) return Verdict.allow();
        String phase = Json.text(vmi.get(), "status", "phase");
        String subject = "VirtualMachine \"" + target + "\" is not stopped (its VirtualMachineInstance is "
                + (phase.isEmpty() ? "starting" : phase) + ")";
        String stop = "virtctl stop " + target + " -n " + namespace;
        String policy = Json.text(spec, "targetReadinessPolicy");
        return switch (policy.isEmpty() ? "WaitGracePeriod" : policy) {
            case "StopTarget" ->
                Verdict.allow(
                        List.of(subject + ": KubeVirt stops it, then restores (targetReadinessPolicy StopTarget)"));
            case "WaitEventually" ->
                Verdict.allow(List.of(subject
                        + ": the restore waits until it is stopped (targetReadinessPolicy WaitEventually); " + stop));
            case "FailImmediate" -> {
                String message = subject
                        + ": targetReadinessPolicy FailImmediate would fail the restore at once; stop it first (" + stop
                        + ") or use targetReadinessPolicy StopTarget";
                yield Verdict.invalid(message, Cause.invalid("spec.targetReadinessPolicy", message));
            }
            default ->
                Verdict.allow(List.of(subject
                        + ": the restore fails unless it is stopped within 5m (targetReadinessPolicy WaitGracePeriod); "
                        + stop));
        };
    }
}
