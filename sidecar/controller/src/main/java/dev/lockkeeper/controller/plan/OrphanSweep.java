package dev.lockkeeper.controller.plan;

import dev.lockkeeper.controller.api.Keys;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PersistentVolume;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Finds what copies left behind when the normal path could not clean up: objects of targets that no longer exist
 * (there are no cross-namespace owner references, so the garbage collector cannot do it), source holders no copy
 * uses, and PVs still held at Retain for a claim that is gone. Objects younger than the grace period are left
 * alone: the informers may not show the copy that just made them yet.
 */
public final class OrphanSweep {
    public static final Duration GRACE = Duration.ofMinutes(10);

    private OrphanSweep() {}

    /**
     * @param managed     every pod, PVC and CopyTask labelled {@code app.kubernetes.io/managed-by=lockkeeper} (kind set)
     * @param liveTargets UIDs of PVCs that exist and name a VolumeCopy
     * @param volumes     PVs carrying {@link Keys#RECLAIM_POLICY}
     */
    public static List<Action> sweep(
            List<HasMetadata> managed,
            Set<String> liveTargets,
            List<PersistentVolume> volumes,
            Set<String> liveClaimUids,
            Instant now) {
        List<Action> actions = new ArrayList<>();
        Set<String> sourcesInUse = new HashSet<>();
        for (HasMetadata object : managed) {
            Map<String, String> labels = labels(object);
            String target = labels.get(Keys.TARGET_UID);
            if (target != null && liveTargets.contains(target) && labels.containsKey(Keys.SOURCE_UID))
                sourcesInUse.add(labels.get(Keys.SOURCE_UID));
        }
        for (HasMetadata object : managed) {
            if (!old(object, now)) continue;
            Map<String, String> labels = labels(object);
            String target = labels.get(Keys.TARGET_UID);
            boolean orphan = target != null
                    ? !liveTargets.contains(target)
                    : Holders.ROLE_SOURCE.equals(labels.get(Keys.ROLE))
                            && !sourcesInUse.contains(labels.get(Keys.SOURCE_UID));
            if (orphan)
                actions.add(new Action.Delete(
                        object.getKind(),
                        object.getMetadata().getNamespace(),
                        object.getMetadata().getName()));
        }
        for (PersistentVolume pv : volumes) {
            String saved = Holders.annotation(pv, Keys.RECLAIM_POLICY);
            var claimRef = pv.getSpec().getClaimRef();
            if (saved == null || (claimRef != null && liveClaimUids.contains(claimRef.getUid()))) continue;
            var annotations = new java.util.LinkedHashMap<String, String>();
            annotations.put(Keys.RECLAIM_POLICY, null);
            actions.add(new Action.PatchVolume(pv.getMetadata().getName(), annotations, saved, null));
        }
        return actions;
    }

    private static boolean old(HasMetadata object, Instant now) {
        String created = object.getMetadata().getCreationTimestamp();
        return created != null && Instant.parse(created).plus(GRACE).isBefore(now);
    }

    private static Map<String, String> labels(HasMetadata object) {
        return object.getMetadata().getLabels() == null
                ? Map.of()
                : object.getMetadata().getLabels();
    }
}
