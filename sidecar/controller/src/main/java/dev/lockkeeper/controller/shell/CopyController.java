package dev.lockkeeper.controller.shell;

import dev.lockkeeper.controller.api.Condition;
import dev.lockkeeper.controller.api.CopyTaskResource;
import dev.lockkeeper.controller.api.Json;
import dev.lockkeeper.controller.api.Keys;
import dev.lockkeeper.controller.api.VolumeCopy;
import dev.lockkeeper.controller.plan.Action;
import dev.lockkeeper.controller.plan.CloneTokenCheck;
import dev.lockkeeper.controller.plan.CopyPlanner;
import dev.lockkeeper.controller.plan.DataVolumeAdoption;
import dev.lockkeeper.controller.plan.Names;
import dev.lockkeeper.controller.plan.Observed;
import dev.lockkeeper.controller.plan.OrphanSweep;
import dev.lockkeeper.controller.plan.Settings;
import dev.lockkeeper.controller.plan.TokenVerdict;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.storage.StorageClass;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The thin shell around {@link CopyPlanner}: informers keep a view of the cluster, any change enqueues the target PVCs
 * it concerns, and one worker thread plans and applies one target at a time (so two copies of one source never
 * decide about the shared source holder at once). A failed apply is retried with backoff; a periodic resync and
 * the orphan sweep catch whatever a missed event or a crash left.
 */
public final class CopyController implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(CopyController.class.getName());
    private static final String BY_UID = "uid";
    private static final String BY_CLAIM = "claim";
    private static final String BY_SOURCE_HOLDER = "source-holder";
    /** Read one at a time, when a DataVolume's VolumeCopy is wanted: no informer, so CDI need not be installed. */
    private static final ResourceDefinitionContext DATA_VOLUMES = new ResourceDefinitionContext.Builder()
            .withGroup(DataVolumeAdoption.GROUP)
            .withVersion("v1beta1")
            .withKind(DataVolumeAdoption.KIND)
            .withPlural("datavolumes")
            .withNamespaced(true)
            .build();

    private final KubernetesClient client;
    private final Settings settings;
    private final CloneTokenCheck tokens;
    private final Clock clock;
    private final CopyPlanner planner;
    private final DataVolumeAdoption adoption;
    private final ActionApplier applier;
    private final Duration resync;
    private final Set<String> queued = ConcurrentHashMap.newKeySet();
    /**
     * Set once every informer has synced. Until then the handlers' events are dropped: a pass planned on a partial
     * view would see a target's VolumeCopy, task or prime missing and act on that (a restarted controller would cancel
     * a copy whose VolumeCopy had not arrived yet). The full pass after the sync covers everything dropped.
     */
    private volatile boolean synced;

    private final Map<String, Integer> failures = new ConcurrentHashMap<>();
    private final ScheduledExecutorService worker = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread thread = new Thread(r, "lockkeeper-copy-controller");
        thread.setDaemon(true);
        return thread;
    });
    private final List<SharedIndexInformer<?>> informers = new ArrayList<>();
    private SharedIndexInformer<PersistentVolumeClaim> claims;
    private SharedIndexInformer<Pod> pods;
    private SharedIndexInformer<PersistentVolume> volumes;
    private SharedIndexInformer<StorageClass> classes;
    private SharedIndexInformer<GenericKubernetesResource> copies;
    private SharedIndexInformer<GenericKubernetesResource> tasks;

    public CopyController(
            KubernetesClient client, Settings settings, CloneTokenCheck tokens, Clock clock, Duration resync) {
        this(client, settings, tokens, clock, resync, action -> {});
    }

    /** @param applied told of each action once applied, on the one worker thread (a test's crash point) */
    CopyController(
            KubernetesClient client,
            Settings settings,
            CloneTokenCheck tokens,
            Clock clock,
            Duration resync,
            Consumer<Action> applied) {
        this.client = client;
        this.settings = settings;
        this.tokens = tokens;
        this.clock = clock;
        this.resync = resync;
        this.planner = new CopyPlanner(settings);
        this.adoption = new DataVolumeAdoption(tokens);
        this.applier = new ActionApplier(client, clock, applied);
    }

    public void start() {
        claims = client.persistentVolumeClaims().inAnyNamespace().runnableInformer(0);
        claims.addIndexers(Map.of(BY_UID, c -> List.of(c.getMetadata().getUid())));
        pods = client.pods().inAnyNamespace().runnableInformer(0);
        pods.addIndexers(
                Map.of(BY_CLAIM, CopyController::claimKeys, BY_SOURCE_HOLDER, CopyController::sourceHolderKeys));
        volumes = client.persistentVolumes().runnableInformer(0);
        classes = client.storage().v1().storageClasses().runnableInformer(0);
        copies = client.genericKubernetesResources(Resources.VOLUME_COPIES)
                .inAnyNamespace()
                .runnableInformer(0);
        tasks = client.genericKubernetesResources(Resources.COPY_TASKS)
                .inNamespace(settings.namespace())
                .runnableInformer(0);
        claims.addEventHandler(handler(this::claimChanged));
        pods.addEventHandler(handler(this::podChanged));
        volumes.addEventHandler(handler(pv -> {
            var ref = pv.getSpec().getClaimRef();
            if (ref != null && ref.getUid() != null) enqueueUid(ref.getUid());
        }));
        classes.addEventHandler(handler(sc -> enqueueAll()));
        copies.addEventHandler(handler(this::copyChanged));
        tasks.addEventHandler(handler(this::labelledChanged));
        informers.addAll(List.of(claims, pods, volumes, classes, copies, tasks));
        informers.forEach(SharedIndexInformer::run);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!informers.stream().allMatch(SharedIndexInformer::hasSynced)) {
            if (System.nanoTime() > deadline) throw new IllegalStateException("informers did not sync within 60 s");
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while the informers synced", e);
            }
        }
        synced = true;
        worker.scheduleWithFixedDelay(this::enqueueAll, resync.toMillis(), resync.toMillis(), TimeUnit.MILLISECONDS);
        worker.scheduleWithFixedDelay(
                this::sweep, OrphanSweep.GRACE.toMillis(), OrphanSweep.GRACE.toMillis(), TimeUnit.MILLISECONDS);
        enqueueAll();
    }

    @Override
    public void close() {
        worker.shutdownNow();
        informers.forEach(SharedIndexInformer::stop);
        try {
            worker.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static <T> ResourceEventHandler<T> handler(Consumer<T> changed) {
        return new ResourceEventHandler<>() {
            @Override
            public void onAdd(T object) {
                changed.accept(object);
            }

            @Override
            public void onUpdate(T before, T after) {
                changed.accept(after);
            }

            @Override
            public void onDelete(T object, boolean unknownFinalState) {
                changed.accept(object);
            }
        };
    }

    private void claimChanged(PersistentVolumeClaim claim) {
        if (CopyPlanner.wantsCopy(claim)) enqueue(key(claim));
        else if (labels(claim).containsKey(Keys.TARGET_UID))
            enqueueUid(labels(claim).get(Keys.TARGET_UID));
        else enqueueAll(); // maybe a source
    }

    private void podChanged(Pod pod) {
        if (labels(pod).containsKey(Keys.TARGET_UID)) enqueueUid(labels(pod).get(Keys.TARGET_UID));
        else if (isAgent(pod)) enqueueAll(); // a copy may be waiting for this node's agent
        else if (!claimKeys(pod).isEmpty()) enqueueAll(); // a source holder, or a pod that may use a source
    }

    private void copyChanged(GenericKubernetesResource copy) {
        for (PersistentVolumeClaim claim : claims.getStore().list()) {
            if (CopyPlanner.wantsCopy(claim)
                    && claim.getMetadata()
                            .getNamespace()
                            .equals(copy.getMetadata().getNamespace())
                    && claim.getSpec()
                            .getDataSourceRef()
                            .getName()
                            .equals(copy.getMetadata().getName())) {
                enqueue(key(claim));
            }
        }
    }

    private void labelledChanged(HasMetadata object) {
        String uid = labels(object).get(Keys.TARGET_UID);
        if (uid != null) enqueueUid(uid);
    }

    private void enqueueUid(String uid) {
        for (PersistentVolumeClaim claim : claims.getIndexer().byIndex(BY_UID, uid)) {
            if (CopyPlanner.wantsCopy(claim)) enqueue(key(claim));
            else if (labels(claim).containsKey(Keys.TARGET_UID))
                enqueueUid(labels(claim).get(Keys.TARGET_UID));
        }
    }

    private void enqueueAll() {
        if (claims == null) return;
        claims.getStore().list().stream().filter(CopyPlanner::wantsCopy).forEach(c -> enqueue(key(c)));
    }

    private void enqueue(String key) {
        if (synced && queued.add(key)) worker.execute(() -> run(key));
    }

    private void run(String key) {
        queued.remove(key);
        try {
            reconcile(key);
            failures.remove(key);
        } catch (RuntimeException e) {
            int failed = failures.merge(key, 1, Integer::sum);
            long delay = Math.min(30_000, 250L << Math.min(failed, 7));
            LOG.log(
                    System.Logger.Level.WARNING,
                    "reconcile of {0} failed (attempt {1}), retrying in {2} ms: {3}",
                    key,
                    failed,
                    delay,
                    e.toString());
            if (!worker.isShutdown()) worker.schedule(() -> enqueue(key), delay, TimeUnit.MILLISECONDS);
        }
    }

    /** One pass for one target: observe, plan, apply. */
    void reconcile(String key) {
        PersistentVolumeClaim target = claims.getStore().getByKey(key);
        if (target == null || !CopyPlanner.wantsCopy(target)) return;
        String uid = target.getMetadata().getUid();
        String namespace = target.getMetadata().getNamespace();
        String copyName = target.getSpec().getDataSourceRef().getName();
        GenericKubernetesResource copyObject = copies.getStore().getByKey(namespace + "/" + copyName);
        if (copyObject == null) {
            // each informer has its own watch, so a claim can arrive before the VolumeCopy created ahead of it: ask the
            // API server before telling the user the data source is missing, or cancelling a copy whose VolumeCopy went
            copyObject = client.genericKubernetesResources(Resources.VOLUME_COPIES)
                    .inNamespace(namespace)
                    .withName(copyName)
                    .get();
        }
        if (copyObject == null && adoptedByDataVolume(target)) return;
        Optional<VolumeCopy> copy = Optional.ofNullable(copyObject).map(Json::volumeCopy);
        TokenVerdict token = copy.map(c -> c.statusOrEmpty()
                                .condition(Condition.AUTHORIZED)
                                .filter(Condition::isTrue)
                                .isPresent()
                        ? (TokenVerdict) new TokenVerdict.NotChecked()
                        : tokens.check(c, authorizingDataVolume(c)))
                .orElse(new TokenVerdict.NotChecked());
        Optional<PersistentVolumeClaim> source =
                copy.map(c -> claims.getStore().getByKey(c.sourceNamespace() + "/" + c.sourceName()));
        List<Pod> users = copy.map(c -> pods.getIndexer().byIndex(BY_CLAIM, c.sourceNamespace() + "/" + c.sourceName()))
                .orElse(List.of());
        Optional<PersistentVolumeClaim> prime =
                Optional.ofNullable(claims.getStore().getByKey(settings.namespace() + "/" + Names.prime(uid)));
        Optional<Pod> targetHolder =
                Optional.ofNullable(pods.getStore().getByKey(settings.namespace() + "/" + Names.targetHolder(uid)));
        GenericKubernetesResource taskObject = tasks.getStore().getByKey(settings.namespace() + "/" + Names.task(uid));
        Optional<CopyTaskResource> task = Optional.ofNullable(taskObject).map(Json::copyTask);
        // the source's UID names its shared holder; with the VolumeCopy gone (a cancel) the task or target holder still
        // knows it
        String sourceUid = source.map(s -> s.getMetadata().getUid())
                .orElseGet(() -> Optional.<HasMetadata>ofNullable(taskObject)
                        .or(() -> targetHolder)
                        .map(o -> labels(o).get(Keys.SOURCE_UID))
                        .orElse(null));
        Optional<Pod> sourceHolder = source.isPresent()
                ? source.map(s ->
                        pods.getStore().getByKey(s.getMetadata().getNamespace() + "/" + Names.sourceHolder(sourceUid)))
                : sourceUid == null
                        ? Optional.empty()
                        : pods.getIndexer().byIndex(BY_SOURCE_HOLDER, sourceUid).stream()
                                .findFirst();
        String volumeName = target.getSpec().getVolumeName() != null
                ? target.getSpec().getVolumeName()
                : prime.map(p -> p.getSpec().getVolumeName()).orElse(null);
        Optional<PersistentVolume> volume =
                Optional.ofNullable(volumeName).map(n -> volumes.getStore().getByKey(n));
        Set<String> others = new HashSet<>();
        if (sourceUid != null) {
            List<HasMetadata> objectsOfCopies = new ArrayList<>(pods.getStore().list());
            objectsOfCopies.addAll(tasks.getStore().list());
            for (HasMetadata object : objectsOfCopies) {
                Map<String, String> labels = labels(object);
                if (sourceUid.equals(labels.get(Keys.SOURCE_UID))
                        && labels.containsKey(Keys.TARGET_UID)
                        && !uid.equals(labels.get(Keys.TARGET_UID))) {
                    others.add(labels.get(Keys.TARGET_UID));
                }
            }
        }
        Observed observed = new Observed(
                target,
                copy,
                Optional.ofNullable(classes.getStore().getByKey(target.getSpec().getStorageClassName())),
                token,
                source,
                users,
                prime,
                targetHolder,
                sourceHolder,
                task,
                volume,
                others,
                pods.getIndexer().byIndex(Cache.NAMESPACE_INDEX, settings.namespace()).stream()
                        .filter(this::isAgent)
                        .toList(),
                clock.instant());
        List<Action> actions = planner.plan(observed);
        if (actions.isEmpty()) return;
        LOG.log(System.Logger.Level.DEBUG, "{0}: {1}", key, actions);
        Map<String, PersistentVolume> byName = new HashMap<>();
        volume.ifPresent(v -> byName.put(v.getMetadata().getName(), v));
        applier.apply(actions, target, copyObject, byName);
    }

    /** Whether the target's VolumeCopy is its DataVolume's to make: then it is made, or refused, and nothing else. */
    private boolean adoptedByDataVolume(PersistentVolumeClaim target) {
        var owner = DataVolumeAdoption.owningDataVolume(target);
        if (owner.isEmpty()) return false;
        var decision = adoption.decide(
                target,
                dataVolume(target.getMetadata().getNamespace(), owner.get().getName()));
        if (decision instanceof DataVolumeAdoption.Decision.Refused refused)
            LOG.log(System.Logger.Level.WARNING, "no VolumeCopy for {0}: {1}", key(target), refused.detail());
        List<Action> actions = DataVolumeAdoption.actions(decision);
        if (actions.isEmpty()) return false;
        applier.apply(actions, target, null, Map.of());
        return true;
    }

    private Optional<GenericKubernetesResource> authorizingDataVolume(VolumeCopy copy) {
        var annotations = copy.metadata().getAnnotations();
        String name = annotations == null ? null : annotations.get(DataVolumeAdoption.AUTHORIZING_DATA_VOLUME);
        return name == null ? Optional.empty() : dataVolume(copy.namespace(), name);
    }

    private Optional<GenericKubernetesResource> dataVolume(String namespace, String name) {
        return Optional.ofNullable(client.genericKubernetesResources(DATA_VOLUMES)
                .inNamespace(namespace)
                .withName(name)
                .get());
    }

    private void sweep() {
        try {
            List<HasMetadata> managed = new ArrayList<>();
            pods.getStore().list().stream()
                    .filter(p -> Keys.MANAGED_BY_VALUE.equals(labels(p).get(Keys.MANAGED_BY)))
                    .forEach(managed::add);
            claims.getStore().list().stream()
                    .filter(p -> Keys.MANAGED_BY_VALUE.equals(labels(p).get(Keys.MANAGED_BY)))
                    .forEach(managed::add);
            tasks.getStore().list().forEach(managed::add);
            Set<String> live = new HashSet<>(), liveClaims = new HashSet<>();
            for (PersistentVolumeClaim claim : claims.getStore().list()) {
                liveClaims.add(claim.getMetadata().getUid());
                if (CopyPlanner.wantsCopy(claim)) live.add(claim.getMetadata().getUid());
            }
            List<PersistentVolume> held = volumes.getStore().list().stream()
                    .filter(v -> v.getMetadata().getAnnotations() != null
                            && v.getMetadata().getAnnotations().containsKey(Keys.RECLAIM_POLICY))
                    .toList();
            Map<String, PersistentVolume> byName = new HashMap<>();
            held.forEach(v -> byName.put(v.getMetadata().getName(), v));
            List<Action> actions = OrphanSweep.sweep(managed, live, held, liveClaims, clock.instant());
            if (!actions.isEmpty()) LOG.log(System.Logger.Level.INFO, "orphan sweep: {0}", actions);
            applier.apply(actions, null, null, byName);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "orphan sweep failed: {0}", e.toString());
        }
    }

    private boolean isAgent(Pod pod) {
        return settings.namespace().equals(pod.getMetadata().getNamespace())
                && Keys.COMPONENT_AGENT.equals(labels(pod).get(Keys.COMPONENT));
    }

    private static List<String> claimKeys(Pod pod) {
        if (pod.getSpec() == null || pod.getSpec().getVolumes() == null) return List.of();
        return pod.getSpec().getVolumes().stream()
                .filter(v -> v.getPersistentVolumeClaim() != null)
                .map(v -> pod.getMetadata().getNamespace() + "/"
                        + v.getPersistentVolumeClaim().getClaimName())
                .toList();
    }

    /** A source holder under its source PVC's UID, for a cancel that no longer knows the source's namespace. */
    private static List<String> sourceHolderKeys(Pod pod) {
        Map<String, String> labels = labels(pod);
        String sourceUid = labels.get(Keys.SOURCE_UID);
        return sourceUid != null
                        && !labels.containsKey(Keys.TARGET_UID)
                        && Keys.MANAGED_BY_VALUE.equals(labels.get(Keys.MANAGED_BY))
                        && Names.sourceHolder(sourceUid)
                                .equals(pod.getMetadata().getName())
                ? List.of(sourceUid)
                : List.of();
    }

    private static Map<String, String> labels(HasMetadata object) {
        return object.getMetadata().getLabels() == null
                ? Map.of()
                : object.getMetadata().getLabels();
    }

    private static String key(HasMetadata object) {
        return object.getMetadata().getNamespace() + "/" + object.getMetadata().getName();
    }
}
