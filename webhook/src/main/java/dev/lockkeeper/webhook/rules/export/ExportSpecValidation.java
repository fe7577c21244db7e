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
import dev.lockkeeper.webhook.cluster.ClusterView;
import dev.lockkeeper.webhook.cluster.FeatureGates;
import dev.lockkeeper.webhook.json.Json;
import dev.lockkeeper.webhook.policy.GoDuration;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Validating, VirtualMachineExport CREATE/UPDATE (v1beta1 and v1): KubeVirt v1.9's {@code VMExportAdmitter}, the
 * same checks in the same order with its messages (source name, then API group, per kind; a VirtualMachineTemplate
 * source only with the {@code OCIExport} gate and virt-template deployment on, read from the KubeVirt CR), spec
 * immutable after creation (compared as KubeVirt's {@code Semantic.DeepEqual} does: {@code 60m} is {@code 1h}).
 * Beyond upstream, a {@code ttlDuration} must parse and be positive, and one above the policy's maximum is warned about.
 */
public final class ExportSpecValidation implements AdmissionRule {
    private static final Match MATCH =
            Match.of("export.kubevirt.io", "virtualmachineexports", Operation.CREATE, Operation.UPDATE);

    @Override
    public String name() {
        return "export-spec-validation";
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
            return semantic(spec).equals(semantic(request.oldObject().path("spec")))
                    ? Verdict.allow()
                    : Verdict.invalid(List.of(Cause.invalid("spec", "spec in immutable after creation")));
        }
        List<Cause> causes = sourceCauses(spec.path("source"), cluster);
        List<String> warnings = new ArrayList<>();
        if (spec.has("ttlDuration")) {
            Duration ttl = GoDuration.parse(spec.path("ttlDuration").asText(null));
            Duration max = review.policy().export().maxTtl();
            if (ttl == null) {
                causes.add(Cause.invalid(
                        "spec.ttlDuration",
                        "ttlDuration \"" + spec.path("ttlDuration").asText() + "\" is not a duration like 2h or 90m"));
            } else if (ttl.isZero() || ttl.isNegative()) {
                causes.add(Cause.invalid(
                        "spec.ttlDuration",
                        "ttlDuration must be positive, got "
                                + spec.path("ttlDuration").asText()));
            } else if (ttl.compareTo(max) > 0) {
                warnings.add("ttlDuration " + spec.path("ttlDuration").asText() + " exceeds the recommended maximum "
                        + max.toString().substring(2).toLowerCase());
            }
        }
        if (!causes.isEmpty()) return Verdict.invalid(causes);
        return Verdict.allow(warnings);
    }

    /** The spec as Go decodes it: a {@code ttlDuration} is a length of time, whatever its spelling. */
    private static JsonNode semantic(JsonNode spec) {
        if (!(spec instanceof ObjectNode object) || !spec.path("ttlDuration").isTextual()) return spec;
        Duration ttl = GoDuration.parse(spec.path("ttlDuration").asText());
        if (ttl == null) return spec;
        ObjectNode copy = object.deepCopy();
        copy.put("ttlDuration", ttl.toNanos());
        return copy;
    }

    private static List<Cause> sourceCauses(JsonNode source, ClusterView cluster) {
        List<Cause> causes = new ArrayList<>();
        String name = Json.text(source, "name");
        JsonNode group = source.path("apiGroup");
        String apiGroup = group.isTextual() ? group.asText() : null;
        switch (Json.text(source, "kind")) {
            case Exports.PVC -> {
                if (name.isEmpty()) causes.add(Cause.invalid("spec.source.name", "PVC name must not be empty"));
                if (apiGroup != null && !apiGroup.isEmpty())
                    causes.add(Cause.invalid("spec.source.apiGroup", "PVC API group must be missing or blank"));
            }
            case Exports.SNAPSHOT -> {
                if (name.isEmpty()) causes.add(Cause.invalid("spec.source.name", "VMSnapshot name must not be empty"));
                if (!"snapshot.kubevirt.io".equals(apiGroup)) {
                    causes.add(
                            Cause.invalid("spec.source.apiGroup", "VMSnapshot API group must be snapshot.kubevirt.io"));
                }
            }
            case Exports.VM -> {
                if (name.isEmpty())
                    causes.add(Cause.invalid("spec.source.name", "Virtual Machine name must not be empty"));
                if (!"kubevirt.io".equals(apiGroup))
                    causes.add(Cause.invalid("spec.source.apiGroup", "VM API group must be kubevirt.io"));
            }
            case Exports.BACKUP -> {
                if (name.isEmpty())
                    causes.add(Cause.invalid("spec.source.name", "VirtualMachineBackup name must not be empty"));
                if (!"backup.kubevirt.io".equals(apiGroup)) {
                    causes.add(Cause.invalid(
                            "spec.source.apiGroup", "VirtualMachineBackup API group must be backup.kubevirt.io"));
                }
            }
            case Exports.TEMPLATE -> {
                if (!FeatureGates.kubevirt(cluster, FeatureGates.KUBEVIRT_OCI_EXPORT, FeatureGates.Maturity.ALPHA)
                        || !FeatureGates.kubevirtTemplateDeployment(cluster)) {
                    causes.add(
                            Cause.invalid(
                                    "spec.source.kind",
                                    "VirtualMachineTemplate source requires the OCIExport feature gate and virt-template deployment to be enabled"));
                    break;
                }
                if (name.isEmpty())
                    causes.add(Cause.invalid("spec.source.name", "VirtualMachineTemplate name must not be empty"));
                if (!"template.kubevirt.io".equals(apiGroup)) {
                    causes.add(Cause.invalid(
                            "spec.source.apiGroup", "VirtualMachineTemplate API group must be template.kubevirt.io"));
                }
            }
            default -> causes.add(Cause.invalid("spec.source.kind", "invalid kind"));
        }
        return causes;
    }
}
