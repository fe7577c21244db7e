package dev.lockkeeper.controller.plan;

import dev.lockkeeper.controller.api.CopyTaskResource;
import dev.lockkeeper.controller.api.Keys;
import dev.lockkeeper.controller.api.VolumeCopy;
import dev.lockkeeper.sidecar.agent.TaskStatus;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.storage.StorageClass;
import io.fabric8.kubernetes.api.model.storage.StorageClassBuilder;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/** A mutable picture of the cluster around one target PVC, for the planner's table tests. */
final class World {
    static final String TARGET_UID = "11111111-1111-4111-8111-111111111111";
    static final String SOURCE_UID = "22222222-2222-4222-8222-222222222222";
    static final String SOURCE_HOLDER_UID = "33333333-3333-4333-8333-333333333333";
    static final String TARGET_HOLDER_UID = "44444444-4444-4444-8444-444444444444";
    static final String PRIME_UID = "55555555-5555-4555-8555-555555555555";
    static final Instant NOW = Instant.parse("2026-12-02T18:00:00Z");

    PersistentVolumeClaim target;
    VolumeCopy copy;
    StorageClass storageClass = storageClass("Immediate");
    TokenVerdict token = new TokenVerdict.NotRequired();
    PersistentVolumeClaim source;
    List<Pod> podsUsingSource = new ArrayList<>();
    PersistentVolumeClaim prime;
    Pod targetHolder;
    Pod sourceHolder;
    CopyTaskResource task;
    PersistentVolume volume;
    Set<String> otherTargets = new HashSet<>();
    /** The agent DaemonSet's pods; {@link #prepared} puts a ready one on the source node. */
    List<Pod> agentPods = new ArrayList<>();

    /** A same-namespace copy, nothing made yet. */
    static World fresh() {
        World w = new World();
        w.target = new PersistentVolumeClaimBuilder()
                .withNewMetadata()
                .withName("disk0")
                .withNamespace("alice")
                .withUid(TARGET_UID)
                .withResourceVersion("7")
                .endMetadata()
                .withNewSpec()
                .withAccessModes("ReadWriteOnce")
                .withStorageClassName("fast")
                .withNewResources()
                .addToRequests("storage", new Quantity("2Gi"))
                .endResources()
                .withNewDataSourceRef()
                .withApiGroup(Keys.GROUP)
                .withKind("VolumeCopy")
                .withName("win11-copy")
                .endDataSourceRef()
                .endSpec()
                .withNewStatus()
                .withPhase("Pending")
                .endStatus()
                .build();
        w.copy = copy("alice", null);
        w.source = new PersistentVolumeClaimBuilder()
                .withNewMetadata()
                .withName("win11")
                .withNamespace("alice")
                .withUid(SOURCE_UID)
                .endMetadata()
                .withNewSpec()
                .withAccessModes("ReadWriteOnce")
                .withStorageClassName("fast")
                .withVolumeName("pv-source")
                .withNewResources()
                .addToRequests("storage", new Quantity("2Gi"))
                .endResources()
                .endSpec()
                .withNewStatus()
                .withPhase("Bound")
                .endStatus()
                .build();
        return w;
    }

    static VolumeCopy copy(String sourceNamespace, String token) {
        var metadata = new ObjectMetaBuilder()
                .withName("win11-copy")
                .withNamespace("alice")
                .withUid("66666666-6666-4666-8666-666666666666")
                .withCreationTimestamp("2026-12-02T17:00:00Z")
                .build();
        if (token != null) metadata.setAnnotations(new java.util.HashMap<>(java.util.Map.of(Keys.CLONE_TOKEN, token)));
        return new VolumeCopy(
                Keys.API_VERSION,
                "VolumeCopy",
                metadata,
                new VolumeCopy.Spec(
                        new VolumeCopy.Source(new VolumeCopy.PvcSource(sourceNamespace, "win11")),
                        null,
                        null,
                        null,
                        null,
                        null),
                null);
    }

    static StorageClass storageClass(String bindingMode) {
        return new StorageClassBuilder()
                .withNewMetadata()
                .withName("fast")
                .endMetadata()
                .withProvisioner("csi.example.com")
                .withVolumeBindingMode(bindingMode)
                .build();
    }

    /** Target initialised (finalizer, cloneType), prime and holders created and running, prime bound. */
    World prepared() {
        target.getMetadata().setFinalizers(new ArrayList<>(List.of(Keys.FINALIZER)));
        annotate(Keys.CLONE_TYPE, "copy");
        annotate(Keys.CLONE_PHASE, "HostClone");
        prime = Holders.prime(target, Settings.DEFAULT);
        prime.getMetadata().setUid(PRIME_UID);
        prime.getSpec().setVolumeName("pv-prime");
        prime.setStatus(new io.fabric8.kubernetes.api.model.PersistentVolumeClaimStatusBuilder()
                .withPhase("Bound")
                .build());
        sourceHolder = running(Holders.sourceHolder(source, null, Settings.DEFAULT), SOURCE_HOLDER_UID, "node-a");
        targetHolder =
                running(Holders.targetHolder(target, source, null, Settings.DEFAULT), TARGET_HOLDER_UID, "node-b");
        volume = new PersistentVolumeBuilder()
                .withNewMetadata()
                .withName("pv-prime")
                .endMetadata()
                .withNewSpec()
                .withPersistentVolumeReclaimPolicy("Delete")
                .withNewClaimRef()
                .withNamespace("lockkeeper")
                .withName(prime.getMetadata().getName())
                .withUid(PRIME_UID)
                .endClaimRef()
                .endSpec()
                .build();
        agentPods.add(agentPod("node-a", "10.244.1.7"));
        return this;
    }

    /** The agent DaemonSet's pod on {@code node}: Running and Ready, at {@code podIp}. */
    static Pod agentPod(String node, String podIp) {
        return new PodBuilder()
                .withNewMetadata()
                .withName("lockkeeper-agent-" + node)
                .withNamespace("lockkeeper")
                .withCreationTimestamp("2026-12-02T12:00:00Z")
                .addToLabels(Keys.COMPONENT, Keys.COMPONENT_AGENT)
                .endMetadata()
                .withNewSpec()
                .withNodeName(node)
                .endSpec()
                .withNewStatus()
                .withPhase("Running")
                .withPodIP(podIp)
                .addNewCondition()
                .withType("Ready")
                .withStatus("True")
                .endCondition()
                .endStatus()
                .build();
    }

    World withTask(TaskStatus.Phase phase, long done, long total) {
        var planner = new CopyPlanner(Settings.DEFAULT);
        var created = planner.plan(observed()).stream()
                .filter(a ->
                        a instanceof Action.Create c && c.object().getKind().equals("CopyTask"))
                .map(a -> dev.lockkeeper.controller.api.Json.MAPPER.convertValue(
                        ((Action.Create) a).object(), CopyTaskResource.class))
                .findFirst()
                .orElseThrow(() -> new AssertionError("the prepared world creates no task"));
        TaskStatus status = phase == null
                ? null
                : new TaskStatus(
                        phase,
                        "node-b",
                        1,
                        total,
                        done,
                        done,
                        0,
                        0,
                        null,
                        null,
                        null,
                        null,
                        "2026-12-02T18:00:00Z",
                        null);
        task = new CopyTaskResource(created.apiVersion(), created.kind(), created.metadata(), created.spec(), status);
        copy = new VolumeCopy(
                copy.apiVersion(),
                copy.kind(),
                copy.metadata(),
                copy.spec(),
                new VolumeCopy.Status(
                        "CloneScheduled",
                        new VolumeCopy.ClaimRef("disk0", TARGET_UID),
                        null,
                        null,
                        null,
                        // what the pass that made the task recorded with it
                        new VolumeCopy.Transfer(
                                created.spec().source().node(),
                                created.spec().target().node(),
                                created.spec()
                                        .source()
                                        .node()
                                        .equals(created.spec().target().node()),
                                0,
                                0L),
                        null,
                        List.of(new dev.lockkeeper.controller.api.Condition(
                                "Authorized", "True", "SameNamespace", null, NOW.toString())),
                        NOW.toString(),
                        null,
                        null));
        return this;
    }

    static Pod running(Pod pod, String uid, String node) {
        pod.getMetadata().setUid(uid);
        pod.getSpec().setNodeName(node);
        pod.setStatus(new io.fabric8.kubernetes.api.model.PodStatusBuilder()
                .withPhase("Running")
                .build());
        return pod;
    }

    static Pod userPod(String name, String claim, boolean readOnlyMount, String phase) {
        return new PodBuilder()
                .withNewMetadata()
                .withName(name)
                .withNamespace("alice")
                .endMetadata()
                .withNewSpec()
                .addNewContainer()
                .withName("app")
                .addNewVolumeMount()
                .withName("d")
                .withMountPath("/d")
                .withReadOnly(readOnlyMount)
                .endVolumeMount()
                .endContainer()
                .addNewVolume()
                .withName("d")
                .withNewPersistentVolumeClaim(claim, false)
                .endVolume()
                .endSpec()
                .withNewStatus()
                .withPhase(phase)
                .endStatus()
                .build();
    }

    /** The VolumeCopy's status in {@code phase}, and with the transfer recorded or not (the rest as it is). */
    World copyStatus(String phase, boolean transferRecorded) {
        var status = copy.status();
        copy = new VolumeCopy(
                copy.apiVersion(),
                copy.kind(),
                copy.metadata(),
                copy.spec(),
                new VolumeCopy.Status(
                        phase,
                        status.claimRef(),
                        status.progress(),
                        status.bytesTotal(),
                        status.bytesDone(),
                        transferRecorded ? status.transfer() : null,
                        status.digest(),
                        status.conditions(),
                        status.startTime(),
                        status.completionTime(),
                        status.message()));
        return this;
    }

    World annotate(String key, String value) {
        if (target.getMetadata().getAnnotations() == null)
            target.getMetadata().setAnnotations(new java.util.HashMap<>());
        target.getMetadata().getAnnotations().put(key, value);
        return this;
    }

    Observed observed() {
        return new Observed(
                target,
                Optional.ofNullable(copy),
                Optional.ofNullable(storageClass),
                token,
                Optional.ofNullable(source),
                podsUsingSource,
                Optional.ofNullable(prime),
                Optional.ofNullable(targetHolder),
                Optional.ofNullable(sourceHolder),
                Optional.ofNullable(task),
                Optional.ofNullable(volume),
                otherTargets,
                agentPods,
                NOW);
    }
}
