package dev.lockkeeper.controller.api;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import dev.lockkeeper.sidecar.agent.TaskStatus;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import java.util.Optional;

/**
 * The internal {@code CopyTask} custom resource ({@code copytasks.lockkeeper.dev/v1alpha1}, installation namespace,
 * created only by the controller, named after the target PVC's UID). Its spec has exactly the fields the agent's
 * {@code TaskParser} reads (which refuses any other), and its status is the agent's {@link TaskStatus}, so the agent
 * can take these objects as one more task intake.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public record CopyTaskResource(String apiVersion, String kind, ObjectMeta metadata, Spec spec, TaskStatus status) {
    public static final String KIND = "CopyTask";
    public static final String PLURAL = "copytasks";

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Spec(
            Endpoint source,
            Endpoint target,
            String contentType,
            boolean preallocation,
            boolean targetIsZero,
            double filesystemOverhead,
            boolean verify,
            String maxRate,
            boolean cancel) {
        public Spec withCancel() {
            return new Spec(
                    source,
                    target,
                    contentType,
                    preallocation,
                    targetIsZero,
                    filesystemOverhead,
                    verify,
                    maxRate,
                    true);
        }
    }

    /**
     * @param address where the source agent's data port is reached ({@code host:port}, an IPv6 host in brackets), as
     *                the agent's {@code TaskParser} reads it; set on the source of a cross-node task only (a local copy
     *                needs none), so the target agent never has to resolve a node name
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Endpoint(String node, String address, Volume volume) {
        public static Endpoint local(String node, Volume volume) {
            return new Endpoint(node, null, volume);
        }
    }

    /** @param plugin kubelet's directory name for the volume plugin, {@code kubernetes.io~csi} for CSI volumes */
    public record Volume(String podUID, String pvName, String plugin, String volumeMode) {}

    public Optional<TaskStatus> statusIfAny() {
        return Optional.ofNullable(status);
    }

    public String name() {
        return metadata.getName();
    }
}
