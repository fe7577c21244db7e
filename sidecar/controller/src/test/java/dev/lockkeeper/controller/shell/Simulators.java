package dev.lockkeeper.controller.shell;

import dev.lockkeeper.controller.api.Json;
import dev.lockkeeper.controller.api.Keys;
import dev.lockkeeper.controller.plan.Names;
import dev.lockkeeper.controller.plan.Settings;
import dev.lockkeeper.sidecar.agent.TaskStatus;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.storage.StorageClass;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * What a real cluster does around the controller, simulated against the mock API server by polling (every 50 ms on
 * one thread). Each simulator is the smallest honest stand-in for its component:
 * <ul>
 *   <li>{@link #provisionerSimulator}: binds a Pending PVC without a dataSourceRef to a new PV (WaitForFirstConsumer
 *   classes once a node is selected), as external-provisioner does; deletes a released PV whose policy is Delete.</li>
 *   <li>{@link #pvBinderSimulator}: kube-controller-manager's PV binder: a claimRef that names a claim binds it; a
 *   claim whose PV now names another claim is Lost. Paused while {@link #holdBinding} is set, so a test can stop the
 *   controller between the claimRef move and the bind.</li>
 *   <li>{@link #schedulerSimulator}: sets nodeName (required node affinity, else the preferred pod affinity's node,
 *   else the default node) and selected-node on its WaitForFirstConsumer claims; as kubelet, marks a pod Running once
 *   its claims are bound and {@link #kubelet} has made its volumes exist on the node.</li>
 *   <li>{@link #agentSimulator}: stands in for the node agents ({@link RealAgentsCopyTest} runs real ones instead):
 *   Queued → Running → Succeeded with a digest, holding at Running while {@link #holdCopies} is set, and Canceled when
 *   the task is cancelled.</li>
 *   <li>{@link #finalizerSimulator}: the API server's last step of a deletion: an object being deleted whose
 *   finalizers are all gone is removed (the mock only marks it).</li>
 * </ul>
 */
final class Simulators implements AutoCloseable {
    static final String DEFAULT_NODE = "node-a";
    private final KubernetesClient client;
    private final Thread thread;
    private volatile boolean running = true;
    volatile boolean holdCopies;
    /** Tasks (by name) let through while {@link #holdCopies} holds the others. */
    final java.util.Set<String> released = java.util.concurrent.ConcurrentHashMap.newKeySet();

    volatile boolean holdBinding;
    /**
     * Every object the controller made ({@code Kind namespace/name}, once per creation), as the API server's watches
     * report them: polling could miss an object that lived less than a poll, a watch cannot. A second CopyTask for one
     * copy, or anything made for a copy that was refused, shows up here.
     */
    final List<String> created = new CopyOnWriteArrayList<>();
    /** The same watches' additions and deletions in order, for the message of a test that finds something left. */
    final List<String> history = new CopyOnWriteArrayList<>();

    /**
     * Each phase a CopyTask's status entered ({@code name phase}), in order, from a watch: a phase the controller acts
     * on at once (Canceled, before it deletes the task) shows even if it lasted less than a poll.
     */
    final List<String> taskPhases = new CopyOnWriteArrayList<>();

    private final List<Watch> watches = new ArrayList<>();
    volatile Throwable failure;

    /**
     * Kubelet's share of starting a pod: making its volumes exist on its node ({@link KubeletSimulator} mounts real
     * ones); {@link Kubelet#NONE} where the agents are simulated too and no volume is ever read.
     */
    interface Kubelet {
        Kubelet NONE = new Kubelet() {
            @Override
            public boolean volumesReady(Pod pod) {
                return true;
            }

            @Override
            public void sync() {}
        };

        /** Sets up the volumes of {@code pod} (scheduled, its claims bound); true once they are there. */
        boolean volumesReady(Pod pod);

        /** One pass: tears down the volumes of pods that are gone, and the storage of PVs that are gone. */
        void sync();
    }

    volatile Kubelet kubelet = Kubelet.NONE;
    /** Off where real agent processes take the CopyTasks ({@link RealAgentsCopyTest}). */
    volatile boolean simulateAgents = true;

    /**
     * What a copy made and has not removed yet: holder pods in the source namespace, target holders, the prime and the
     * CopyTask in the installation namespace. Every fake-cluster test ends by waiting for this to be empty.
     */
    static List<String> copyObjectsLeft(KubernetesClient client, String sourceNamespace, String targetUid) {
        String installation = Settings.DEFAULT.namespace();
        List<String> left = new ArrayList<>();
        client.pods()
                .inNamespace(sourceNamespace)
                .withLabel(Keys.MANAGED_BY, Keys.MANAGED_BY_VALUE)
                .list()
                .getItems()
                .forEach(p -> left.add(
                        "Pod " + sourceNamespace + "/" + p.getMetadata().getName()));
        client.pods()
                .inNamespace(installation)
                .withLabel(Keys.TARGET_UID, targetUid)
                .list()
                .getItems()
                .forEach(p ->
                        left.add("Pod " + installation + "/" + p.getMetadata().getName()));
        if (client.persistentVolumeClaims()
                        .inNamespace(installation)
                        .withName(Names.prime(targetUid))
                        .get()
                != null) left.add("the prime");
        if (client.genericKubernetesResources(Resources.COPY_TASKS)
                        .inNamespace(installation)
                        .withName(Names.task(targetUid))
                        .get()
                != null) left.add("the task");
        return left;
    }

    Simulators(KubernetesClient client) {
        this.client = client;
        watches.add(client.pods()
                .inAnyNamespace()
                .withLabel(Keys.MANAGED_BY, Keys.MANAGED_BY_VALUE)
                .watch(recordCreations()));
        watches.add(client.persistentVolumeClaims()
                .inAnyNamespace()
                .withLabel(Keys.MANAGED_BY, Keys.MANAGED_BY_VALUE)
                .watch(recordCreations()));
        watches.add(client.genericKubernetesResources(Resources.COPY_TASKS)
                .inAnyNamespace()
                .watch(recordCreations()));
        watches.add(client.genericKubernetesResources(Resources.COPY_TASKS)
                .inAnyNamespace()
                .watch(new Watcher<>() {
                    @Override
                    public void eventReceived(Action action, GenericKubernetesResource task) {
                        if (!(task.getAdditionalProperties().get("status") instanceof Map<?, ?> status)
                                || status.get("phase") == null) return;
                        String entry = task.getMetadata().getName() + " " + status.get("phase");
                        String prefix = task.getMetadata().getName() + " ";
                        String last = taskPhases.reversed().stream()
                                .filter(e -> e.startsWith(prefix))
                                .findFirst()
                                .orElse(null);
                        if (!entry.equals(last)) taskPhases.add(entry);
                    }

                    @Override
                    public void onClose(WatcherException cause) {
                        if (running) failure = cause;
                    }
                }));
        this.thread = new Thread(this::loop, "cluster-simulators");
        thread.setDaemon(true);
        thread.start();
    }

    private <T extends HasMetadata> Watcher<T> recordCreations() {
        return new Watcher<>() {
            @Override
            public void eventReceived(Action action, T object) {
                String what = object.getKind() + " " + object.getMetadata().getNamespace() + "/"
                        + object.getMetadata().getName();
                if (action == Action.ADDED) created.add(what);
                if (action == Action.ADDED || action == Action.DELETED) history.add(action + " " + what);
            }

            @Override
            public void onClose(WatcherException cause) {
                if (running) failure = cause;
            }
        };
    }

    /** How many times the controller created the object {@code Kind namespace/name}. */
    long creations(String kind, String namespace, String name) {
        return created.stream()
                .filter((kind + " " + namespace + "/" + name)::equals)
                .count();
    }

    private void loop() {
        while (running) {
            try {
                finalizerSimulator();
                provisionerSimulator();
                if (!holdBinding) pvBinderSimulator();
                schedulerSimulator();
                kubelet.sync();
                if (simulateAgents) agentSimulator();
            } catch (KubernetesClientException e) {
                if (e.getCode() != 409 && e.getCode() != 404 && e.getCode() != 422) failure = e;
            } catch (RuntimeException e) {
                failure = e;
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    void provisionerSimulator() {
        for (PersistentVolumeClaim claim :
                client.persistentVolumeClaims().inAnyNamespace().list().getItems()) {
            if (claim.getSpec().getVolumeName() != null
                    || claim.getSpec().getDataSourceRef() != null
                    || claim.getMetadata().getDeletionTimestamp() != null) continue;
            StorageClass sc = client.storage()
                    .v1()
                    .storageClasses()
                    .withName(claim.getSpec().getStorageClassName())
                    .get();
            if (sc == null) continue;
            String selected = annotations(claim).get("volume.kubernetes.io/selected-node");
            if ("WaitForFirstConsumer".equals(sc.getVolumeBindingMode()) && selected == null) continue;
            String pvName = "pv-" + claim.getMetadata().getUid();
            if (client.persistentVolumes().withName(pvName).get() == null) {
                client.resource(new PersistentVolumeBuilder()
                                .withNewMetadata()
                                .withName(pvName)
                                .endMetadata()
                                .withNewSpec()
                                .withCapacity(claim.getSpec().getResources().getRequests())
                                .withAccessModes(claim.getSpec().getAccessModes())
                                .withVolumeMode(claim.getSpec().getVolumeMode())
                                .withStorageClassName(sc.getMetadata().getName())
                                .withPersistentVolumeReclaimPolicy(
                                        sc.getReclaimPolicy() == null ? "Delete" : sc.getReclaimPolicy())
                                .withNewCsi()
                                .withDriver(sc.getProvisioner())
                                .withVolumeHandle(pvName)
                                .endCsi()
                                .withNewClaimRef()
                                .withNamespace(claim.getMetadata().getNamespace())
                                .withName(claim.getMetadata().getName())
                                .withUid(claim.getMetadata().getUid())
                                .endClaimRef()
                                .endSpec()
                                .build())
                        .create();
            }
            bind(claim, pvName);
        }
        for (PersistentVolume pv : client.persistentVolumes().list().getItems()) {
            var ref = pv.getSpec().getClaimRef();
            if (ref == null) continue;
            PersistentVolumeClaim claim = client.persistentVolumeClaims()
                    .inNamespace(ref.getNamespace())
                    .withName(ref.getName())
                    .get();
            if (claim != null && Objects.equals(claim.getMetadata().getUid(), ref.getUid())) continue;
            if (claim != null && ref.getUid() == null) continue;
            if ("Delete".equals(pv.getSpec().getPersistentVolumeReclaimPolicy()))
                client.persistentVolumes().withName(pv.getMetadata().getName()).delete();
            else if (!"Released"
                    .equals(pv.getStatus() == null ? null : pv.getStatus().getPhase())) {
                client.persistentVolumes()
                        .withName(pv.getMetadata().getName())
                        .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"status\":{\"phase\":\"Released\"}}");
            }
        }
    }

    void pvBinderSimulator() {
        for (PersistentVolume pv : client.persistentVolumes().list().getItems()) {
            var ref = pv.getSpec().getClaimRef();
            if (ref == null) continue;
            PersistentVolumeClaim claim = client.persistentVolumeClaims()
                    .inNamespace(ref.getNamespace())
                    .withName(ref.getName())
                    .get();
            if (claim != null
                    && Objects.equals(claim.getMetadata().getUid(), ref.getUid())
                    && claim.getSpec().getVolumeName() == null) {
                bind(claim, pv.getMetadata().getName());
            }
        }
        for (PersistentVolumeClaim claim :
                client.persistentVolumeClaims().inAnyNamespace().list().getItems()) {
            String volume = claim.getSpec().getVolumeName();
            if (volume == null || !"Bound".equals(phase(claim))) continue;
            PersistentVolume pv = client.persistentVolumes().withName(volume).get();
            if (pv != null
                    && pv.getSpec().getClaimRef() != null
                    && !Objects.equals(
                            pv.getSpec().getClaimRef().getUid(),
                            claim.getMetadata().getUid())) {
                client.persistentVolumeClaims()
                        .inNamespace(claim.getMetadata().getNamespace())
                        .withName(claim.getMetadata().getName())
                        .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"status\":{\"phase\":\"Lost\"}}");
            }
        }
    }

    private void bind(PersistentVolumeClaim claim, String pvName) {
        client.persistentVolumeClaims()
                .inNamespace(claim.getMetadata().getNamespace())
                .withName(claim.getMetadata().getName())
                .patch(
                        PatchContext.of(PatchType.JSON_MERGE),
                        "{\"spec\":{\"volumeName\":\"" + pvName + "\"},\"status\":{\"phase\":\"Bound\"}}");
    }

    void schedulerSimulator() {
        for (Pod pod : client.pods().inAnyNamespace().list().getItems()) {
            String namespace = pod.getMetadata().getNamespace();
            if (pod.getSpec().getNodeName() == null) {
                String node = placement(pod);
                for (var volume : pod.getSpec().getVolumes()) {
                    if (volume.getPersistentVolumeClaim() == null) continue;
                    PersistentVolumeClaim claim = client.persistentVolumeClaims()
                            .inNamespace(namespace)
                            .withName(volume.getPersistentVolumeClaim().getClaimName())
                            .get();
                    if (claim == null
                            || claim.getSpec().getVolumeName() != null
                            || annotations(claim).containsKey("volume.kubernetes.io/selected-node")) continue;
                    StorageClass sc = client.storage()
                            .v1()
                            .storageClasses()
                            .withName(claim.getSpec().getStorageClassName())
                            .get();
                    if (sc != null && "WaitForFirstConsumer".equals(sc.getVolumeBindingMode())) {
                        client.persistentVolumeClaims()
                                .inNamespace(namespace)
                                .withName(claim.getMetadata().getName())
                                .patch(
                                        PatchContext.of(PatchType.JSON_MERGE),
                                        "{\"metadata\":{\"annotations\":{\"volume.kubernetes.io/selected-node\":\""
                                                + node + "\"}}}");
                    }
                }
                client.pods()
                        .inNamespace(namespace)
                        .withName(pod.getMetadata().getName())
                        .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"nodeName\":\"" + node + "\"}}");
                continue;
            }
            if ("Running"
                    .equals(pod.getStatus() == null ? null : pod.getStatus().getPhase())) continue;
            boolean ready = pod.getSpec().getVolumes().stream()
                    .filter(v -> v.getPersistentVolumeClaim() != null)
                    .allMatch(v -> {
                        PersistentVolumeClaim claim = client.persistentVolumeClaims()
                                .inNamespace(namespace)
                                .withName(v.getPersistentVolumeClaim().getClaimName())
                                .get();
                        return claim != null && "Bound".equals(phase(claim));
                    });
            if (ready && kubelet.volumesReady(pod)) {
                client.pods()
                        .inNamespace(namespace)
                        .withName(pod.getMetadata().getName())
                        .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"status\":{\"phase\":\"Running\"}}");
            }
        }
    }

    private String placement(Pod pod) {
        var affinity = pod.getSpec().getAffinity();
        if (affinity != null
                && affinity.getNodeAffinity() != null
                && affinity.getNodeAffinity().getRequiredDuringSchedulingIgnoredDuringExecution() != null) {
            return affinity.getNodeAffinity()
                    .getRequiredDuringSchedulingIgnoredDuringExecution()
                    .getNodeSelectorTerms()
                    .getFirst()
                    .getMatchExpressions()
                    .getFirst()
                    .getValues()
                    .getFirst();
        }
        if (affinity != null && affinity.getPodAffinity() != null) {
            for (var preferred : affinity.getPodAffinity().getPreferredDuringSchedulingIgnoredDuringExecution()) {
                var term = preferred.getPodAffinityTerm();
                for (String namespace : term.getNamespaces()) {
                    for (Pod other : client.pods()
                            .inNamespace(namespace)
                            .withLabels(term.getLabelSelector().getMatchLabels())
                            .list()
                            .getItems()) {
                        if (other.getSpec().getNodeName() != null)
                            return other.getSpec().getNodeName();
                    }
                }
            }
        }
        return DEFAULT_NODE;
    }

    void agentSimulator() {
        for (GenericKubernetesResource object : client.genericKubernetesResources(Resources.COPY_TASKS)
                .inAnyNamespace()
                .list()
                .getItems()) {
            var task = Json.copyTask(object);
            TaskStatus status = task.status();
            TaskStatus next;
            if (task.spec().cancel()) {
                if (status != null && status.phase().terminal()) continue;
                next = (status == null ? TaskStatus.queued(task.spec().target().node(), 1) : status)
                        .withPhase(TaskStatus.Phase.Canceled, "canceled");
            } else if (status == null || status.phase() == TaskStatus.Phase.Queued) {
                next = TaskStatus.queued(task.spec().target().node(), 1)
                        .running(1, 0)
                        .withProgress(512, 1024, 1024, 0);
            } else if (status.phase() == TaskStatus.Phase.Running
                    && (!holdCopies || released.contains(object.getMetadata().getName()))) {
                next = status.succeeded(1024, 1024, 0, "crc32c-4MiB+sha256:" + "ab".repeat(32));
            } else {
                continue;
            }
            object.setAdditionalProperty("status", Json.MAPPER.convertValue(next, Map.class));
            client.genericKubernetesResources(Resources.COPY_TASKS)
                    .inNamespace(object.getMetadata().getNamespace())
                    .resource(object)
                    .updateStatus();
        }
    }

    void finalizerSimulator() {
        for (PersistentVolumeClaim claim :
                client.persistentVolumeClaims().inAnyNamespace().list().getItems()) {
            if (claim.getMetadata().getDeletionTimestamp() != null
                    && (claim.getMetadata().getFinalizers() == null
                            || claim.getMetadata().getFinalizers().isEmpty())) {
                client.persistentVolumeClaims()
                        .inNamespace(claim.getMetadata().getNamespace())
                        .withName(claim.getMetadata().getName())
                        .delete();
            }
        }
    }

    private static String phase(PersistentVolumeClaim claim) {
        return claim.getStatus() == null ? null : claim.getStatus().getPhase();
    }

    private static Map<String, String> annotations(HasMetadata object) {
        return object.getMetadata().getAnnotations() == null
                ? Map.of()
                : object.getMetadata().getAnnotations();
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        watches.forEach(Watch::close);
        thread.interrupt();
        thread.join(5000);
    }
}
