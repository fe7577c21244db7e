package dev.lockkeeper.sidecar.agent;

import java.nio.file.Path;

/** Where a task's volume is on its node: as kubelet lays out a pod's volume, or a plain path for standalone use. */
public sealed interface VolumeRef {

    enum VolumeMode {
        FILESYSTEM,
        BLOCK
    }

    /**
     * A volume kubelet has attached for a pod: {@code pods/<podUid>/volumes/<plugin>/<pvName>[/mount]} for a
     * filesystem volume, {@code pods/<podUid>/volumeDevices/<plugin>/<pvName>} for a block volume.
     */
    record KubeletVolume(String podUid, String pvName, String plugin, VolumeMode mode) implements VolumeRef {}

    /** A path under one of the agent's {@code --allowed-root} directories. */
    record HostPath(Path path) implements VolumeRef {}
}
