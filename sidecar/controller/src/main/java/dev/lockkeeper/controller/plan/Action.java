package dev.lockkeeper.controller.plan;

import dev.lockkeeper.controller.api.VolumeCopy;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectReference;
import java.util.Map;

/** One change the shell makes to the cluster; each is idempotent, so a plan may be applied again after a crash. */
public sealed interface Action {

    /** Create the object unless one of that kind, namespace and name exists. */
    record Create(HasMetadata object) implements Action {}

    /** Delete it if it exists. {@code kind} is Pod, PersistentVolumeClaim or CopyTask. */
    record Delete(String kind, String namespace, String name) implements Action {}

    /**
     * A merge patch of the target PVC's metadata: annotations to set ({@code null} value: remove), and the finalizer
     * added or removed ({@code null}: unchanged).
     */
    record PatchTarget(Map<String, String> annotations, Boolean finalizer) implements Action {}

    /** Replace the VolumeCopy's status (status subresource). */
    record UpdateCopyStatus(VolumeCopy.Status status) implements Action {}

    /**
     * A merge patch of the PV: annotations ({@code null} value: remove), the reclaim policy and the claimRef
     * ({@code null}: unchanged). One patch, so the policy is Retain in the same write that moves the claimRef.
     */
    record PatchVolume(String name, Map<String, String> annotations, String reclaimPolicy, ObjectReference claimRef)
            implements Action {}

    /** Set the CopyTask's {@code spec.cancel}; the agents stop and remove the target's partial data. */
    record CancelTask(String namespace, String name) implements Action {}

    /** An Event on the target PVC. */
    record Emit(String type, String reason, String message) implements Action {
        public static Emit normal(String reason, String message) {
            return new Emit("Normal", reason, message);
        }

        public static Emit warning(String reason, String message) {
            return new Emit("Warning", reason, message);
        }
    }
}
