package dev.lockkeeper.controller.plan;

import dev.lockkeeper.controller.api.CopyTaskResource;
import dev.lockkeeper.controller.api.VolumeCopy;
import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.storage.StorageClass;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Everything the planner looks at for one target PVC, as the informers see it now.
 *
 * @param podsUsingSource      pods in the source namespace whose volumes name the source PVC (any phase)
 * @param volume               the PV the prime (or, after the rebind, the target) is bound to
 * @param otherTargetsOfSource UIDs of other targets whose holder pods or tasks still use this source's holder
 * @param agentPods            the agent DaemonSet's pods (installation namespace, {@code app.kubernetes.io/component=agent}):
 *                             a cross-node task names the source node's agent by its pod IP
 */
public record Observed(
        PersistentVolumeClaim target,
        Optional<VolumeCopy> copy,
        Optional<StorageClass> storageClass,
        TokenVerdict token,
        Optional<PersistentVolumeClaim> source,
        List<Pod> podsUsingSource,
        Optional<PersistentVolumeClaim> prime,
        Optional<Pod> targetHolder,
        Optional<Pod> sourceHolder,
        Optional<CopyTaskResource> task,
        Optional<PersistentVolume> volume,
        Set<String> otherTargetsOfSource,
        List<Pod> agentPods,
        Instant now) {}
