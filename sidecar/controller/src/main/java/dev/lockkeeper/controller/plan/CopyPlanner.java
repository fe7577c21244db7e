package dev.lockkeeper.controller.plan;

import dev.lockkeeper.controller.api.Condition;
import dev.lockkeeper.controller.api.CopyTaskResource;
import dev.lockkeeper.controller.api.Keys;
import dev.lockkeeper.controller.api.VolumeCopy;
import dev.lockkeeper.controller.api.VolumeCopy.Phase;
import dev.lockkeeper.controller.plan.Action.Emit;
import dev.lockkeeper.sidecar.agent.TaskStatus;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Decides, for one target PVC whose {@code dataSourceRef} names a VolumeCopy, what to change next. A pure function of
 * what the informers see ({@link Observed}); the shell applies the actions. The steps follow CDI's clone populator
 * ({@code pkg/controller/populators/clone-populator.go}: phases Pending, HostClone, Rebind, Succeeded, Error) and
 * lib-volume-populator's prime-PVC pattern, with Velero's safer rebind (the PV is Retain while its claimRef moves).
 */
public final class CopyPlanner {
    // CDI's event reasons and messages (pkg/controller/datavolume/clone-controller-base.go, common/util.go,
    // clone/common.go)
    public static final String CLONE_SCHEDULED = "CloneScheduled";
    public static final String CLONE_IN_PROGRESS = "CloneInProgress";
    public static final String CLONE_SUCCEEDED = "CloneSucceeded";
    public static final String CLONE_FAILED = "CloneFailed";
    public static final String CLONE_SOURCE_IN_USE = "CloneSourceInUse";
    public static final String CLONE_WITHOUT_SOURCE = "CloneWithoutSource";
    public static final String CLONE_VALIDATION_FAILED = "CloneValidationFailed";
    public static final String ERR_INCOMPATIBLE_PVC = "ErrIncompatiblePVC";
    public static final String RETAINED_PVC_PRIME = "RetainedPVCPrime";
    public static final String DATA_SOURCE_NOT_FOUND = "PopulatorDataSourceNotFound";
    // Lockkeeper's own
    public static final String ALREADY_BOUND = "VolumeCopyAlreadyBound";
    public static final String COPY_RESUMED = "CopyResumed";
    public static final String COPY_VERIFIED = "CopyVerified";

    // CDI's clone phases on the target PVC (clone/common.go, host-clone.go, rebind.go)
    static final String PENDING = "Pending";
    static final String HOST_CLONE = "HostClone";
    static final String REBIND = "Rebind";
    static final String SUCCEEDED = "Succeeded";
    static final String ERROR = "Error";

    private final Settings settings;

    public CopyPlanner(Settings settings) {
        this.settings = settings;
    }

    /** Whether a PVC asks to be filled from a VolumeCopy. */
    public static boolean wantsCopy(PersistentVolumeClaim claim) {
        var ref = claim.getSpec() == null ? null : claim.getSpec().getDataSourceRef();
        return ref != null && Keys.GROUP.equals(ref.getApiGroup()) && VolumeCopy.KIND.equals(ref.getKind());
    }

    public List<Action> plan(Observed o) {
        PersistentVolumeClaim target = o.target();
        if (!wantsCopy(target)) return List.of();
        Step step = new Step(o);
        boolean deleting = target.getMetadata().getDeletionTimestamp() != null;
        boolean succeeded = SUCCEEDED.equals(step.annotation(Keys.CLONE_PHASE));
        if (deleting || (o.copy().isEmpty() && !succeeded && step.hasFinalizer())) return cancel(step);
        if (succeeded) return step.hasFinalizer() ? done(step) : List.of();
        if (o.copy().isEmpty()) {
            step.annotate(Map.of(Keys.CLONE_PHASE, PENDING));
            var ref = target.getSpec().getDataSourceRef();
            step.emit(Emit.warning(
                    DATA_SOURCE_NOT_FOUND,
                    "Data source %s/%s not found".formatted(target.getMetadata().getNamespace(), ref.getName())));
            return step.actions();
        }
        VolumeCopy copy = o.copy().get();
        VolumeCopy.Status status = copy.statusOrEmpty();
        if (status.claimRef() != null
                && !Objects.equals(status.claimRef().uid(), target.getMetadata().getUid())) {
            step.emit(Emit.warning(
                    ALREADY_BOUND,
                    "VolumeCopy %s is bound to PersistentVolumeClaim %s; a VolumeCopy fills one claim"
                            .formatted(copy.name(), status.claimRef().name())));
            return step.actions();
        }
        step.status = withClaim(status, target);
        if (Phase.Failed.name().equals(status.phase())) return cleanUpAfterFailure(step);
        if (isBound(target) && step.hasFinalizer()) return finish(step);

        if (!authorize(step, copy)) return step.actions();
        if (!claimReady(step)) return step.actions();
        if (!sourceReady(step, copy)) return step.actions();
        if (!step.hasFinalizer()) {
            // CDI's initTargetClaim: protect the claim and record the strategy, then continue on the next pass
            Map<String, String> init = new LinkedHashMap<>();
            init.put(Keys.CLONE_TYPE, Keys.CLONE_TYPE_COPY);
            if (step.annotation(Keys.CLONE_PHASE) == null) init.put(Keys.CLONE_PHASE, PENDING);
            step.annotate(init);
            step.actions.add(new Action.PatchTarget(Map.of(), true));
            step.phase(Phase.Pending, null);
            return step.actions();
        }
        return hostClone(step, copy);
    }

    private boolean authorize(Step step, VolumeCopy copy) {
        var authorized = step.status.condition(Condition.AUTHORIZED);
        if (authorized.isPresent() && authorized.get().isTrue()) return true;
        switch (step.o.token()) {
            case TokenVerdict.NotRequired n ->
                step.condition(Condition.AUTHORIZED, true, "SameNamespace", "source and target share a namespace");
            case TokenVerdict.Valid v ->
                step.condition(
                        Condition.AUTHORIZED,
                        true,
                        "TokenVerified",
                        "the clone token was valid when the VolumeCopy was created");
            case TokenVerdict.Invalid invalid -> {
                step.condition(Condition.AUTHORIZED, false, "InvalidToken", invalid.detail());
                // a token never becomes valid later: the copy fails for good, nothing is created
                step.fail("invalid token");
                step.emit(Emit.warning(
                        CLONE_VALIDATION_FAILED, "The clone doesn't meet the validation requirements: invalid token"));
                return false;
            }
            case TokenVerdict.NotChecked n ->
                throw new IllegalStateException("the token of an unauthorized VolumeCopy must be checked");
        }
        return true;
    }

    /** CDI's {@code claimReadyForPopulation} (populators/util.go). */
    private boolean claimReady(Step step) {
        PersistentVolumeClaim target = step.o.target();
        String className = target.getSpec().getStorageClassName();
        if (className == null) return step.pending("waiting for a storage class to be assigned");
        if (className.isEmpty())
            return step.error("PVC %s/%s has empty storage class name".formatted(ns(target), name(target)), null);
        if (step.o.storageClass().isEmpty()) return step.error("storage class %s not found".formatted(className), null);
        if ("WaitForFirstConsumer".equals(step.o.storageClass().get().getVolumeBindingMode())
                && step.annotation(Keys.SELECTED_NODE) == null
                && !step.annotations().containsKey(Keys.IMMEDIATE_BINDING)) {
            return step.pending("waiting for the first consumer to be scheduled");
        }
        return true;
    }

    private boolean sourceReady(Step step, VolumeCopy copy) {
        Optional<PersistentVolumeClaim> found = step.o.source();
        if (found.isEmpty()) {
            step.condition(Condition.SOURCE_READY, false, CLONE_WITHOUT_SOURCE, null);
            step.emit(
                    Emit.warning(CLONE_WITHOUT_SOURCE, "The source pvc %s doesn't exist".formatted(copy.sourceName())));
            return step.pending("The source pvc %s doesn't exist".formatted(copy.sourceName()));
        }
        PersistentVolumeClaim source = found.get();
        if (!isBound(source)) {
            step.condition(Condition.SOURCE_READY, false, "SourceNotBound", null);
            return step.pending("waiting for the source PVC %s/%s to be bound".formatted(ns(source), name(source)));
        }
        String invalid = incompatibility(source, step.o.target(), copy);
        if (invalid != null) {
            step.condition(Condition.SOURCE_READY, false, ERR_INCOMPATIBLE_PVC, invalid);
            return step.error(invalid, Emit.warning(ERR_INCOMPATIBLE_PVC, invalid));
        }
        if (step.o.task().isEmpty()) {
            // CDI checks before its source pod exists (IsSourceClaimReady); once our task runs, the holder holds the
            // source
            List<Pod> users = step.o.podsUsingSource().stream()
                    .filter(p -> !Names.sourceHolder(uid(source)).equals(name(p)))
                    .filter(p -> usesWritable(p, name(source)))
                    .toList();
            if (!users.isEmpty()) {
                for (Pod pod : users) {
                    step.emit(Emit.warning(
                            CLONE_SOURCE_IN_USE,
                            "pod %s/%s using PersistentVolumeClaim %s".formatted(ns(pod), name(pod), name(source))));
                }
                step.condition(
                        Condition.SOURCE_READY,
                        false,
                        CLONE_SOURCE_IN_USE,
                        "pod %s/%s using PersistentVolumeClaim %s"
                                .formatted(ns(users.getFirst()), name(users.getFirst()), name(source)));
                return step.pending("the source PVC is in use");
            }
        }
        step.condition(Condition.SOURCE_READY, true, "SourceReady", null);
        return true;
    }

    /**
     * CDI's compatibility rules with its messages: content types match ({@code ValidateCanCloneSourceAndTargetContentType}),
     * volume modes may differ only for kubevirt content ({@code ValidateCanCloneSourceAndTargetSpec}), the target
     * requests at least the source's size ({@code ValidateRequestedCloneSize}).
     */
    static String incompatibility(PersistentVolumeClaim source, PersistentVolumeClaim target, VolumeCopy copy) {
        String sourceContent = Optional.ofNullable(Holders.annotation(source, Keys.CONTENT_TYPE))
                .orElse("kubevirt");
        String targetContent = copy.spec().effectiveContentType();
        if (!sourceContent.equals(targetContent)) {
            return "source contentType (%s) and target contentType (%s) do not match"
                    .formatted(sourceContent, targetContent);
        }
        String sourceMode = volumeMode(source), targetMode = volumeMode(target);
        if (!sourceMode.equals(targetMode) && !"kubevirt".equals(targetContent)) {
            return "source volumeMode (%s) and target volumeMode (%s) do not match, contentType (%s)"
                    .formatted(sourceMode, targetMode, targetContent);
        }
        Quantity sourceSize = request(source), targetSize = request(target);
        if (sourceSize == null || targetSize == null) return "source/target missing storage resource requests";
        long sourceBytes = sourceSize.getNumericalAmount().longValue(),
                targetBytes = targetSize.getNumericalAmount().longValue();
        if (sourceBytes > targetBytes) {
            return "target resources requests storage size is smaller than the source %d < %d"
                    .formatted(targetBytes, sourceBytes);
        }
        return null;
    }

    private static Emit scheduled(PersistentVolumeClaim source, PersistentVolumeClaim target) {
        return Emit.normal(
                CLONE_SCHEDULED,
                "Cloning from %s/%s into %s/%s scheduled"
                        .formatted(ns(source), name(source), ns(target), name(target)));
    }

    private List<Action> hostClone(Step step, VolumeCopy copy) {
        Observed o = step.o;
        PersistentVolumeClaim target = o.target(), source = o.source().orElseThrow();
        String uid = uid(target);
        if (o.prime().isEmpty()) step.actions.add(new Action.Create(Holders.prime(target, settings)));
        if (o.sourceHolder().isEmpty())
            step.actions.add(
                    new Action.Create(Holders.sourceHolder(source, copy.spec().priorityClassName(), settings)));
        if (o.targetHolder().isEmpty() && o.task().isEmpty()) {
            step.actions.add(new Action.Create(
                    Holders.targetHolder(target, source, copy.spec().priorityClassName(), settings)));
        }
        if (step.status.startTime() == null) step.startTime(o.now().toString());
        if (o.task().isEmpty()) {
            step.annotate(Map.of(Keys.CLONE_PHASE, HOST_CLONE));
            step.running(true, "", "Populator is running");
            TaskOrWait ready = taskIfReady(o, copy);
            if (ready.task() == null) {
                step.phase(Phase.CloneScheduled, ready.waitingFor());
                return step.actions();
            }
            CopyTaskResource created = ready.task();
            // announced ahead of the task: a controller killed between the two announces it again with the task,
            // where one killed after the task would never say it (the next pass sees the task made)
            step.emit(scheduled(source, target));
            step.actions.add(new Action.Create(asObject(created)));
            step.transfer(
                    created.spec().source().node(), created.spec().target().node(), 0, 0L);
            step.phase(Phase.CloneScheduled, null);
            return step.actions();
        }
        CopyTaskResource task = o.task().get();
        TaskStatus ts = task.status();
        TaskStatus.Phase phase = ts == null ? TaskStatus.Phase.Queued : ts.phase();
        if (ts != null) {
            int previousAttempts =
                    step.status.transfer() == null || step.status.transfer().attempts() == null
                            ? 0
                            : step.status.transfer().attempts();
            if (ts.attempt() > previousAttempts && ts.attempt() > 1 && ts.resumedFrom() > 0) {
                step.emit(Emit.normal(
                        COPY_RESUMED,
                        "resumed at %s of %s (attempt %d)"
                                .formatted(size(ts.resumedFrom()), size(ts.bytesTotal()), ts.attempt())));
            }
            step.transfer(
                    task.spec().source().node(),
                    task.spec().target().node(),
                    Math.max(ts.attempt(), previousAttempts),
                    ts.resumedFrom());
            step.progress(ts);
        }
        switch (phase) {
            case Queued -> {
                step.annotate(Map.of(Keys.CLONE_PHASE, HOST_CLONE));
                step.phase(Phase.CloneScheduled, null);
            }
            case Running, Verifying -> {
                step.annotate(Map.of(Keys.CLONE_PHASE, HOST_CLONE, Keys.POPULATOR_PROGRESS, ts.progress()));
                step.running(true, "", "Populator is running");
                if (!Phase.CloneInProgress.name().equals(step.status.phase())) {
                    step.emit(Emit.normal(
                            CLONE_IN_PROGRESS,
                            "Cloning from %s/%s into %s/%s in progress"
                                    .formatted(ns(source), name(source), ns(target), name(target))));
                }
                step.phase(Phase.CloneInProgress, null);
                step.condition(Condition.RUNNING, true, "Running", null);
            }
            case Failed, Canceled -> {
                String why = ts.message() == null ? "the copy " + phase.name().toLowerCase(Locale.ROOT) : ts.message();
                step.fail(why);
                step.emit(Emit.warning(
                        CLONE_FAILED,
                        "Cloning from %s/%s into %s/%s failed"
                                .formatted(ns(source), name(source), ns(target), name(target))));
                step.condition(Condition.RUNNING, false, "Error", why);
            }
            case Succeeded -> rebind(step, ts);
        }
        return step.actions();
    }

    /** lib-volume-populator's rebind, with the PV held at Retain so no step of the swap can lose the data. */
    private void rebind(Step step, TaskStatus ts) {
        Observed o = step.o;
        PersistentVolumeClaim target = o.target();
        if (ts.digest() != null && step.status.digest() == null) {
            step.emit(
                    Emit.normal(COPY_VERIFIED, "content digest %s equal on source and target".formatted(ts.digest())));
        }
        step.digest(ts.digest());
        step.annotate(Map.of(Keys.CLONE_PHASE, REBIND, Keys.POPULATOR_PROGRESS, "100.00%"));
        step.phase(Phase.RebindInProgress, null);
        step.condition(Condition.RUNNING, false, "Completed", null);
        // kubelet must unmount the prime's volume before it moves to the user's claim
        if (o.targetHolder().isPresent()) {
            step.actions.add(new Action.Delete("Pod", settings.namespace(), Names.targetHolder(uid(target))));
            return;
        }
        Optional<PersistentVolume> volume = o.volume();
        PersistentVolumeClaim prime = o.prime().orElse(null);
        if (volume.isEmpty() || prime == null) return;
        PersistentVolume pv = volume.get();
        var claimRef = pv.getSpec().getClaimRef();
        if (claimRef == null || !Objects.equals(claimRef.getUid(), uid(prime)))
            return; // moved already: the binder finishes
        Map<String, String> annotations = new LinkedHashMap<>();
        if (Holders.annotation(pv, Keys.RECLAIM_POLICY) == null) {
            annotations.put(
                    Keys.RECLAIM_POLICY,
                    Optional.ofNullable(pv.getSpec().getPersistentVolumeReclaimPolicy())
                            .orElse("Delete"));
        }
        annotations.put(
                Keys.POPULATED_FROM,
                ns(target) + "/" + target.getSpec().getDataSourceRef().getName());
        step.actions.add(new Action.PatchVolume(
                name(pv),
                annotations,
                "Retain",
                new ObjectReferenceBuilder()
                        .withApiVersion("v1")
                        .withKind("PersistentVolumeClaim")
                        .withNamespace(ns(target))
                        .withName(name(target))
                        .withUid(uid(target))
                        .withResourceVersion(target.getMetadata().getResourceVersion())
                        .build()));
    }

    /** The target is bound to the copied volume: restore the reclaim policy, then report success (CDI's Succeeded). */
    private List<Action> finish(Step step) {
        Observed o = step.o;
        PersistentVolumeClaim target = o.target();
        restorePolicy(step);
        Map<String, String> done = new LinkedHashMap<>();
        done.put(Keys.CLONE_PHASE, SUCCEEDED);
        done.put(Keys.CLONE_OF, "true");
        done.put(Keys.POPULATOR_PROGRESS, "100.00%");
        done.put(Keys.CLONE_ERROR, null);
        if (o.copy().map(c -> c.spec().effectivePreallocation()).orElse(false))
            done.put(Keys.PREALLOCATION_APPLIED, "true");
        step.annotate(done);
        step.running(false, "Clone Complete", "Completed");
        succeed(step, o.copy().orElseThrow());
        return step.actions();
    }

    /** The VolumeCopy's Succeeded status and CDI's CloneSucceeded event. */
    private static void succeed(Step step, VolumeCopy copy) {
        Observed o = step.o;
        PersistentVolumeClaim target = o.target();
        step.status = new VolumeCopy.Status(
                Phase.Succeeded.name(),
                step.status.claimRef(),
                "100.00%",
                step.status.bytesTotal(),
                step.status.bytesTotal(),
                step.status.transfer(),
                step.status.digest(),
                step.status.conditions(),
                step.status.startTime(),
                o.now().toString(),
                null);
        step.condition(Condition.RUNNING, false, "Completed", null);
        step.condition(Condition.READY, true, "Completed", null);
        step.emit(Emit.normal(
                CLONE_SUCCEEDED,
                "Successfully cloned from %s/%s into %s/%s"
                        .formatted(copy.sourceNamespace(), copy.sourceName(), ns(target), name(target))));
    }

    /** After success: remove what the copy made (unless the user asked to keep it) and release the claim. */
    private List<Action> done(Step step) {
        restorePolicy(step);
        // finish() writes the target's Succeeded phase ahead of the VolumeCopy's status: a controller that died between
        // the two left the status (RebindInProgress) and the CloneSucceeded event to this pass
        step.o
                .copy()
                .filter(c -> !Phase.Succeeded.name().equals(c.statusOrEmpty().phase()))
                .filter(c -> c.statusOrEmpty().claimRef() == null
                        || Objects.equals(c.statusOrEmpty().claimRef().uid(), uid(step.o.target())))
                .ifPresent(c -> {
                    step.status = withClaim(step.status, step.o.target());
                    succeed(step, c);
                });
        if ("true".equals(step.annotation(Keys.POD_RETAIN_AFTER_COMPLETION))) {
            // CDI keeps its transfer objects for debugging; ours worth keeping are the prime (Lost) and the task's
            // status
            step.emit(Emit.warning(RETAINED_PVC_PRIME, "PVC Prime retained in Lost state for debugging purposes"));
            removeHolders(step);
        } else {
            removeAll(step);
        }
        step.actions.add(new Action.PatchTarget(Map.of(), false));
        return step.actions();
    }

    /** A failed copy keeps its Error annotations and releases the source; the claim stays Pending (populator contract). */
    private List<Action> cleanUpAfterFailure(Step step) {
        if (!"true".equals(step.annotation(Keys.POD_RETAIN_AFTER_COMPLETION))) removeAll(step);
        else removeHolders(step);
        restorePolicy(step);
        return step.actions();
    }

    /** The target PVC or its VolumeCopy is being deleted: stop the agents first, then remove everything. */
    private List<Action> cancel(Step step) {
        Observed o = step.o;
        Optional<CopyTaskResource> task = o.task();
        if (task.isPresent()) {
            TaskStatus ts = task.get().status();
            boolean started = ts != null && ts.phase() != TaskStatus.Phase.Queued;
            if (started && !ts.phase().terminal()) {
                if (!task.get().spec().cancel())
                    step.actions.add(new Action.CancelTask(
                            settings.namespace(), task.get().name()));
                return step.actions(); // the agents remove the partial data and report Canceled
            }
        }
        restorePolicy(step);
        removeAll(step);
        if (o.target().getMetadata().getDeletionTimestamp() == null) {
            step.annotate(Map.of(Keys.CLONE_PHASE, PENDING));
            step.status = null;
        }
        if (step.hasFinalizer()) step.actions.add(new Action.PatchTarget(Map.of(), false));
        return step.actions();
    }

    private void restorePolicy(Step step) {
        step.o.volume().ifPresent(pv -> {
            String saved = Holders.annotation(pv, Keys.RECLAIM_POLICY);
            if (saved == null) return;
            Map<String, String> annotations = new LinkedHashMap<>();
            annotations.put(Keys.RECLAIM_POLICY, null);
            step.actions.add(new Action.PatchVolume(name(pv), annotations, saved, null));
        });
    }

    private void removeAll(Step step) {
        Observed o = step.o;
        String uid = uid(o.target());
        removeHolders(step);
        if (o.task().isPresent())
            step.actions.add(new Action.Delete(CopyTaskResource.KIND, settings.namespace(), Names.task(uid)));
        if (o.prime().isPresent())
            step.actions.add(new Action.Delete("PersistentVolumeClaim", settings.namespace(), Names.prime(uid)));
    }

    private void removeHolders(Step step) {
        Observed o = step.o;
        String uid = uid(o.target());
        if (o.targetHolder().isPresent())
            step.actions.add(new Action.Delete("Pod", settings.namespace(), Names.targetHolder(uid)));
        // the source holder is shared by every copy of that source: the last one out removes it
        if (o.sourceHolder().isPresent() && o.otherTargetsOfSource().isEmpty()) {
            Pod holder = o.sourceHolder().get();
            step.actions.add(new Action.Delete("Pod", ns(holder), name(holder)));
        }
    }

    /** The task to create, or (task null) what it still waits for, in words for the VolumeCopy's status. */
    private record TaskOrWait(CopyTaskResource task, String waitingFor) {
        static TaskOrWait waiting(String why) {
            return new TaskOrWait(null, why);
        }
    }

    private TaskOrWait taskIfReady(Observed o, VolumeCopy copy) {
        String holdersNotReady = "waiting for the holder pods to run and the prime PVC to bind";
        if (o.prime().isEmpty()
                || o.sourceHolder().isEmpty()
                || o.targetHolder().isEmpty()) return TaskOrWait.waiting(holdersNotReady);
        PersistentVolumeClaim prime = o.prime().get(), source = o.source().orElseThrow(), target = o.target();
        Pod sourceHolder = o.sourceHolder().get(),
                targetHolder = o.targetHolder().get();
        if (!running(sourceHolder) || !running(targetHolder) || !isBound(prime))
            return TaskOrWait.waiting(holdersNotReady);
        String sourceNode = sourceHolder.getSpec().getNodeName(),
                targetNode = targetHolder.getSpec().getNodeName();
        String sourceAddress = null;
        if (!sourceNode.equals(targetNode)) {
            // the target agent pulls from the source agent: without one ready there, a task would only retry and fail
            Optional<String> address = agentAddress(o.agentPods(), sourceNode);
            if (address.isEmpty()) {
                return TaskOrWait.waiting(("waiting for a ready agent pod on node %s (label %s=%s in namespace %s):"
                                + " the copy to node %s streams from it")
                        .formatted(sourceNode, Keys.COMPONENT, Keys.COMPONENT_AGENT, settings.namespace(), targetNode));
            }
            sourceAddress = address.get();
        }
        var spec = new CopyTaskResource.Spec(
                new CopyTaskResource.Endpoint(
                        sourceNode,
                        sourceAddress,
                        new CopyTaskResource.Volume(
                                uid(sourceHolder),
                                source.getSpec().getVolumeName(),
                                "kubernetes.io~csi",
                                volumeMode(source))),
                CopyTaskResource.Endpoint.local(
                        targetNode,
                        new CopyTaskResource.Volume(
                                uid(targetHolder),
                                prime.getSpec().getVolumeName(),
                                "kubernetes.io~csi",
                                volumeMode(target))),
                copy.spec().effectiveContentType(),
                copy.spec().effectivePreallocation(),
                true,
                settings.filesystemOverhead(),
                copy.spec().effectiveVerify(),
                blankToNull(copy.spec().maxRate()),
                false);
        Map<String, String> labels = Holders.labels(uid(target), uid(source), "task");
        labels.put(Keys.SOURCE_NODE, Names.nodeLabel(sourceNode));
        labels.put(Keys.TARGET_NODE, Names.nodeLabel(targetNode));
        var metadata = new ObjectMetaBuilder()
                .withName(Names.task(uid(target)))
                .withNamespace(settings.namespace())
                .withLabels(labels)
                .addToAnnotations(Keys.TARGET, ns(target) + "/" + name(target))
                .build();
        return new TaskOrWait(
                new CopyTaskResource(Keys.API_VERSION, CopyTaskResource.KIND, metadata, spec, null), null);
    }

    /**
     * The data address of {@code node}'s agent: the pod IP of its ready agent pod (the newest, should a rollout show two)
     * and the agents' data port; an IPv6 address in brackets, as {@code host:port} needs.
     */
    private Optional<String> agentAddress(List<Pod> agentPods, String node) {
        return agentPods.stream()
                .filter(p -> settings.namespace().equals(ns(p)))
                .filter(p -> p.getMetadata().getLabels() != null
                        && Keys.COMPONENT_AGENT.equals(
                                p.getMetadata().getLabels().get(Keys.COMPONENT)))
                .filter(p -> node.equals(p.getSpec().getNodeName()))
                .filter(CopyPlanner::ready)
                .max(java.util.Comparator.comparing(
                                (Pod p) -> Optional.ofNullable(p.getMetadata().getCreationTimestamp())
                                        .orElse(""))
                        .thenComparing(CopyPlanner::name))
                .map(p -> {
                    String ip = p.getStatus().getPodIP();
                    return (ip.contains(":") ? "[" + ip + "]" : ip) + ":" + settings.agentDataPort();
                });
    }

    /** Running, Ready, with an IP, and not on its way out. */
    static boolean ready(Pod pod) {
        var status = pod.getStatus();
        return pod.getMetadata().getDeletionTimestamp() == null
                && status != null
                && "Running".equals(status.getPhase())
                && status.getPodIP() != null
                && !status.getPodIP().isBlank()
                && status.getConditions() != null
                && status.getConditions().stream()
                        .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
    }

    /** A CopyTask as the generic object the shell creates. */
    public static HasMetadata asObject(CopyTaskResource task) {
        return dev.lockkeeper.controller.api.Json.generic(task);
    }

    /** CDI's {@code GetPodsUsingPVCs(…, allowReadOnly=true)}: a pod blocks unless it only mounts the claim read-only. */
    static boolean usesWritable(Pod pod, String claim) {
        String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
        if ("Succeeded".equals(phase) || "Failed".equals(phase)) return false;
        for (var volume : pod.getSpec().getVolumes()) {
            var pvc = volume.getPersistentVolumeClaim();
            if (pvc == null || !claim.equals(pvc.getClaimName())) continue;
            if (Boolean.TRUE.equals(pvc.getReadOnly())) continue;
            for (var container : pod.getSpec().getContainers()) {
                for (var mount : container.getVolumeMounts()) {
                    if (mount.getName().equals(volume.getName()) && !Boolean.TRUE.equals(mount.getReadOnly()))
                        return true;
                }
                // kubelet stages a block device read-write at node level; a container cannot map it read-only
                for (var device : container.getVolumeDevices())
                    if (device.getName().equals(volume.getName())) return true;
            }
        }
        return false;
    }

    static boolean running(Pod pod) {
        return pod.getStatus() != null
                && "Running".equals(pod.getStatus().getPhase())
                && pod.getSpec().getNodeName() != null;
    }

    static boolean isBound(PersistentVolumeClaim claim) {
        return claim.getStatus() != null
                && "Bound".equals(claim.getStatus().getPhase())
                && claim.getSpec().getVolumeName() != null;
    }

    static String volumeMode(PersistentVolumeClaim claim) {
        return claim.getSpec().getVolumeMode() == null
                ? "Filesystem"
                : claim.getSpec().getVolumeMode();
    }

    private static Quantity request(PersistentVolumeClaim claim) {
        var resources = claim.getSpec().getResources();
        return resources == null || resources.getRequests() == null
                ? null
                : resources.getRequests().get("storage");
    }

    private static VolumeCopy.Status withClaim(VolumeCopy.Status status, PersistentVolumeClaim target) {
        return new VolumeCopy.Status(
                status.phase(),
                new VolumeCopy.ClaimRef(name(target), uid(target)),
                status.progress(),
                status.bytesTotal(),
                status.bytesDone(),
                status.transfer(),
                status.digest(),
                status.conditions() == null ? List.of() : status.conditions(),
                status.startTime(),
                status.completionTime(),
                status.message());
    }

    static String size(long bytes) {
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
        double value = bytes;
        int unit = 0;
        while (value >= 1024 && unit < units.length - 1) {
            value /= 1024;
            unit++;
        }
        return String.format(Locale.ROOT, "%.1f%s", value, units[unit]);
    }

    private static String blankToNull(String text) {
        return text == null || text.isBlank() ? null : text;
    }

    static String ns(HasMetadata object) {
        return object.getMetadata().getNamespace();
    }

    static String name(HasMetadata object) {
        return object.getMetadata().getName();
    }

    static String uid(HasMetadata object) {
        return object.getMetadata().getUid();
    }

    /** The actions of one pass, and the VolumeCopy status they lead to (written once at the end if it changed). */
    private static final class Step {
        final Observed o;
        final List<Action> actions = new ArrayList<>();
        final Map<String, String> targetAnnotations = new LinkedHashMap<>();
        VolumeCopy.Status status;

        Step(Observed o) {
            this.o = o;
            this.status = o.copy().map(VolumeCopy::statusOrEmpty).orElse(null);
        }

        Map<String, String> annotations() {
            var annotations = o.target().getMetadata().getAnnotations();
            return annotations == null ? Map.of() : annotations;
        }

        String annotation(String key) {
            return annotations().get(key);
        }

        boolean hasFinalizer() {
            var finalizers = o.target().getMetadata().getFinalizers();
            return finalizers != null && finalizers.contains(Keys.FINALIZER);
        }

        /** Records only the annotations that differ from the target's, so an unchanged pass writes nothing. */
        void annotate(Map<String, String> wanted) {
            wanted.forEach((key, value) -> {
                if (!Objects.equals(annotations().get(key), value)
                        || (value == null && annotations().containsKey(key))) {
                    if (value != null || annotations().containsKey(key)) targetAnnotations.put(key, value);
                }
            });
        }

        /** CDI writes the running condition only on claims a DataVolume owns (it becomes the DV's Running condition). */
        void running(boolean running, String message, String reason) {
            var owners = o.target().getMetadata().getOwnerReferences();
            if (owners == null || owners.stream().noneMatch(r -> "DataVolume".equals(r.getKind()))) return;
            Map<String, String> wanted = new LinkedHashMap<>();
            wanted.put(Keys.RUNNING, Boolean.toString(running));
            wanted.put(Keys.RUNNING_MESSAGE, message);
            wanted.put(Keys.RUNNING_REASON, reason);
            annotate(wanted);
        }

        void emit(Emit event) {
            actions.add(event);
        }

        boolean pending(String why) {
            annotate(Map.of(Keys.CLONE_PHASE, PENDING));
            running(false, "Clone Pending", "Pending");
            phase(Phase.Pending, why);
            return false;
        }

        /** CDI's updateClonePhaseError: Error phase and the message; retried on the next change (not terminal). */
        boolean error(String message, Emit event) {
            Map<String, String> wanted = new LinkedHashMap<>();
            wanted.put(Keys.CLONE_PHASE, ERROR);
            wanted.put(Keys.CLONE_ERROR, message);
            annotate(wanted);
            running(false, message, "Error");
            if (event != null) emit(event);
            phase(Phase.Pending, message);
            return false;
        }

        /** A failure that retrying cannot fix: the VolumeCopy ends Failed and the objects go. */
        void fail(String message) {
            Map<String, String> wanted = new LinkedHashMap<>();
            wanted.put(Keys.CLONE_PHASE, ERROR);
            wanted.put(Keys.CLONE_ERROR, message);
            annotate(wanted);
            running(false, message, "Error");
            status = new VolumeCopy.Status(
                    Phase.Failed.name(),
                    status.claimRef(),
                    status.progress(),
                    status.bytesTotal(),
                    status.bytesDone(),
                    status.transfer(),
                    status.digest(),
                    status.conditions(),
                    status.startTime(),
                    o.now().toString(),
                    message);
        }

        void phase(Phase phase, String message) {
            status = new VolumeCopy.Status(
                    phase.name(),
                    status.claimRef(),
                    status.progress(),
                    status.bytesTotal(),
                    status.bytesDone(),
                    status.transfer(),
                    status.digest(),
                    status.conditions(),
                    status.startTime(),
                    status.completionTime(),
                    message);
        }

        void startTime(String when) {
            status = new VolumeCopy.Status(
                    status.phase(),
                    status.claimRef(),
                    status.progress(),
                    status.bytesTotal(),
                    status.bytesDone(),
                    status.transfer(),
                    status.digest(),
                    status.conditions(),
                    when,
                    status.completionTime(),
                    status.message());
        }

        void digest(String value) {
            status = new VolumeCopy.Status(
                    status.phase(),
                    status.claimRef(),
                    status.progress(),
                    status.bytesTotal(),
                    status.bytesDone(),
                    status.transfer(),
                    value,
                    status.conditions(),
                    status.startTime(),
                    status.completionTime(),
                    status.message());
        }

        void progress(TaskStatus ts) {
            status = new VolumeCopy.Status(
                    status.phase(),
                    status.claimRef(),
                    ts.progress(),
                    ts.bytesTotal(),
                    ts.bytesDone(),
                    status.transfer(),
                    status.digest(),
                    status.conditions(),
                    status.startTime(),
                    status.completionTime(),
                    status.message());
        }

        void transfer(String sourceNode, String targetNode, int attempts, Long resumedFrom) {
            var transfer = new VolumeCopy.Transfer(
                    sourceNode, targetNode, sourceNode.equals(targetNode), attempts, resumedFrom);
            status = new VolumeCopy.Status(
                    status.phase(),
                    status.claimRef(),
                    status.progress(),
                    status.bytesTotal(),
                    status.bytesDone(),
                    transfer,
                    status.digest(),
                    status.conditions(),
                    status.startTime(),
                    status.completionTime(),
                    status.message());
        }

        /** Sets a condition; its transition time changes only when its status does (metav1.Condition semantics). */
        void condition(String type, boolean value, String reason, String message) {
            String wanted = value ? "True" : "False";
            List<Condition> conditions = new ArrayList<>(status.conditions() == null ? List.of() : status.conditions());
            Optional<Condition> existing =
                    conditions.stream().filter(c -> c.type().equals(type)).findFirst();
            String since = existing.filter(c -> c.status().equals(wanted))
                    .map(Condition::lastTransitionTime)
                    .orElse(o.now().toString());
            existing.ifPresent(conditions::remove);
            conditions.add(new Condition(type, wanted, reason, message, since));
            conditions.sort(java.util.Comparator.comparing(Condition::type));
            status = new VolumeCopy.Status(
                    status.phase(),
                    status.claimRef(),
                    status.progress(),
                    status.bytesTotal(),
                    status.bytesDone(),
                    status.transfer(),
                    status.digest(),
                    List.copyOf(conditions),
                    status.startTime(),
                    status.completionTime(),
                    status.message());
        }

        List<Action> actions() {
            List<Action> all = new ArrayList<>();
            if (!targetAnnotations.isEmpty())
                all.add(new Action.PatchTarget(new LinkedHashMap<>(targetAnnotations), null));
            all.addAll(actions);
            VolumeCopy.Status before = o.copy().map(c -> c.status()).orElse(null);
            if (status != null && o.copy().isPresent() && !status.equals(before))
                all.add(new Action.UpdateCopyStatus(status));
            return merge(all);
        }

        /**
         * The target's annotation changes in one write ahead of everything else (adding the finalizer with them, so the
         * claim is protected before anything is made), and a finalizer removal as the very last write: a pass that
         * fails half-way keeps the finalizer, so the next pass still sees the copy as unfinished and cleans up what is
         * left. Releasing it first would lose that cleanup for good.
         */
        private static List<Action> merge(List<Action> all) {
            Map<String, String> annotations = new LinkedHashMap<>();
            Boolean finalizer = null;
            List<Action> rest = new ArrayList<>();
            for (Action action : all) {
                if (action instanceof Action.PatchTarget p) {
                    annotations.putAll(p.annotations());
                    if (p.finalizer() != null) finalizer = p.finalizer();
                } else {
                    rest.add(action);
                }
            }
            boolean release = Boolean.FALSE.equals(finalizer);
            List<Action> merged = new ArrayList<>();
            if (!annotations.isEmpty() || Boolean.TRUE.equals(finalizer)) {
                merged.add(new Action.PatchTarget(
                        java.util.Collections.unmodifiableMap(annotations), release ? null : finalizer));
            }
            merged.addAll(rest);
            if (release) merged.add(new Action.PatchTarget(Map.of(), false));
            return java.util.Collections.unmodifiableList(merged);
        }
    }
}
