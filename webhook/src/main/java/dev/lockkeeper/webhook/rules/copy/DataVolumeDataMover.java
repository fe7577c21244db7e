package dev.lockkeeper.webhook.rules.copy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lockkeeper.webhook.admission.AdmissionRequest;
import dev.lockkeeper.webhook.admission.AdmissionRule;
import dev.lockkeeper.webhook.admission.Cause;
import dev.lockkeeper.webhook.admission.Match;
import dev.lockkeeper.webhook.admission.ObjectEdit;
import dev.lockkeeper.webhook.admission.Operation;
import dev.lockkeeper.webhook.admission.ReviewContext;
import dev.lockkeeper.webhook.admission.Verdict;
import dev.lockkeeper.webhook.cluster.ClusterView;
import dev.lockkeeper.webhook.cluster.FeatureGates;
import dev.lockkeeper.webhook.cluster.ResourceType;
import dev.lockkeeper.webhook.json.Json;
import dev.lockkeeper.webhook.rules.datavolume.StorageSize;
import io.fabric8.kubernetes.api.model.Quantity;
import java.math.BigDecimal;
import java.util.List;
import java.util.Optional;

/**
 * Mutating, DataVolume CREATE: a DataVolume annotated {@value #OPT_IN}{@code : lockkeeper} that clones a PVC is
 * rewritten to be populated by a VolumeCopy of its own name ({@code spec.storage.dataSourceRef}, CDI's external
 * population), so KubeVirt users get Lockkeeper's mover with one line. {@code spec.source} goes; the source is kept in
 * {@value #COPY_SOURCE}. A size left out is filled in from the source as CDI's {@code detectCloneSize} does (its
 * capacity, inflated by CDI's filesystem overhead for a filesystem target: {@code InflateSizeWithOverhead}).
 *
 * <p>Runs after datavolume-clone-authorization, which has by then authorized the requester for a source in another
 * namespace and put on the DataVolume the clone token for that source and this DataVolume's namespace and name,
 * exactly the claims the VolumeCopy of the same name needs. A {@value #COPY_SOURCE} the client sent is removed: only
 * this rule writes it.
 */
public final class DataVolumeDataMover implements AdmissionRule {
    static final String OPT_IN = "lockkeeper.dev/data-mover";
    static final String COPY_SOURCE = "lockkeeper.dev/copy-source";
    private static final Match MATCH = Match.of("cdi.kubevirt.io", "datavolumes", Operation.CREATE);
    /** CDI's {@code util.DefaultAlignBlockSize}: an image is rounded up to whole MiB before the overhead is added. */
    private static final long ALIGN = 1024 * 1024;

    @Override
    public String name() {
        return "datavolume-data-mover";
    }

    @Override
    public Match match() {
        return MATCH;
    }

    @Override
    public Verdict admit(ReviewContext review) {
        AdmissionRequest request = review.request();
        ObjectEdit dataVolume = ObjectEdit.of(request.object());
        dataVolume.remove("metadata", "annotations", COPY_SOURCE);
        JsonNode pvc = dataVolume.object().path("spec").path("source").path("pvc");
        if (!"lockkeeper".equals(Json.text(dataVolume.object(), "metadata", "annotations", OPT_IN))
                || !pvc.isObject()
                || Json.text(pvc, "name").isEmpty()) return dataVolume.verdict(List.of());
        String namespace = request.objectNamespace();
        String name = request.objectName();
        if (name.isEmpty()) {
            String message = "a DataVolume moved by Lockkeeper (" + OPT_IN + ": lockkeeper) needs metadata.name: its"
                    + " VolumeCopy is named after it; set metadata.name instead of generateName";
            return Verdict.invalid(message, Cause.invalid("metadata.name", message));
        }
        String sourceNamespace = Json.text(pvc, "namespace").isEmpty() ? namespace : Json.text(pvc, "namespace");
        String sourceName = Json.text(pvc, "name");
        // spec.storage, or spec.pvc for a DataVolume written against the older API (CDI refuses both at once).
        String target = !dataVolume.object().path("spec").path("storage").isObject()
                        && dataVolume.object().path("spec").path("pvc").isObject()
                ? "pvc"
                : "storage";
        JsonNode storage = dataVolume.object().path("spec").path(target);
        if (!sizeGiven(storage)) {
            Optional<ObjectNode> source =
                    review.cluster().get(ResourceType.PERSISTENT_VOLUME_CLAIM, sourceNamespace, sourceName);
            if (source.isEmpty()) {
                String message = "the size of DataVolume " + namespace + "/" + name + " cannot be filled in: its source"
                        + " PersistentVolumeClaim " + sourceNamespace + "/" + sourceName + " was not found; set"
                        + " spec.storage.resources.requests.storage";
                return Verdict.invalid(message, Cause.notFound("spec.source.pvc", message));
            }
            long size = cloneSize(source.get(), storage, review.cluster());
            dataVolume.put(Long.toString(size), "spec", target, "resources", "requests", "storage");
        }
        dataVolume.remove("spec", "source");
        dataVolume.put(VolumeCopies.GROUP, "spec", target, "dataSourceRef", "apiGroup");
        dataVolume.put("VolumeCopy", "spec", target, "dataSourceRef", "kind");
        dataVolume.put(name, "spec", target, "dataSourceRef", "name");
        dataVolume.put(sourceNamespace + "/" + sourceName, "metadata", "annotations", COPY_SOURCE);
        return dataVolume.verdict(List.of());
    }

    private static boolean sizeGiven(JsonNode storage) {
        try {
            return StorageSize.requested(storage)
                    .filter(size -> size.signum() > 0)
                    .isPresent();
        } catch (IllegalArgumentException malformed) {
            return true; // not this rule's to answer: datavolume-spec-validation refuses it with CDI's message
        }
    }

    /**
     * CDI's {@code detectCloneSize} for a PVC source: the source's capacity (its request while unbound), and for a
     * filesystem target {@code InflateSizeWithOverhead}. CDI sizes a filesystem source of kubevirt content by the
     * image's virtual size, found by a pod; the copy here moves the whole filesystem, so its capacity is the size.
     */
    static long cloneSize(JsonNode sourcePvc, JsonNode targetStorage, ClusterView cluster) {
        JsonNode capacity = sourcePvc.path("status").path("capacity").path("storage");
        BigDecimal bytes = capacity.isTextual()
                ? Quantity.getAmountInBytes(new Quantity(capacity.asText()))
                : StorageSize.requested(sourcePvc.path("spec")).orElse(BigDecimal.ZERO);
        long size = bytes.longValue();
        if ("Block".equals(Json.text(targetStorage, "volumeMode"))) return size;
        return requiredSpace(filesystemOverhead(cluster, Json.text(targetStorage, "storageClassName")), size);
    }

    /**
     * CDI's {@code GetFilesystemOverheadForStorageClass}: the CDIConfig's per-class overhead, else its global one, 0
     * without a CDIConfig. A target naming no class gets the global overhead (CDI would look up the default
     * StorageClass's own entry, which the webhook does not watch).
     */
    static double filesystemOverhead(ClusterView cluster, String storageClass) {
        Optional<ObjectNode> config = cluster.get(ResourceType.CDI_CONFIG, "", FeatureGates.CDI_CONFIG_NAME);
        if (config.isEmpty()) return 0;
        JsonNode overhead = config.get().path("status").path("filesystemOverhead");
        String perClass = Json.text(overhead, "storageClass", storageClass);
        String percent = storageClass.isEmpty() || perClass.isEmpty() ? Json.text(overhead, "global") : perClass;
        try {
            return percent.isEmpty() ? 0 : Double.parseDouble(percent);
        } catch (NumberFormatException e) {
            return 0; // CDI's strconv.ParseFloat error is dropped the same way
        }
    }

    /** CDI's {@code util.GetRequiredSpace}, in the same float arithmetic. */
    static long requiredSpace(double overhead, long requested) {
        long aligned = (long) Math.ceil((double) requested / (double) ALIGN) * ALIGN;
        return (long) Math.ceil((double) aligned * (1 + overhead));
    }
}
