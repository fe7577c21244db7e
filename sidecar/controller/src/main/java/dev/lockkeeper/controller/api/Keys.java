package dev.lockkeeper.controller.api;

/**
 * Annotation, label and finalizer keys. Upstream keys first (CDI {@code pkg/controller/common/util.go},
 * {@code pkg/controller/populators/clone-populator.go}), so users who know CDI read the target PVC the same way.
 */
public final class Keys {
    private Keys() {}

    public static final String GROUP = "lockkeeper.dev";
    public static final String VERSION = "v1alpha1";
    public static final String API_VERSION = GROUP + "/" + VERSION;

    // CDI's keys on the target PVC
    public static final String CLONE_TYPE = "cdi.kubevirt.io/cloneType";
    public static final String CLONE_PHASE = "cdi.kubevirt.io/clonePhase";
    public static final String CLONE_ERROR = "cdi.kubevirt.io/cloneError";
    public static final String POPULATOR_PROGRESS = "cdi.kubevirt.io/storage.populator.progress";
    public static final String RUNNING = "cdi.kubevirt.io/storage.condition.running";
    public static final String RUNNING_MESSAGE = "cdi.kubevirt.io/storage.condition.running.message";
    public static final String RUNNING_REASON = "cdi.kubevirt.io/storage.condition.running.reason";
    public static final String CLONE_OF = "k8s.io/CloneOf";
    public static final String PREALLOCATION_APPLIED = "cdi.kubevirt.io/storage.preallocation";
    public static final String POD_RETAIN_AFTER_COMPLETION = "cdi.kubevirt.io/storage.pod.retainAfterCompletion";
    public static final String IMMEDIATE_BINDING = "cdi.kubevirt.io/storage.bind.immediate.requested";
    public static final String CLONE_TOKEN = "cdi.kubevirt.io/storage.clone.token";
    public static final String CONTENT_TYPE = "cdi.kubevirt.io/storage.contentType";
    public static final String SELECTED_NODE = "volume.kubernetes.io/selected-node";
    /** CDI's host-assisted strategy name ({@code CloneStrategyHostAssisted}). */
    public static final String CLONE_TYPE_COPY = "copy";

    // Lockkeeper's own keys
    public static final String FINALIZER = GROUP + "/populate-target-protection";
    public static final String VOLUME_COPY = GROUP + "/volume-copy";
    public static final String POPULATED_FROM = GROUP + "/populated-from";
    /** On the PV during the rebind: the reclaim policy to restore once the target is bound. */
    public static final String RECLAIM_POLICY = GROUP + "/reclaim-policy";
    /** On every object the controller makes for one copy: the target PVC's UID, which also names them. */
    public static final String TARGET_UID = GROUP + "/target-uid";
    /** On holder pods and tasks: the source PVC's UID (the shared source holder is named after it). */
    public static final String SOURCE_UID = GROUP + "/source-uid";

    public static final String TARGET = GROUP + "/target";
    public static final String ROLE = GROUP + "/role";
    public static final String SOURCE_NODE = GROUP + "/source-node";
    public static final String TARGET_NODE = GROUP + "/target-node";
    public static final String MANAGED_BY = "app.kubernetes.io/managed-by";
    public static final String MANAGED_BY_VALUE = "lockkeeper";
    /** The agent DaemonSet's pods carry {@code app.kubernetes.io/component=agent} in the installation namespace. */
    public static final String COMPONENT = "app.kubernetes.io/component";

    public static final String COMPONENT_AGENT = "agent";
}
