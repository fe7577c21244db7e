package dev.lockkeeper.controller.plan;

import static org.junit.jupiter.api.Assertions.*;

import dev.lockkeeper.controller.api.Keys;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class OrphanSweepTest {
    static final String OLD = World.NOW.minus(OrphanSweep.GRACE).minusSeconds(1).toString();
    static final String NEW = World.NOW.minusSeconds(30).toString();
    static final String GONE = "88888888-8888-4888-8888-888888888888";

    static <T extends HasMetadata> T at(T object, String created) {
        object.getMetadata().setCreationTimestamp(created);
        return object;
    }

    @Test
    void removesObjectsOfVanishedTargetsAndUnusedSourceHoldersButNothingYoung() {
        World live = World.fresh().prepared();
        World gone = World.fresh();
        gone.target.getMetadata().setUid(GONE);
        gone.source.getMetadata().setUid("99999999-9999-4999-8999-999999999999");
        Pod orphanHolder = at(Holders.targetHolder(gone.target, gone.source, null, Settings.DEFAULT), OLD);
        Pod orphanSource = at(Holders.sourceHolder(gone.source, null, Settings.DEFAULT), OLD);
        var orphanPrime = at(Holders.prime(gone.target, Settings.DEFAULT), OLD);
        Pod youngOrphan = at(Holders.targetHolder(gone.target, gone.source, null, Settings.DEFAULT), NEW);
        youngOrphan.getMetadata().setName("lk-dst-young");
        List<HasMetadata> managed = List.of(
                at(live.targetHolder, OLD),
                at(live.sourceHolder, OLD),
                at(live.prime, OLD),
                orphanHolder,
                orphanSource,
                orphanPrime,
                youngOrphan);
        List<Action> actions = OrphanSweep.sweep(managed, Set.of(World.TARGET_UID), List.of(), Set.of(), World.NOW);
        assertEquals(
                List.of(
                        new Action.Delete("Pod", "lockkeeper", "lk-dst-" + GONE),
                        new Action.Delete("Pod", "alice", "lk-src-99999999-9999-4999-8999-999999999999"),
                        new Action.Delete("PersistentVolumeClaim", "lockkeeper", "prime-" + GONE)),
                actions);
    }

    @Test
    void restoresTheReclaimPolicyOfAVolumeWhoseClaimIsGone() {
        PersistentVolume held = new PersistentVolumeBuilder()
                .withNewMetadata()
                .withName("pv-1")
                .addToAnnotations(Keys.RECLAIM_POLICY, "Delete")
                .endMetadata()
                .withNewSpec()
                .withPersistentVolumeReclaimPolicy("Retain")
                .withNewClaimRef()
                .withUid(GONE)
                .endClaimRef()
                .endSpec()
                .build();
        PersistentVolume inUse = new PersistentVolumeBuilder(held)
                .editMetadata()
                .withName("pv-2")
                .endMetadata()
                .editSpec()
                .editClaimRef()
                .withUid(World.TARGET_UID)
                .endClaimRef()
                .endSpec()
                .build();
        List<Action> actions =
                OrphanSweep.sweep(List.of(), Set.of(), List.of(held, inUse), Set.of(World.TARGET_UID), World.NOW);
        assertEquals(1, actions.size());
        var patch = (Action.PatchVolume) actions.getFirst();
        assertEquals("pv-1", patch.name());
        assertEquals("Delete", patch.reclaimPolicy());
        assertTrue(patch.annotations().containsKey(Keys.RECLAIM_POLICY));
        assertNull(patch.annotations().get(Keys.RECLAIM_POLICY));
    }
}
