package dev.lockkeeper.controller.api;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import java.util.List;
import java.util.Optional;

/**
 * A {@code VolumeCopy} ({@code volumecopies.lockkeeper.dev/v1alpha1}): the data source a target PVC's
 * {@code spec.dataSourceRef} names, in the target's namespace. Bound 1:1 to one PVC ({@code status.claimRef}).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public record VolumeCopy(String apiVersion, String kind, ObjectMeta metadata, Spec spec, Status status) {
    public static final String KIND = "VolumeCopy";
    public static final String PLURAL = "volumecopies";

    @JsonInclude(JsonInclude.Include.NON_NULL)
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Spec(
            Source source,
            String contentType,
            Boolean preallocation,
            String priorityClassName,
            Boolean verify,
            String maxRate) {
        public String effectiveContentType() {
            return contentType == null ? "kubevirt" : contentType;
        }

        public boolean effectivePreallocation() {
            return Boolean.TRUE.equals(preallocation);
        }

        public boolean effectiveVerify() {
            return !Boolean.FALSE.equals(verify);
        }
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Source(PvcSource pvc) {}

    @JsonInclude(JsonInclude.Include.NON_NULL)
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record PvcSource(String namespace, String name) {}

    /** @param phase one of CDI's DataVolume phase names ({@link Phase}) */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Status(
            String phase,
            ClaimRef claimRef,
            String progress,
            Long bytesTotal,
            Long bytesDone,
            Transfer transfer,
            String digest,
            List<Condition> conditions,
            String startTime,
            String completionTime,
            String message) {
        public static final Status EMPTY =
                new Status(null, null, null, null, null, null, null, List.of(), null, null, null);

        public Optional<Condition> condition(String type) {
            return conditions == null
                    ? Optional.empty()
                    : conditions.stream().filter(c -> type.equals(c.type())).findFirst();
        }
    }

    public record ClaimRef(String name, String uid) {}

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Transfer(
            String sourceNode, String targetNode, Boolean local, Integer attempts, Long resumedFromBytes) {}

    /** CDI's DataVolume phase names, as the issue asks. */
    public enum Phase {
        Pending,
        CloneScheduled,
        CloneInProgress,
        RebindInProgress,
        Succeeded,
        Failed
    }

    public Status statusOrEmpty() {
        return status == null ? Status.EMPTY : status;
    }

    public String namespace() {
        return metadata.getNamespace();
    }

    public String name() {
        return metadata.getName();
    }

    public String sourceNamespace() {
        String ns = spec.source().pvc().namespace();
        return ns == null || ns.isEmpty() ? namespace() : ns;
    }

    public String sourceName() {
        return spec.source().pvc().name();
    }

    public boolean crossNamespace() {
        return !sourceNamespace().equals(namespace());
    }
}
