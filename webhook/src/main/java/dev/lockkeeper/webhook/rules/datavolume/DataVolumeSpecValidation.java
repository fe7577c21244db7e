package dev.lockkeeper.webhook.rules.datavolume;

import com.fasterxml.jackson.databind.JsonNode;
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
import java.math.BigDecimal;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Validating, DataVolume CREATE/UPDATE: CDI's validating webhook ({@code datavolume-validate.go}),
 * its checks in its order with its messages; the first problem found is reported, as upstream does.
 * UPDATE: the spec must be semantically unchanged (multi-stage checkpoint additions excepted), then
 * the same checks as CREATE run, minus the existing-PVC check. Cause fields are JSON paths
 * ({@code spec.pvc}) where CDI prints Go field names ({@code spec.PVC}).
 */
public final class DataVolumeSpecValidation implements AdmissionRule {
    private static final Match MATCH = Match.of("cdi.kubevirt.io", "datavolumes", Operation.CREATE, Operation.UPDATE);
    // kvalidation.DNS1123SubdomainMaxLength
    private static final int MAX_NAME_LENGTH = 253;
    private static final BigDecimal ONE_MIB = BigDecimal.valueOf(1024 * 1024);
    private static final List<String> ACCESS_MODES =
            List.of("ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod");
    private static final Set<String> CONTENT_TYPES = Set.of("", "kubevirt", "archive");

    @Override
    public String name() {
        return "datavolume-spec-validation";
    }

    @Override
    public Match match() {
        return MATCH;
    }

    @Override
    public Verdict admit(ReviewContext review) {
        AdmissionRequest request = review.request();
        ClusterView cluster = review.cluster();
        JsonNode dataVolume = request.object();
        JsonNode spec = dataVolume.path("spec");
        if (request.operation() == Operation.UPDATE) {
            JsonNode oldSpec = request.oldObject().path("spec");
            if (!SpecEquality.multiStageUpdate(spec, oldSpec) && !SpecEquality.equal(spec, oldSpec)) {
                return deny(Cause.invalid("spec", "Cannot update DataVolume Spec"));
            }
        }
        String name = request.objectName();
        if (name.length() > MAX_NAME_LENGTH) {
            return deny(
                    Cause.invalid("metadata.name", "Name cannot be longer than " + MAX_NAME_LENGTH + " characters"));
        }
        if (request.operation() == Operation.CREATE && !name.isEmpty()) {
            String namespace = request.objectNamespace();
            var existing = cluster.get(ResourceType.PERSISTENT_VOLUME_CLAIM, namespace, name);
            if (existing.isPresent() && !ClaimAdoption.allowed(existing.get(), dataVolume, cluster)) {
                return deny(Cause.invalid(
                        "metadata.name", "Destination PVC " + namespace + "/" + name + " already exists"));
            }
        }
        List<Cause> problems = specProblems(spec);
        return problems.isEmpty() ? Verdict.allow() : Verdict.invalid(problems);
    }

    /** CDI's {@code validateDataVolumeSpec}: one cause, except for external population, where CDI gives all. */
    private static List<Cause> specProblems(JsonNode spec) {
        JsonNode target = spec.path("pvc").isObject() ? spec.path("pvc") : spec.path("storage");
        String targetField = spec.path("pvc").isObject() ? "spec.pvc" : "spec.storage";
        Optional<Cause> problem = targetProblem(spec);
        if (problem.isPresent()) return List.of(problem.get());
        JsonNode dataSource = target.path("dataSource"), dataSourceRef = target.path("dataSourceRef");
        if (dataSource.isObject() || dataSourceRef.isObject()) {
            return ExternalPopulation.problems(spec, targetField, dataSource, dataSourceRef);
        }
        return sourceProblem(spec).map(List::of).orElse(List.of());
    }

    /** The target storage: pvc xor storage, size, storage class name, access modes. */
    private static Optional<Cause> targetProblem(JsonNode spec) {
        JsonNode pvc = spec.path("pvc");
        JsonNode storage = spec.path("storage");
        boolean hasPvc = pvc.isObject(), hasStorage = storage.isObject();
        if (!hasPvc && !hasStorage) return Optional.of(Cause.invalid("spec.pvc", "Missing Data volume PVC"));
        if (hasPvc && hasStorage) {
            return Optional.of(
                    Cause.invalid("spec", "Duplicate storage definition, both target storage and target pvc defined"));
        }
        JsonNode target = hasPvc ? pvc : storage;
        String targetField = hasPvc ? "spec.pvc" : "spec.storage";
        Optional<Cause> size = sizeProblem(target, hasPvc ? "PVC" : "Storage", targetField, hasPvc || !isClone(spec));
        if (size.isPresent()) return size;
        String storageClass = Json.text(target, "storageClassName");
        if (storageClass.length() > MAX_NAME_LENGTH) {
            return Optional.of(Cause.invalid(
                    targetField + ".storageClassName",
                    "Name cannot be longer than " + MAX_NAME_LENGTH + " characters"));
        }
        return hasPvc ? pvcAccessModeProblem(pvc) : storageAccessModeProblem(storage);
    }

    private static Optional<Cause> pvcAccessModeProblem(JsonNode pvc) {
        JsonNode modes = pvc.path("accessModes");
        String field = "spec.pvc.accessModes";
        if (!modes.isArray() || modes.isEmpty())
            return Optional.of(Cause.invalid(field, "Required value: at least 1 access mode is required"));
        if (modes.size() > 1) return Optional.of(Cause.invalid(field, "PVC multiple accessModes"));
        return accessModeProblem(modes.get(0), field);
    }

    /** The Storage API allows no access mode (CDI picks from the StorageProfile) and several. */
    private static Optional<Cause> storageAccessModeProblem(JsonNode storage) {
        for (JsonNode mode : storage.path("accessModes")) {
            Optional<Cause> problem = accessModeProblem(mode, "spec.storage.accessModes");
            if (problem.isPresent()) return problem;
        }
        return Optional.empty();
    }

    private static Optional<Cause> sizeProblem(JsonNode target, String label, String path, boolean required) {
        String field = path + ".resources.requests.storage";
        Optional<BigDecimal> size;
        try {
            size = StorageSize.requested(target);
        } catch (IllegalArgumentException e) {
            return Optional.of(Cause.invalid(field, label + " size is not a valid quantity: " + e.getMessage()));
        }
        if (size.isEmpty())
            return required ? Optional.of(Cause.invalid(field, label + " size is missing")) : Optional.empty();
        if (size.get().signum() <= 0)
            return Optional.of(Cause.invalid(field, label + " size can't be equal or less than zero"));
        if (size.get().compareTo(ONE_MIB) < 0)
            return Optional.of(Cause.invalid(field, label + " size should be at least 1MiB"));
        return Optional.empty();
    }

    private static Optional<Cause> accessModeProblem(JsonNode mode, String field) {
        if (ACCESS_MODES.contains(mode.asText())) return Optional.empty();
        return Optional.of(Cause.invalid(
                field,
                "Unsupported value: \"" + mode.asText() + "\": supported values: \""
                        + String.join("\", \"", ACCESS_MODES) + "\""));
    }

    /** Source or sourceRef, then CDI's import-source checks, then the clone-source references. */
    private static Optional<Cause> sourceProblem(JsonNode spec) {
        JsonNode source = spec.path("source");
        JsonNode sourceRef = spec.path("sourceRef");
        boolean hasSource = source.isObject(), hasSourceRef = sourceRef.isObject();
        if (hasSource == hasSourceRef) {
            return Optional.of(Cause.invalid(
                    "spec.source", "Data volume should have either Source or SourceRef, or be externally populated"));
        }
        if (hasSourceRef) return sourceRefProblem(sourceRef);
        int sources = 0;
        for (Iterator<JsonNode> values = source.elements(); values.hasNext(); )
            if (values.next().isObject()) sources++;
        if (sources == 0) return Optional.of(Cause.invalid("spec.source", "Missing Data volume source"));
        if (sources > 1) return Optional.of(Cause.invalid("spec.source", "Multiple Data volume sources"));
        String contentType = Json.text(spec, "contentType");
        if (!CONTENT_TYPES.contains(contentType)) {
            return Optional.of(Cause.invalid("spec.contentType", "ContentType not one of: kubevirt, archive"));
        }
        Optional<Cause> importProblem = ImportSources.problem(source, contentType);
        if (importProblem.isPresent()) return importProblem;
        if (source.path("pvc").isObject() && incompleteReference(source.path("pvc"))) {
            return Optional.of(Cause.invalid("spec.source.pvc", "spec.source.PVC source PVC is not valid"));
        }
        if (source.path("snapshot").isObject() && incompleteReference(source.path("snapshot"))) {
            return Optional.of(
                    Cause.invalid("spec.source.snapshot", "spec.source.Snapshot source snapshot is not valid"));
        }
        return Optional.empty();
    }

    private static Optional<Cause> sourceRefProblem(JsonNode sourceRef) {
        String kind = Json.text(sourceRef, "kind");
        if (kind.isEmpty()) return Optional.of(Cause.invalid("spec.sourceRef.kind", "Missing sourceRef kind"));
        if (!kind.equals("DataSource")) {
            return Optional.of(Cause.invalid(
                    "spec.sourceRef.kind",
                    "Unsupported sourceRef kind " + kind + ", currently only DataSource is supported"));
        }
        if (Json.text(sourceRef, "name").isEmpty())
            return Optional.of(Cause.invalid("spec.sourceRef.name", "Missing sourceRef name"));
        return Optional.empty();
    }

    private static boolean incompleteReference(JsonNode reference) {
        return Json.text(reference, "namespace").isEmpty()
                || Json.text(reference, "name").isEmpty();
    }

    private static boolean isClone(JsonNode spec) {
        return spec.path("source").path("pvc").isObject()
                || spec.path("source").path("snapshot").isObject()
                || spec.path("sourceRef").isObject();
    }

    private static Verdict deny(Cause cause) {
        return Verdict.invalid(cause.message(), cause);
    }
}
