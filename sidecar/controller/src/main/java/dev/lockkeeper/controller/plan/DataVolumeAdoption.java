package dev.lockkeeper.controller.plan;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lockkeeper.controller.api.Json;
import dev.lockkeeper.controller.api.Keys;
import dev.lockkeeper.controller.api.VolumeCopy;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The VolumeCopy a DataVolume moved by Lockkeeper needs. The webhook's datavolume-data-mover rewrites a DataVolume
 * annotated {@value #OPT_IN}{@code : lockkeeper} to be populated by the VolumeCopy of its own name (CDI's external
 * population), keeping the source in {@value #COPY_SOURCE}; CDI then creates the target PVC with that
 * {@code dataSourceRef}, controlled by the DataVolume. Nobody else creates that VolumeCopy, so the controller does,
 * when the PVC's VolumeCopy is missing and the PVC's controlling owner is that opted-in DataVolume.
 *
 * <p>The copy is owned by the DataVolume (deleting the DataVolume deletes it) and names it in
 * {@value #AUTHORIZING_DATA_VOLUME}: for a source in another namespace the DataVolume's clone token authorizes it, and
 * is verified here before the copy is made (and again by {@link CloneTokenCheck} before a byte moves). A DataVolume
 * whose token does not grant exactly its copy-source to its own namespace and name (missing, expired at creation,
 * tampered, or a copy-source edited after admission) gets no copy, and an Event with CDI's message.
 */
public final class DataVolumeAdoption {
    public static final String OPT_IN = "lockkeeper.dev/data-mover";
    public static final String OPT_IN_VALUE = "lockkeeper";
    public static final String COPY_SOURCE = "lockkeeper.dev/copy-source";
    /** On a VolumeCopy made for a DataVolume: the DataVolume (same namespace) whose clone token authorizes it. */
    public static final String AUTHORIZING_DATA_VOLUME = "lockkeeper.dev/authorizing-datavolume";

    public static final String GROUP = "cdi.kubevirt.io";
    public static final String API_VERSION = GROUP + "/v1beta1";
    public static final String KIND = "DataVolume";
    /** CDI's {@code MessageCloneValidationFailed} (pkg/controller/datavolume/clone-controller-base.go). */
    static final String VALIDATION_FAILED = "The clone doesn't meet the validation requirements";

    /** A Kubernetes object name (DNS-1123 subdomain) or namespace (label): what a copy-source must name. */
    private static final Pattern NAME = Pattern.compile("[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?");

    private final CloneTokenCheck tokens;

    public DataVolumeAdoption(CloneTokenCheck tokens) {
        this.tokens = tokens;
    }

    public sealed interface Decision {
        /** Not a DataVolume's copy: the target is planned like any other (its VolumeCopy is simply missing). */
        record NotOurs() implements Decision {}

        record CreateCopy(GenericKubernetesResource copy) implements Decision {}

        /** @param detail why, for the log (the Event tells the user CDI's answer) */
        record Refused(Action.Emit event, String detail) implements Decision {}
    }

    /**
     * The DataVolume to read for a target PVC: its controlling owner, when that is a DataVolume named like the
     * VolumeCopy the PVC waits for.
     */
    public static Optional<OwnerReference> owningDataVolume(PersistentVolumeClaim target) {
        if (!CopyPlanner.wantsCopy(target)) return Optional.empty();
        String copyName = target.getSpec().getDataSourceRef().getName();
        return controller(target.getMetadata())
                .filter(ref -> KIND.equals(ref.getKind())
                        && ref.getApiVersion() != null
                        && ref.getApiVersion().startsWith(GROUP + "/")
                        && copyName != null
                        && copyName.equals(ref.getName()));
    }

    /** The ownerReference with {@code controller: true}, as Kubernetes allows at most one. */
    static Optional<OwnerReference> controller(ObjectMeta metadata) {
        if (metadata == null || metadata.getOwnerReferences() == null) return Optional.empty();
        return metadata.getOwnerReferences().stream()
                .filter(ref -> Boolean.TRUE.equals(ref.getController()))
                .findFirst();
    }

    /**
     * @param target     a target PVC whose VolumeCopy does not exist
     * @param dataVolume its {@link #owningDataVolume owning DataVolume} as read from the cluster (empty: not found)
     */
    public Decision decide(PersistentVolumeClaim target, Optional<GenericKubernetesResource> dataVolume) {
        Optional<OwnerReference> owner = owningDataVolume(target);
        if (owner.isEmpty() || dataVolume.isEmpty()) return new Decision.NotOurs();
        // a copy under way or done whose VolumeCopy went is cancelled or finished by the planner, never restarted
        var targetMeta = target.getMetadata();
        if (targetMeta.getFinalizers() != null && targetMeta.getFinalizers().contains(Keys.FINALIZER)
                || targetMeta.getAnnotations() != null
                        && CopyPlanner.SUCCEEDED.equals(
                                targetMeta.getAnnotations().get(Keys.CLONE_PHASE))) return new Decision.NotOurs();
        GenericKubernetesResource dv = dataVolume.get();
        ObjectMeta meta = dv.getMetadata();
        Map<String, String> annotations = meta.getAnnotations() == null ? Map.of() : meta.getAnnotations();
        if (owner.get().getUid() == null
                || !owner.get().getUid().equals(meta.getUid())
                || !target.getMetadata().getNamespace().equals(meta.getNamespace())
                || meta.getDeletionTimestamp() != null
                || !OPT_IN_VALUE.equals(annotations.get(OPT_IN))) return new Decision.NotOurs();
        String dvName = meta.getNamespace() + "/" + meta.getName();
        String source = annotations.get(COPY_SOURCE);
        String[] parts = source == null ? new String[0] : source.split("/", -1);
        if (parts.length != 2 || !valid(parts[0], 63) || !valid(parts[1], 253)) {
            String detail = "DataVolume " + dvName + " has no valid " + COPY_SOURCE + " (namespace/name): " + source;
            return new Decision.Refused(
                    Action.Emit.warning(CopyPlanner.CLONE_VALIDATION_FAILED, VALIDATION_FAILED + ": " + detail),
                    detail);
        }
        JsonNode contentType = Json.tree(dv).path("spec").path("contentType");
        if (!contentType.isMissingNode() && !List.of("kubevirt", "archive").contains(contentType.asText())) {
            // CDI's webhook answer (validateDataVolumeSpec); an edit after admission would fail the VolumeCopy's schema
            String detail = "ContentType not one of: kubevirt, archive";
            return new Decision.Refused(
                    Action.Emit.warning(CopyPlanner.CLONE_VALIDATION_FAILED, VALIDATION_FAILED + ": " + detail),
                    "DataVolume " + dvName + ": " + detail);
        }
        GenericKubernetesResource copy = copyFor(dv, parts[0], parts[1]);
        TokenVerdict verdict = tokens.checkDataVolume(Json.volumeCopy(copy), dv);
        if (verdict instanceof TokenVerdict.Invalid invalid) {
            // CDI's ValidateCloneTokenDV says "clone token missing"; every other failure is "invalid token"
            String answer =
                    CloneTokenCheck.MISSING.equals(invalid.detail()) ? CloneTokenCheck.MISSING : "invalid token";
            return new Decision.Refused(
                    Action.Emit.warning(CopyPlanner.CLONE_VALIDATION_FAILED, VALIDATION_FAILED + ": " + answer),
                    "DataVolume " + dvName + ": " + invalid.detail());
        }
        return new Decision.CreateCopy(copy);
    }

    /** The actions for a decision: none for {@link Decision.NotOurs}. */
    public static List<Action> actions(Decision decision) {
        return switch (decision) {
            case Decision.NotOurs n -> List.of();
            case Decision.CreateCopy create -> List.of(new Action.Create(create.copy()));
            case Decision.Refused refused -> List.of(refused.event());
        };
    }

    private static boolean valid(String name, int max) {
        return name.length() <= max && NAME.matcher(name).matches();
    }

    /**
     * Content type, preallocation and priority class as CDI reads them off the DataVolume's spec (a preallocation
     * left out is false here; CDI would fall back to the CDIConfig's global default).
     */
    private static GenericKubernetesResource copyFor(GenericKubernetesResource dv, String namespace, String name) {
        JsonNode spec = Json.tree(dv).path("spec");
        String contentType =
                spec.path("contentType").isTextual() ? spec.path("contentType").asText() : null;
        Boolean preallocation = spec.path("preallocation").isBoolean()
                ? spec.path("preallocation").asBoolean()
                : null;
        String priorityClass = spec.path("priorityClassName").isTextual()
                ? spec.path("priorityClassName").asText()
                : null;
        ObjectMeta meta = dv.getMetadata();
        var metadata = new ObjectMetaBuilder()
                .withName(meta.getName())
                .withNamespace(meta.getNamespace())
                .withAnnotations(Map.of(AUTHORIZING_DATA_VOLUME, meta.getName()))
                .withOwnerReferences(new OwnerReferenceBuilder()
                        .withApiVersion(dv.getApiVersion() == null ? API_VERSION : dv.getApiVersion())
                        .withKind(KIND)
                        .withName(meta.getName())
                        .withUid(meta.getUid())
                        .withController(true)
                        // no blockOwnerDeletion: setting it needs update on datavolumes/finalizers, which the
                        // controller does not hold (OwnerReferencesPermissionEnforcement)
                        .build())
                .build();
        return Json.generic(new VolumeCopy(
                Keys.API_VERSION,
                VolumeCopy.KIND,
                metadata,
                new VolumeCopy.Spec(
                        new VolumeCopy.Source(new VolumeCopy.PvcSource(namespace, name)),
                        contentType,
                        preallocation,
                        priorityClass,
                        null,
                        null),
                null));
    }
}
