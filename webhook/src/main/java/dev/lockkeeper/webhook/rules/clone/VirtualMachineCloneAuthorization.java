package dev.lockkeeper.webhook.rules.clone;

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
import dev.lockkeeper.webhook.cluster.ResourceType;
import dev.lockkeeper.webhook.json.Json;
import dev.lockkeeper.webhook.rules.CdiAnnotations;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Validating, VirtualMachine CREATE/UPDATE: each {@code dataVolumeTemplate} that clones from
 * another namespace must be clonable by the VM's service account, as KubeVirt checks it. Templates
 * unchanged by an UPDATE, or whose DataVolume already exists (kubevirt#12204), are not re-checked.
 */
public final class VirtualMachineCloneAuthorization implements AdmissionRule {
    private static final Match MATCH = Match.of("kubevirt.io", "virtualmachines", Operation.CREATE, Operation.UPDATE);

    private final CloneAuthorizer authorizer;

    public VirtualMachineCloneAuthorization(CloneAuthorizer authorizer) {
        this.authorizer = authorizer;
    }

    @Override
    public String name() {
        return "virtualmachine-clone-authorization";
    }

    @Override
    public Match match() {
        return MATCH;
    }

    @Override
    public Verdict admit(ReviewContext review) {
        AdmissionRequest request = review.request();
        ClusterView cluster = review.cluster();
        JsonNode templates = request.object().path("spec").path("dataVolumeTemplates");
        if (!templates.isArray() || templates.isEmpty()) return Verdict.allow();
        String namespace = request.objectNamespace();
        String account = serviceAccountName(request.object());
        // A template is only "unchanged" if it would be cloned as the same service account.
        Map<String, JsonNode> previous =
                request.oldObject() != null && account.equals(serviceAccountName(request.oldObject()))
                        ? previousTemplates(request)
                        : Map.of();
        Requester serviceAccount = new Requester.ServiceAccount(namespace, account);
        List<Cause> causes = new ArrayList<>();
        boolean authorizationFailed = false;
        for (int i = 0; i < templates.size(); i++) {
            JsonNode template = templates.get(i);
            String field = "spec.dataVolumeTemplates[" + i + "]";
            String templateNamespace = Json.text(template, "metadata", "namespace");
            if (!templateNamespace.isEmpty() && !templateNamespace.equals(namespace)) {
                causes.add(Cause.invalid(
                        field,
                        "Embedded DataVolume namespace " + templateNamespace + " differs from VM namespace "
                                + namespace));
                continue;
            }
            String name = Json.text(template, "metadata", "name");
            if (template.equals(previous.get(name))
                    || cluster.get(ResourceType.DATA_VOLUME, namespace, name).isPresent()) continue;
            if (Json.hasAnnotation(template, CdiAnnotations.PRE_POPULATED)
                    || Json.hasAnnotation(template, CdiAnnotations.CHECK_STATIC_VOLUME)) {
                continue;
            }
            CloneSource resolved = CloneSources.resolve(template, namespace, cluster);
            if (resolved instanceof CloneSource.Unresolved unresolved) {
                causes.add(Cause.invalid(
                        field,
                        "Authorization failed, message is: "
                                + unresolved.cause().message()));
            } else if (resolved instanceof CloneSource.Located source
                    && !source.namespace().equals(namespace)) {
                switch (authorizer.authorize(serviceAccount, source, cluster)) {
                    case CloneAuthorization.Refused refused -> {
                        authorizationFailed = true;
                        causes.add(Cause.invalid(field, "Authorization failed, message is: " + refused.message()));
                    }
                    case CloneAuthorization.Unchecked unchecked -> {
                        authorizationFailed = true;
                        causes.add(Cause.invalid(field, unchecked.message()));
                    }
                    case CloneAuthorization.Granted granted -> {}
                }
            }
        }
        if (causes.isEmpty()) return Verdict.allow();
        Verdict.Deny invalid = Verdict.invalid(causes);
        return authorizationFailed
                ? new Verdict.Deny(403, "Forbidden", invalid.message(), invalid.causes(), List.of())
                : invalid;
    }

    private static Map<String, JsonNode> previousTemplates(AdmissionRequest request) {
        Map<String, JsonNode> byName = new HashMap<>();
        if (request.operation() != Operation.UPDATE || request.oldObject() == null) return byName;
        for (JsonNode template : request.oldObject().path("spec").path("dataVolumeTemplates")) {
            byName.put(Json.text(template, "metadata", "name"), template);
        }
        return byName;
    }

    /** {@code serviceAccountName} of the VM template, else the first serviceAccount volume, else "default". */
    static String serviceAccountName(ObjectNode vm) {
        JsonNode templateSpec = vm.path("spec").path("template").path("spec");
        String explicit = Json.text(templateSpec, "serviceAccountName");
        if (!explicit.isEmpty()) return explicit;
        for (JsonNode volume : templateSpec.path("volumes")) {
            String fromVolume = Json.text(volume, "serviceAccount", "serviceAccountName");
            if (!fromVolume.isEmpty()) return fromVolume;
        }
        return "default";
    }
}
