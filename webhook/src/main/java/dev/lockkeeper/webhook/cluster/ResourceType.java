package dev.lockkeeper.webhook.cluster;

import java.util.List;

/**
 * A Kubernetes resource the rules look up. Group "" is the core API group. {@code access} is the
 * one answer to "how is it looked up", which every {@link ClusterView} enforces the same way:
 * informer-backed kinds through {@code get}, {@code list} and {@code byIndex}, directly read kinds
 * (one GET each, never watched or listed) through {@code read}.
 */
public record ResourceType(
        String group, String version, String plural, String kind, boolean namespaced, Access access) {
    public enum Access {
        INFORMER,
        DIRECT
    }

    private static final Access INFORMER = Access.INFORMER;
    private static final Access DIRECT = Access.DIRECT;

    public static final ResourceType NAMESPACE = new ResourceType("", "v1", "namespaces", "Namespace", false, INFORMER);
    public static final ResourceType PERSISTENT_VOLUME_CLAIM =
            new ResourceType("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", true, INFORMER);
    public static final ResourceType DATA_VOLUME =
            new ResourceType("cdi.kubevirt.io", "v1beta1", "datavolumes", "DataVolume", true, INFORMER);
    public static final ResourceType DATA_SOURCE =
            new ResourceType("cdi.kubevirt.io", "v1beta1", "datasources", "DataSource", true, INFORMER);
    public static final ResourceType VIRTUAL_MACHINE =
            new ResourceType("kubevirt.io", "v1", "virtualmachines", "VirtualMachine", true, INFORMER);
    public static final ResourceType VIRTUAL_MACHINE_INSTANCE =
            new ResourceType("kubevirt.io", "v1", "virtualmachineinstances", "VirtualMachineInstance", true, INFORMER);
    // v1beta1 is served by every KubeVirt that has exports; objects created as v1 are read through it too.
    public static final ResourceType VIRTUAL_MACHINE_EXPORT = new ResourceType(
            "export.kubevirt.io", "v1beta1", "virtualmachineexports", "VirtualMachineExport", true, INFORMER);
    public static final ResourceType VIRTUAL_MACHINE_SNAPSHOT = new ResourceType(
            "snapshot.kubevirt.io", "v1beta1", "virtualmachinesnapshots", "VirtualMachineSnapshot", true, DIRECT);
    public static final ResourceType VIRTUAL_MACHINE_RESTORE = new ResourceType(
            "snapshot.kubevirt.io", "v1beta1", "virtualmachinerestores", "VirtualMachineRestore", true, INFORMER);
    /** Export sources of KubeVirt v1.9, read one GET at a time like snapshots (exports of them are rare). */
    public static final ResourceType VIRTUAL_MACHINE_BACKUP = new ResourceType(
            "backup.kubevirt.io", "v1alpha1", "virtualmachinebackups", "VirtualMachineBackup", true, DIRECT);

    public static final ResourceType VIRTUAL_MACHINE_TEMPLATE = new ResourceType(
            "template.kubevirt.io", "v1beta1", "virtualmachinetemplates", "VirtualMachineTemplate", true, DIRECT);
    /** CDI's cluster-wide configuration; CDI reads the one named {@code config} (its feature gates). */
    public static final ResourceType CDI_CONFIG =
            new ResourceType("cdi.kubevirt.io", "v1beta1", "cdiconfigs", "CDIConfig", false, INFORMER);
    /** KubeVirt's install CR; its {@code spec.configuration} holds the cluster's feature gates. */
    public static final ResourceType KUBEVIRT =
            new ResourceType("kubevirt.io", "v1", "kubevirts", "KubeVirt", true, INFORMER);

    /** Lockkeeper's own copies (manifests/base/crds/volumecopies.yaml): a pod may not write a source one reads. */
    public static final ResourceType VOLUME_COPY =
            new ResourceType("lockkeeper.dev", "v1alpha1", "volumecopies", "VolumeCopy", true, INFORMER);

    public static final ResourceType POD = new ResourceType("", "v1", "pods", "Pod", true, INFORMER);
    public static final ResourceType SECRET = new ResourceType("", "v1", "secrets", "Secret", true, DIRECT);
    public static final ResourceType VELERO_RESTORE =
            new ResourceType("velero.io", "v1", "restores", "Restore", true, DIRECT);

    /** What the live view watches, one informer each; in the order the informers are started. */
    public static final List<ResourceType> INFORMER_BACKED = List.of(
            NAMESPACE,
            PERSISTENT_VOLUME_CLAIM,
            DATA_VOLUME,
            DATA_SOURCE,
            VIRTUAL_MACHINE,
            VIRTUAL_MACHINE_INSTANCE,
            VIRTUAL_MACHINE_EXPORT,
            VIRTUAL_MACHINE_RESTORE,
            VOLUME_COPY,
            POD,
            CDI_CONFIG,
            KUBEVIRT);

    /** Every kind a rule may look up. */
    public static final List<ResourceType> ALL = List.of(
            NAMESPACE,
            PERSISTENT_VOLUME_CLAIM,
            DATA_VOLUME,
            DATA_SOURCE,
            VIRTUAL_MACHINE,
            VIRTUAL_MACHINE_INSTANCE,
            VIRTUAL_MACHINE_EXPORT,
            VIRTUAL_MACHINE_SNAPSHOT,
            VIRTUAL_MACHINE_RESTORE,
            VIRTUAL_MACHINE_BACKUP,
            VIRTUAL_MACHINE_TEMPLATE,
            CDI_CONFIG,
            KUBEVIRT,
            VOLUME_COPY,
            POD,
            SECRET,
            VELERO_RESTORE);

    /**
     * The contract check each view makes before a lookup, so a rule that calls {@code get} on a
     * directly read kind fails its unit test exactly as it would fail in live mode.
     */
    public void require(Access needed, String call) {
        if (access == needed) return;
        throw new IllegalArgumentException(this
                + (access == Access.DIRECT
                        ? " is read directly (one GET, never watched): look it up with read(), not " + call + "()"
                        : " is informer-backed: look it up with get(), list() or byIndex(), not " + call + "()"));
    }

    @Override
    public String toString() {
        return group.isEmpty() ? plural : plural + "." + group;
    }
}
