package dev.lockkeeper.webhook.rules.clone;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lockkeeper.webhook.admission.AdmissionRequest;
import dev.lockkeeper.webhook.admission.AdmissionRule;
import dev.lockkeeper.webhook.admission.Match;
import dev.lockkeeper.webhook.admission.Operation;
import dev.lockkeeper.webhook.admission.ReviewContext;
import dev.lockkeeper.webhook.admission.Verdict;
import dev.lockkeeper.webhook.cluster.ClusterView;
import dev.lockkeeper.webhook.cluster.ResourceType;
import dev.lockkeeper.webhook.json.Json;
import dev.lockkeeper.webhook.rules.CdiAnnotations;
import dev.lockkeeper.webhook.rules.datavolume.StorageSize;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Validating, DataVolume CREATE, warnings only: CDI finds these clone incompatibilities later in
 * its controller ({@code CloneValidationFailed} events); saying so at {@code kubectl apply} time
 * with the same words saves a user the hunt. Never denies.
 */
public final class CloneCompatibilityWarnings implements AdmissionRule {
    private static final Match MATCH = Match.of("cdi.kubevirt.io", "datavolumes", Operation.CREATE);
    private static final String KUBEVIRT = "kubevirt";
    private static final String FILESYSTEM = "Filesystem";

    @Override
    public String name() {
        return "clone-compatibility-warnings";
    }

    @Override
    public Match match() {
        return MATCH;
    }

    @Override
    public Verdict admit(ReviewContext review) {
        AdmissionRequest request = review.request();
        ClusterView cluster = review.cluster();
        if (!(CloneSources.resolve(request.object(), request.objectNamespace(), cluster)
                        instanceof CloneSource.Located source)
                || source.kind() != CloneSource.Kind.PVC) {
            return Verdict.allow();
        }
        Optional<ObjectNode> sourcePvc =
                cluster.get(ResourceType.PERSISTENT_VOLUME_CLAIM, source.namespace(), source.name());
        if (sourcePvc.isEmpty()) return Verdict.allow();
        JsonNode spec = request.object().path("spec");
        JsonNode target = spec.path("pvc").isObject() ? spec.path("pvc") : spec.path("storage");
        List<String> warnings = new ArrayList<>();

        String sourceContentType = orDefault(Json.annotation(sourcePvc.get(), CdiAnnotations.CONTENT_TYPE), KUBEVIRT);
        String targetContentType = orDefault(Json.text(spec, "contentType"), KUBEVIRT);
        if (!sourceContentType.equals(targetContentType)) {
            warnings.add("Source contentType (" + sourceContentType + ") and target contentType (" + targetContentType
                    + ") do not match");
        }
        String sourceMode = orDefault(Json.text(sourcePvc.get(), "spec", "volumeMode"), FILESYSTEM);
        // CDI's validateClone compares sizes only for an explicit spec.pvc request, or a Storage-API request with a
        // size from a Block source: a Filesystem source's size says nothing about the image inside (fs overhead).
        boolean explicitPvcRequest = spec.path("pvc").isObject();
        boolean storageSizeGiven =
                !target.path("resources").path("requests").path("storage").isMissingNode();
        if (explicitPvcRequest || storageSizeGiven && sourceMode.equals("Block")) {
            sizeWarning(sourcePvc.get().path("spec"), target).ifPresent(warnings::add);
        }

        // spec.storage without volumeMode lets CDI pick from the StorageProfile: nothing to compare yet.
        String targetMode = spec.path("pvc").isObject()
                ? orDefault(Json.text(target, "volumeMode"), FILESYSTEM)
                : Json.text(target, "volumeMode");
        if (!targetMode.isEmpty() && !sourceMode.equals(targetMode) && !KUBEVIRT.equals(targetContentType)) {
            warnings.add("source volumeMode (" + sourceMode + ") and target volumeMode (" + targetMode
                    + ") do not match, contentType (" + targetContentType + ")");
        }
        return Verdict.allow(warnings);
    }

    private static Optional<String> sizeWarning(JsonNode sourceSpec, JsonNode target) {
        try {
            Optional<BigDecimal> sourceSize = StorageSize.requested(sourceSpec);
            Optional<BigDecimal> targetSize = StorageSize.requested(target);
            if (sourceSize.isEmpty() || targetSize.isEmpty())
                return Optional.of("source/target missing storage resource requests");
            // Quantity.Value(): rounded up to whole bytes
            BigInteger source =
                    sourceSize.get().setScale(0, RoundingMode.CEILING).toBigInteger();
            BigInteger wanted =
                    targetSize.get().setScale(0, RoundingMode.CEILING).toBigInteger();
            if (source.compareTo(wanted) > 0) {
                return Optional.of(
                        "target resources requests storage size is smaller than the source " + wanted + " < " + source);
            }
        } catch (IllegalArgumentException e) {
            // A malformed size is the spec validator's to report.
        }
        return Optional.empty();
    }

    private static String orDefault(String value, String fallback) {
        return value.isEmpty() ? fallback : value;
    }
}
