package dev.lockkeeper.webhook.rules.restore;

/** Label and annotation keys of Velero, the kubevirt-velero-plugin, KubeVirt and CDI that restores read or write. */
public final class RestoreKeys {
    /** Velero adds it to every restored object; its value names the Velero Restore. */
    public static final String VELERO_RESTORE_NAME = "velero.io/restore-name";

    /** kubevirt-velero-plugin switches, set as labels on the Velero Restore. */
    public static final String CLEAR_MAC_ADDRESS = "velero.kubevirt.io/clear-mac-address";

    public static final String GENERATE_NEW_FIRMWARE_UUID = "velero.kubevirt.io/generate-new-firmware-uuid";
    public static final String RESTORE_RUN_STRATEGY = "velero.kubevirt.io/restore-run-strategy";

    /** KubeVirt's VM controller labels the VMIs it creates with the VM's name. */
    public static final String VM_NAME = "vm.kubevirt.io/name";
    /** Set by the kubevirt-velero-plugin at backup on a VMI that a VM owns. */
    public static final String VMI_IS_OWNED = "cdi.kubevirt.io/velero.isOwned";
    /** Set by the kubevirt-velero-plugin at backup on a PVC whose DataVolume had not finished populating it. */
    public static final String PVC_IN_PROGRESS = "kvp.kubevirt.io/storage.inprogress";

    /** CDI writes the DataVolume's uid here on every PVC it creates for one (named after the DataVolume). */
    public static final String CREATED_FOR_DATA_VOLUME = "cdi.kubevirt.io/createdForDataVolume";
    /** CDI's importer/upload/clone pod phase, copied onto the PVC it populates. */
    public static final String POPULATION_POD_PHASE = "cdi.kubevirt.io/storage.pod.phase";

    /**
     * Lockkeeper's own record that a VM's firmware identity was regenerated for the Restore named in
     * its value, so a reinvoked webhook does not regenerate it a second time.
     */
    public static final String IDENTITY_REGENERATED_FOR = "lockkeeper.dev/identity-regenerated-for";

    private RestoreKeys() {}
}
