package dev.lockkeeper.webhook.cluster;

/** A Kubernetes resource the rules look up. Group "" is the core API group. */
public record ResourceType(String group, String version, String plural, String kind, boolean namespaced) {

    public static final ResourceType NAMESPACE = new ResourceType("", "v1", "namespaces", "Namespace", false);
    public static final ResourceType PERSISTENT_VOLUME_CLAIM =
            new ResourceType("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", true);
    public static final ResourceType DATA_VOLUME =
            new ResourceType("cdi.kubevirt.io", "v1beta1", "datavolumes", "DataVolume", true);
    public static final ResourceType DATA_SOURCE =
            new ResourceType("cdi.kubevirt.io", "v1beta1", "datasources", "DataSource", true);
    public static final ResourceType VIRTUAL_MACHINE =
            new ResourceType("kubevirt.io", "v1", "virtualmachines", "VirtualMachine", true);
    public static final ResourceType VIRTUAL_MACHINE_INSTANCE =
            new ResourceType("kubevirt.io", "v1", "virtualmachineinstances", "VirtualMachineInstance", true);
    // v1beta1 is served by every KubeVirt that has exports; objects created as v1 are read through it too.
    public static final ResourceType VIRTUAL_MACHINE_EXPORT =
            new ResourceType("export.kubevirt.io", "v1beta1", "virtualmachineexports", "VirtualMachineExport", true);
    public static final ResourceType VIRTUAL_MACHINE_SNAPSHOT =
            new ResourceType("snapshot.kubevirt.io", "v1beta1", "virtualmachinesnapshots", "VirtualMachineSnapshot", true);
    public static final ResourceType VIRTUAL_MACHINE_RESTORE =
            new ResourceType("snapshot.kubevirt.io", "v1beta1", "virtualmachinerestores", "VirtualMachineRestore", true);
    /** Export sources of KubeVirt v1.9, read one GET at a time like snapshots (exports of them are rare). */
    public static final ResourceType VIRTUAL_MACHINE_BACKUP =
            new ResourceType("backup.kubevirt.io", "v1alpha1", "virtualmachinebackups", "VirtualMachineBackup", true);
    public static final ResourceType VIRTUAL_MACHINE_TEMPLATE =
            new ResourceType("template.kubevirt.io", "v1beta1", "virtualmachinetemplates", "VirtualMachineTemplate", true);
    /** CDI's cluster-wide configuration; CDI reads the one named {@code config} (its feature gates). */
    public static final ResourceType CDI_CONFIG = new ResourceType("cdi.kubevirt.io", "v1beta1", "cdiconfigs", "CDIConfig", false);
    /** KubeVirt's install CR; its {@code spec.configuration} holds the cluster's feature gates. */
    public static final ResourceType KUBEVIRT = new ResourceType("kubevirt.io", "v1", "kubevirts", "KubeVirt", true);
    public static final ResourceType POD = new ResourceType("", "v1", "pods", "Pod", true);
    public static final ResourceType SECRET = new ResourceType("", "v1", "secrets", "Secret", true);
    public static final ResourceType VELERO_RESTORE = new ResourceType("velero.io", "v1", "restores", "Restore", true);

    @Override
    public String toString() {
        return group.isEmpty() ? plural : plural + "." + group;
    }
}
