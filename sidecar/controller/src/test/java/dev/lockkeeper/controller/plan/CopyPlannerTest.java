package dev.lockkeeper.controller.plan;

import static org.junit.jupiter.api.Assertions.*;

import dev.lockkeeper.controller.api.Condition;
import dev.lockkeeper.controller.api.CopyTaskResource;
import dev.lockkeeper.controller.api.Json;
import dev.lockkeeper.controller.api.Keys;
import dev.lockkeeper.controller.api.VolumeCopy;
import dev.lockkeeper.sidecar.agent.TaskParser;
import dev.lockkeeper.sidecar.agent.TaskStatus;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimStatusBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The planner, step by step. Cases marked "upstream:" port a case of CDI's
 * {@code pkg/controller/populators/clone-populator_test.go} or {@code clone/common_test.go}.
 */
class CopyPlannerTest {
    final CopyPlanner planner = new CopyPlanner(Settings.DEFAULT);

    List<Action> plan(World w) {
        return planner.plan(w.observed());
    }

    static Map<String, String> annotations(List<Action> actions) {
        return actions.stream()
                .filter(a -> a instanceof Action.PatchTarget)
                .map(a -> ((Action.PatchTarget) a).annotations())
                .findFirst()
                .orElse(Map.of());
    }

    /** The finalizer change of a pass (a pass adds or releases it at most once). */
    static Boolean finalizer(List<Action> actions) {
        Boolean change = null;
        for (Action action : actions)
            if (action instanceof Action.PatchTarget patch && patch.finalizer() != null) change = patch.finalizer();
        return change;
    }

    /** The release is a pass's last write: a pass that fails before it keeps the claim unfinished, so cleanup is retried. */
    static void assertReleasedLast(List<Action> actions) {
        assertEquals(new Action.PatchTarget(Map.of(), false), actions.getLast(), actions.toString());
    }

    static List<String> events(List<Action> actions) {
        return actions.stream()
                .filter(a -> a instanceof Action.Emit)
                .map(a -> ((Action.Emit) a).reason() + ": " + ((Action.Emit) a).message())
                .toList();
    }

    static List<String> created(List<Action> actions) {
        return actions.stream()
                .filter(a -> a instanceof Action.Create)
                .map(a -> ((Action.Create) a).object())
                .map(o -> o.getKind() + " " + o.getMetadata().getNamespace() + "/"
                        + o.getMetadata().getName())
                .toList();
    }

    static List<String> deleted(List<Action> actions) {
        return actions.stream()
                .filter(a -> a instanceof Action.Delete)
                .map(a -> (Action.Delete) a)
                .map(d -> d.kind() + " " + d.namespace() + "/" + d.name())
                .toList();
    }

    static VolumeCopy.Status status(List<Action> actions) {
        return actions.stream()
                .filter(a -> a instanceof Action.UpdateCopyStatus)
                .map(a -> ((Action.UpdateCopyStatus) a).status())
                .findFirst()
                .orElseThrow(() -> new AssertionError("no status update in " + actions));
    }

    static Action.PatchVolume volumePatch(List<Action> actions) {
        return actions.stream()
                .filter(a -> a instanceof Action.PatchVolume)
                .map(a -> (Action.PatchVolume) a)
                .findFirst()
                .orElseThrow(() -> new AssertionError("no PV patch in " + actions));
    }

    // upstream: "should do nothing if unexpected PVC"
    @Test
    void aClaimWithoutAVolumeCopySourceIsNotOurs() {
        World w = World.fresh();
        w.target.getSpec().getDataSourceRef().setKind("VolumeCloneSource");
        assertEquals(List.of(), plan(w));
    }

    /** Rows of claim readiness and source checks: what the target shows while nothing is made. */
    static Stream<Arguments> waitingAndErrors() {
        return Stream.of(
                // upstream: "should be pending storageclass is nil"
                row(
                        "no storage class yet",
                        w -> w.target.getSpec().setStorageClassName(null),
                        "Pending",
                        null,
                        List.of()),
                // upstream: "should error if storageclass is not found"
                row(
                        "storage class not found",
                        w -> w.storageClass = null,
                        "Error",
                        "storage class fast not found",
                        List.of()),
                row(
                        "empty storage class name",
                        w -> w.target.getSpec().setStorageClassName(""),
                        "Error",
                        "PVC alice/disk0 has empty storage class name",
                        List.of()),
                // upstream: "should be pending if WFFC"
                row(
                        "WaitForFirstConsumer without a selected node",
                        w -> w.storageClass = World.storageClass("WaitForFirstConsumer"),
                        "Pending",
                        null,
                        List.of()),
                row(
                        "source missing",
                        w -> w.source = null,
                        "Pending",
                        null,
                        List.of("CloneWithoutSource: The source pvc win11 doesn't exist")),
                row(
                        "source not bound",
                        w -> w.source.setStatus(new PersistentVolumeClaimStatusBuilder()
                                .withPhase("Pending")
                                .build()),
                        "Pending",
                        null,
                        List.of()),
                row(
                        "target smaller than source",
                        w -> w.target
                                .getSpec()
                                .getResources()
                                .getRequests()
                                .put("storage", new io.fabric8.kubernetes.api.model.Quantity("1Gi")),
                        "Error",
                        "target resources requests storage size is smaller than the source 1073741824 < 2147483648",
                        List.of(
                                "ErrIncompatiblePVC: target resources requests storage size is smaller than the source 1073741824 < 2147483648")),
                row(
                        "content types differ",
                        w -> w.source.getMetadata().setAnnotations(Map.of(Keys.CONTENT_TYPE, "archive")),
                        "Error",
                        "source contentType (archive) and target contentType (kubevirt) do not match",
                        List.of(
                                "ErrIncompatiblePVC: source contentType (archive) and target contentType (kubevirt) do not match")),
                row(
                        "volume modes differ for archive content",
                        w -> {
                            w.source.getMetadata().setAnnotations(Map.of(Keys.CONTENT_TYPE, "archive"));
                            w.copy = withSpec(
                                    w.copy,
                                    new VolumeCopy.Spec(w.copy.spec().source(), "archive", null, null, null, null));
                            w.target.getSpec().setVolumeMode("Block");
                        },
                        "Error",
                        "source volumeMode (Filesystem) and target volumeMode (Block) do not match, contentType (archive)",
                        List.of(
                                "ErrIncompatiblePVC: source volumeMode (Filesystem) and target volumeMode (Block) do not match, contentType (archive)")),
                // upstream (clone/common_test.go IsSourceClaimReady): a pod using the source blocks, with CDI's event
                // per pod
                row(
                        "source in use by a running pod",
                        w -> w.podsUsingSource.add(World.userPod("vm-launcher", "win11", false, "Running")),
                        "Pending",
                        null,
                        List.of("CloneSourceInUse: pod alice/vm-launcher using PersistentVolumeClaim win11")));
    }

    static Arguments row(String name, Consumer<World> change, String phase, String error, List<String> events) {
        return Arguments.of(name, change, phase, error, events);
    }

    static VolumeCopy withSpec(VolumeCopy copy, VolumeCopy.Spec spec) {
        return new VolumeCopy(copy.apiVersion(), copy.kind(), copy.metadata(), spec, copy.status());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("waitingAndErrors")
    void nothingIsMadeUntilTheClaimAndSourceAreReady(
            String name, Consumer<World> change, String phase, String error, List<String> events) {
        World w = World.fresh();
        change.accept(w);
        List<Action> actions = plan(w);
        assertEquals(phase, annotations(actions).get(Keys.CLONE_PHASE), name);
        assertEquals(error, annotations(actions).get(Keys.CLONE_ERROR), name);
        assertEquals(events, events(actions), name);
        assertEquals(List.of(), created(actions), name);
        assertNull(finalizer(actions), "no finalizer before the checks pass");
        assertEquals("Pending", status(actions).phase(), name);
    }

    @Test
    void readOnlyAndFinishedPodsDoNotHoldTheSource() {
        // upstream: GetPodsUsingPVCs(allowReadOnly=true) skips Succeeded/Failed pods and read-only mounts
        World w = World.fresh();
        w.podsUsingSource.add(World.userPod("reader", "win11", true, "Running"));
        w.podsUsingSource.add(World.userPod("old-job", "win11", false, "Succeeded"));
        Pod readOnlyClaim = World.userPod("ro-claim", "win11", false, "Running");
        readOnlyClaim
                .getSpec()
                .getVolumes()
                .getFirst()
                .getPersistentVolumeClaim()
                .setReadOnly(true);
        w.podsUsingSource.add(readOnlyClaim);
        assertEquals(List.of(), events(plan(w)));
        assertEquals(Boolean.TRUE, finalizer(plan(w)));
    }

    @Test
    void aBlockDeviceUserHoldsTheSourceEvenThoughNothingMountsItWritable() {
        World w = World.fresh();
        Pod pod = World.userPod("vm", "win11", true, "Running");
        pod.getSpec().getContainers().getFirst().setVolumeMounts(List.of());
        pod.getSpec()
                .getContainers()
                .getFirst()
                .setVolumeDevices(List.of(new io.fabric8.kubernetes.api.model.VolumeDevice("/dev/d", "d")));
        w.podsUsingSource.add(pod);
        assertEquals(List.of("CloneSourceInUse: pod alice/vm using PersistentVolumeClaim win11"), events(plan(w)));
    }

    @Test
    void sourceInUseThenFreedProceeds() {
        World w = World.fresh();
        w.podsUsingSource.add(World.userPod("vm-launcher", "win11", false, "Running"));
        VolumeCopy.Status waiting = status(plan(w));
        assertEquals(
                "CloneSourceInUse",
                waiting.condition(Condition.SOURCE_READY).orElseThrow().reason());
        w.podsUsingSource.clear();
        assertEquals(Boolean.TRUE, finalizer(plan(w)));
    }

    // upstream: "should be pending and initialize target if choosestrategy returns something"
    @Test
    void firstPassProtectsTheClaimAndRecordsTheStrategy() {
        List<Action> actions = plan(World.fresh());
        assertEquals(Boolean.TRUE, finalizer(actions));
        assertEquals(Map.of(Keys.CLONE_TYPE, "copy", Keys.CLONE_PHASE, "Pending"), annotations(actions));
        assertEquals(List.of(), created(actions), "objects come on the next pass");
        VolumeCopy.Status status = status(actions);
        assertEquals(new VolumeCopy.ClaimRef("disk0", World.TARGET_UID), status.claimRef());
        assertTrue(status.condition(Condition.AUTHORIZED).orElseThrow().isTrue());
        assertEquals(
                "SameNamespace",
                status.condition(Condition.AUTHORIZED).orElseThrow().reason());
    }

    @Test
    void aVolumeCopyBoundToAnotherClaimIsNotUsedAgain() {
        World w = World.fresh();
        w.copy = new VolumeCopy(
                w.copy.apiVersion(),
                w.copy.kind(),
                w.copy.metadata(),
                w.copy.spec(),
                new VolumeCopy.Status(
                        null,
                        new VolumeCopy.ClaimRef("other", "99999999-9999-4999-8999-999999999999"),
                        null,
                        null,
                        null,
                        null,
                        null,
                        List.of(),
                        null,
                        null,
                        null));
        List<Action> actions = plan(w);
        assertEquals(
                List.of(
                        "VolumeCopyAlreadyBound: VolumeCopy win11-copy is bound to PersistentVolumeClaim other; a VolumeCopy fills one claim"),
                events(actions));
        assertEquals(1, actions.size(), "nothing but the event: " + actions);
    }

    @Test
    void aMissingVolumeCopyLeavesTheClaimPendingWithLibVolumePopulatorsEvent() {
        World w = World.fresh();
        w.copy = null;
        List<Action> actions = plan(w);
        assertEquals(List.of("PopulatorDataSourceNotFound: Data source alice/win11-copy not found"), events(actions));
        assertEquals("Pending", annotations(actions).get(Keys.CLONE_PHASE));
    }

    @Test
    void crossNamespaceNeedsAValidTokenAndChecksItOnce() {
        World w = World.fresh();
        w.copy = World.copy("golden-images", "token");
        w.source.getMetadata().setNamespace("golden-images");
        w.token = new TokenVerdict.Invalid("signature does not verify");
        List<Action> refused = plan(w);
        assertEquals("invalid token", annotations(refused).get(Keys.CLONE_ERROR));
        assertEquals("Error", annotations(refused).get(Keys.CLONE_PHASE));
        assertEquals(
                List.of("CloneValidationFailed: The clone doesn't meet the validation requirements: invalid token"),
                events(refused));
        VolumeCopy.Status failed = status(refused);
        assertEquals("Failed", failed.phase());
        Condition authorized = failed.condition(Condition.AUTHORIZED).orElseThrow();
        assertEquals(
                List.of("False", "InvalidToken", "signature does not verify"),
                List.of(authorized.status(), authorized.reason(), authorized.message()));
        assertEquals(List.of(), created(refused));

        w.token = new TokenVerdict.Valid();
        VolumeCopy.Status authorizedStatus = status(plan(w));
        assertEquals(
                "TokenVerified",
                authorizedStatus.condition(Condition.AUTHORIZED).orElseThrow().reason());
        // recorded: a later pass does not look at the token again (NotChecked would throw if it did)
        w.copy = new VolumeCopy(w.copy.apiVersion(), w.copy.kind(), w.copy.metadata(), w.copy.spec(), authorizedStatus);
        w.token = new TokenVerdict.NotChecked();
        assertEquals(Boolean.TRUE, finalizer(plan(w)));
    }

    @Test
    void aFailedCopyStaysFailedAndReleasesWhatItMade() {
        World w = World.fresh().prepared().withTask(TaskStatus.Phase.Failed, 10, 100);
        w.copy = new VolumeCopy(
                w.copy.apiVersion(),
                w.copy.kind(),
                w.copy.metadata(),
                w.copy.spec(),
                new VolumeCopy.Status(
                        "Failed",
                        new VolumeCopy.ClaimRef("disk0", World.TARGET_UID),
                        null,
                        null,
                        null,
                        null,
                        null,
                        List.of(),
                        null,
                        null,
                        "no space"));
        List<Action> actions = plan(w);
        assertEquals(
                List.of(
                        "Pod lockkeeper/lk-dst-" + World.TARGET_UID,
                        "Pod alice/lk-src-" + World.SOURCE_UID,
                        "CopyTask lockkeeper/" + World.TARGET_UID,
                        "PersistentVolumeClaim lockkeeper/prime-" + World.TARGET_UID),
                deleted(actions));
        assertEquals(List.of(), created(actions), "no second attempt");
    }

    @Test
    void waitForFirstConsumerProceedsWithASelectedNodeOrImmediateBinding() {
        World w = World.fresh();
        w.storageClass = World.storageClass("WaitForFirstConsumer");
        w.annotate(Keys.IMMEDIATE_BINDING, "");
        assertEquals(Boolean.TRUE, finalizer(plan(w)), "CDI: the annotation's presence requests immediate binding");
        World selected = World.fresh();
        selected.storageClass = World.storageClass("WaitForFirstConsumer");
        selected.annotate(Keys.SELECTED_NODE, "node-b").prepared();
        selected.prime = null;
        selected.targetHolder = null;
        List<Action> actions = plan(selected);
        var prime = (io.fabric8.kubernetes.api.model.PersistentVolumeClaim) ((Action.Create) actions.stream()
                        .filter(a -> a instanceof Action.Create c
                                && c.object().getKind().equals("PersistentVolumeClaim"))
                        .findFirst()
                        .orElseThrow())
                .object();
        assertEquals(
                "node-b",
                prime.getMetadata().getAnnotations().get(Keys.SELECTED_NODE),
                "lib-volume-populator copies selected-node to the prime");
        Pod holder = (Pod) ((Action.Create) actions.stream()
                        .filter(a -> a instanceof Action.Create c
                                && c.object().getMetadata().getName().startsWith("lk-dst-"))
                        .findFirst()
                        .orElseThrow())
                .object();
        var term = holder.getSpec()
                .getAffinity()
                .getNodeAffinity()
                .getRequiredDuringSchedulingIgnoredDuringExecution()
                .getNodeSelectorTerms()
                .getFirst();
        assertEquals(
                List.of("node-b"),
                term.getMatchExpressions().getFirst().getValues(),
                "the target holder runs where the user's pod will");
    }

    @Test
    void secondPassMakesThePrimeAndBothHoldersNamedAfterTheUids() {
        World w = World.fresh();
        w.target.getMetadata().setFinalizers(new ArrayList<>(List.of(Keys.FINALIZER)));
        w.annotate(Keys.CLONE_TYPE, "copy").annotate(Keys.CLONE_PHASE, "Pending");
        List<Action> actions = plan(w);
        assertEquals(
                List.of(
                        "PersistentVolumeClaim lockkeeper/prime-" + World.TARGET_UID,
                        "Pod alice/lk-src-" + World.SOURCE_UID,
                        "Pod lockkeeper/lk-dst-" + World.TARGET_UID),
                created(actions));
        assertEquals(Map.of(Keys.CLONE_PHASE, "HostClone"), annotations(actions));
        assertEquals("CloneScheduled", status(actions).phase());
        assertEquals(List.of(), events(actions), "CloneScheduled is announced when the task exists");

        var prime = (io.fabric8.kubernetes.api.model.PersistentVolumeClaim) actions.stream()
                .filter(a -> a instanceof Action.Create)
                .map(a -> ((Action.Create) a).object())
                .findFirst()
                .orElseThrow();
        assertNull(prime.getSpec().getDataSourceRef(), "the prime is provisioned empty");
        assertEquals("fast", prime.getSpec().getStorageClassName());
        assertEquals(
                new io.fabric8.kubernetes.api.model.Quantity("2Gi"),
                prime.getSpec().getResources().getRequests().get("storage"));
    }

    @Test
    void holderPodsAreRestrictedPauseProcessesAndTheSourceIsReadOnly() {
        World w = World.fresh();
        Pod source = Holders.sourceHolder(w.source, "low", Settings.DEFAULT);
        Pod target = Holders.targetHolder(w.target, w.source, null, Settings.DEFAULT);
        for (Pod pod : List.of(source, target)) {
            var spec = pod.getSpec();
            assertEquals(Boolean.FALSE, spec.getAutomountServiceAccountToken());
            assertEquals(Boolean.FALSE, spec.getEnableServiceLinks());
            assertTrue(spec.getSecurityContext().getRunAsNonRoot());
            assertNull(spec.getSecurityContext().getFsGroup(), "kubelet must not chown the source");
            var container = spec.getContainers().getFirst();
            assertEquals(Settings.DEFAULT.holderImage(), container.getImage());
            assertEquals(
                    List.of("ALL"),
                    container.getSecurityContext().getCapabilities().getDrop());
            assertFalse(container.getSecurityContext().getAllowPrivilegeEscalation());
        }
        assertTrue(source.getSpec()
                .getVolumes()
                .getFirst()
                .getPersistentVolumeClaim()
                .getReadOnly());
        assertTrue(source.getSpec()
                .getContainers()
                .getFirst()
                .getVolumeMounts()
                .getFirst()
                .getReadOnly());
        assertEquals("low", source.getSpec().getPriorityClassName());
        // co-location preferred, not required: the copy is local when the scheduler can place it so
        var preferred = target.getSpec()
                .getAffinity()
                .getPodAffinity()
                .getPreferredDuringSchedulingIgnoredDuringExecution()
                .getFirst();
        assertEquals(
                Map.of(Keys.ROLE, "source-holder", Keys.SOURCE_UID, World.SOURCE_UID),
                preferred.getPodAffinityTerm().getLabelSelector().getMatchLabels());
        assertEquals(List.of("alice"), preferred.getPodAffinityTerm().getNamespaces());
        w.target.getSpec().setVolumeMode("Block");
        Pod block = Holders.targetHolder(w.target, w.source, null, Settings.DEFAULT);
        assertEquals(
                "/dev/data",
                block.getSpec()
                        .getContainers()
                        .getFirst()
                        .getVolumeDevices()
                        .getFirst()
                        .getDevicePath());
    }

    @Test
    void oneSourceHolderServesEveryCopyOfASource() {
        World w = World.fresh();
        w.target.getMetadata().setFinalizers(new ArrayList<>(List.of(Keys.FINALIZER)));
        w.sourceHolder = World.running(
                Holders.sourceHolder(w.source, null, Settings.DEFAULT), World.SOURCE_HOLDER_UID, "node-a");
        assertFalse(created(plan(w)).contains("Pod alice/lk-src-" + World.SOURCE_UID));
    }

    @Test
    void theTaskIsCreatedOnceBothHoldersRunAndThePrimeIsBound() {
        World w = World.fresh().prepared();
        w.targetHolder.setStatus(new io.fabric8.kubernetes.api.model.PodStatusBuilder()
                .withPhase("Pending")
                .build());
        assertEquals(List.of(), created(plan(w)), "target holder not running yet");
        w = World.fresh().prepared();
        w.prime.setStatus(
                new PersistentVolumeClaimStatusBuilder().withPhase("Pending").build());
        assertEquals(List.of(), created(plan(w)), "prime not bound yet");

        w = World.fresh().prepared();
        List<Action> actions = plan(w);
        assertEquals(List.of("CopyTask lockkeeper/" + World.TARGET_UID), created(actions));
        assertEquals(List.of("CloneScheduled: Cloning from alice/win11 into alice/disk0 scheduled"), events(actions));
        var task = Json.MAPPER.convertValue(
                ((Action.Create) actions.stream()
                                .filter(a -> a instanceof Action.Create)
                                .findFirst()
                                .orElseThrow())
                        .object(),
                CopyTaskResource.class);
        assertEquals(
                Map.of(
                        Keys.MANAGED_BY,
                        "lockkeeper",
                        Keys.ROLE,
                        "task",
                        Keys.TARGET_UID,
                        World.TARGET_UID,
                        Keys.SOURCE_UID,
                        World.SOURCE_UID,
                        Keys.SOURCE_NODE,
                        "node-a",
                        Keys.TARGET_NODE,
                        "node-b"),
                task.metadata().getLabels());
        assertEquals(
                new CopyTaskResource.Endpoint(
                        "node-a",
                        "10.244.1.7:8444",
                        new CopyTaskResource.Volume(
                                World.SOURCE_HOLDER_UID, "pv-source", "kubernetes.io~csi", "Filesystem")),
                task.spec().source());
        assertEquals(
                CopyTaskResource.Endpoint.local(
                        "node-b",
                        new CopyTaskResource.Volume(
                                World.TARGET_HOLDER_UID, "pv-prime", "kubernetes.io~csi", "Filesystem")),
                task.spec().target());
        assertTrue(task.spec().targetIsZero()
                && task.spec().verify()
                && !task.spec().cancel());
        assertEquals(
                new VolumeCopy.Transfer("node-a", "node-b", false, 0, 0L),
                status(actions).transfer());
    }

    @Test
    void theTaskIsOneTheAgentsParserAccepts() throws Exception {
        World w = World.fresh().prepared();
        w.copy = withSpec(w.copy, new VolumeCopy.Spec(w.copy.spec().source(), "archive", true, null, false, "200M"));
        w.source.getMetadata().setAnnotations(Map.of(Keys.CONTENT_TYPE, "archive"));
        var object = plan(w).stream()
                .filter(a -> a instanceof Action.Create)
                .map(a -> ((Action.Create) a).object())
                .findFirst()
                .orElseThrow();
        var parsed = TaskParser.parse(Json.tree(object));
        assertEquals(World.TARGET_UID, parsed.name());
        assertEquals(dev.lockkeeper.sidecar.copy.Content.ARCHIVE, parsed.content());
        assertTrue(parsed.preallocate());
        assertFalse(parsed.verify());
        assertEquals(200L << 20, parsed.maxBytesPerSecond());
        assertEquals(
                new dev.lockkeeper.sidecar.agent.VolumeRef.KubeletVolume(
                        World.SOURCE_HOLDER_UID,
                        "pv-source",
                        "kubernetes.io~csi",
                        dev.lockkeeper.sidecar.agent.VolumeRef.VolumeMode.FILESYSTEM),
                parsed.source().volume());
        assertEquals("node-b", parsed.target().node());
        assertEquals(
                java.util.Optional.of("10.244.1.7:8444"),
                parsed.source().address(),
                "the target agent pulls from the address the controller wrote");
        assertEquals(java.util.Optional.empty(), parsed.target().address());
    }

    static final String WAITING_FOR_THE_SOURCE_AGENT =
            "waiting for a ready agent pod on node node-a (label app.kubernetes.io/component=agent in namespace"
                    + " lockkeeper): the copy to node node-b streams from it";

    static Stream<Arguments> agentPodsOfACrossNodeCopy() {
        Consumer<Pod> asIs = p -> {};
        return Stream.of(
                Arguments.of("ready on the source node", "node-a", "10.244.1.7", asIs, "10.244.1.7:8444"),
                Arguments.of("with an IPv6 address", "node-a", "fd00:10:244::7", asIs, "[fd00:10:244::7]:8444"),
                Arguments.of("only on the target node", "node-b", "10.244.2.9", asIs, null),
                Arguments.of(
                        "not ready",
                        "node-a",
                        "10.244.1.7",
                        (Consumer<Pod>)
                                p -> p.getStatus().getConditions().getFirst().setStatus("False"),
                        null),
                Arguments.of(
                        "pending",
                        "node-a",
                        "10.244.1.7",
                        (Consumer<Pod>) p -> p.getStatus().setPhase("Pending"),
                        null),
                Arguments.of(
                        "running without an IP yet",
                        "node-a",
                        "10.244.1.7",
                        (Consumer<Pod>) p -> p.getStatus().setPodIP(null),
                        null),
                Arguments.of(
                        "terminating",
                        "node-a",
                        "10.244.1.7",
                        (Consumer<Pod>) p -> p.getMetadata().setDeletionTimestamp("2026-12-02T17:59:00Z"),
                        null),
                Arguments.of(
                        "in another namespace",
                        "node-a",
                        "10.244.1.7",
                        (Consumer<Pod>) p -> p.getMetadata().setNamespace("kube-system"),
                        null),
                Arguments.of(
                        "without the agent label",
                        "node-a",
                        "10.244.1.7",
                        (Consumer<Pod>) p -> p.getMetadata().setLabels(Map.of(Keys.COMPONENT, "controller")),
                        null));
    }

    /**
     * A cross-node task names the source agent by its pod IP and the agents' data port; with no ready agent pod on the
     * source node there is no task yet (the target agent would only retry against nothing), and the VolumeCopy says why.
     */
    @ParameterizedTest(name = "agent pod {0}")
    @MethodSource("agentPodsOfACrossNodeCopy")
    void aCrossNodeTaskStreamsFromTheSourceNodesReadyAgent(
            String what, String node, String podIp, Consumer<Pod> change, String expectedAddress) {
        World w = World.fresh().prepared();
        w.agentPods.clear();
        Pod agent = World.agentPod(node, podIp);
        change.accept(agent);
        w.agentPods.add(agent);
        List<Action> actions = plan(w);
        if (expectedAddress == null) {
            assertEquals(List.of(), created(actions), "no task without a ready source agent");
            assertEquals(List.of(), events(actions), "nothing scheduled yet");
            assertEquals("CloneScheduled", status(actions).phase());
            assertEquals(WAITING_FOR_THE_SOURCE_AGENT, status(actions).message());
        } else {
            assertEquals(List.of("CopyTask lockkeeper/" + World.TARGET_UID), created(actions));
            var task = createdTask(actions);
            assertEquals(expectedAddress, task.spec().source().address());
            assertNull(task.spec().target().address(), "the target agent is not dialled");
        }
    }

    @Test
    void theAgentsDataPortIsTheConfiguredOneAndARolloutsNewPodIsChosen() {
        World w = World.fresh().prepared();
        Pod old = World.agentPod("node-a", "10.244.1.7");
        Pod rolledOut = World.agentPod("node-a", "10.244.1.8");
        rolledOut.getMetadata().setName("lockkeeper-agent-new");
        rolledOut.getMetadata().setCreationTimestamp("2026-12-02T17:30:00Z");
        w.agentPods = new ArrayList<>(List.of(rolledOut, old));
        var task = createdTask(new CopyPlanner(Settings.DEFAULT.withAgentDataPort(9444)).plan(w.observed()));
        assertEquals("10.244.1.8:9444", task.spec().source().address());
    }

    @Test
    void aDataPortOutOfRangeIsRefusedWithTheRange() {
        var refused = assertThrows(IllegalArgumentException.class, () -> Settings.DEFAULT.withAgentDataPort(0));
        assertEquals("the agents' data port must be 1 to 65535, got 0", refused.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Settings.DEFAULT.withAgentDataPort(65536));
    }

    @Test
    void aSameNodeCopyNeedsNoAgentAddress() {
        World w = World.fresh().prepared();
        w.agentPods.clear();
        w.targetHolder.getSpec().setNodeName("node-a");
        var task = createdTask(plan(w));
        assertNull(task.spec().source().address(), "a local copy dials no one");
        assertEquals("node-a", task.spec().target().node());
    }

    static CopyTaskResource createdTask(List<Action> actions) {
        return Json.MAPPER.convertValue(
                actions.stream()
                        .filter(a -> a instanceof Action.Create c
                                && c.object().getKind().equals("CopyTask"))
                        .map(a -> ((Action.Create) a).object())
                        .findFirst()
                        .orElseThrow(() -> new AssertionError("no CopyTask in " + actions)),
                CopyTaskResource.class);
    }

    /** CloneScheduled goes out ahead of the task: a controller killed right after the task has announced it. */
    @Test
    void theScheduleIsAnnouncedBeforeTheTaskIsMade() {
        World w = World.fresh().prepared();
        List<Action> actions = plan(w);
        int event = actions.indexOf(actions.stream()
                .filter(a -> a instanceof Action.Emit e && e.reason().equals("CloneScheduled"))
                .findFirst()
                .orElseThrow());
        int task = actions.indexOf(actions.stream()
                .filter(a ->
                        a instanceof Action.Create c && c.object().getKind().equals("CopyTask"))
                .findFirst()
                .orElseThrow());
        assertTrue(event < task, () -> "the event first: " + actions);
    }

    /**
     * A controller killed after it wrote the claim's Succeeded phase but before the VolumeCopy's status: the pass that
     * cleans up completes the status and says CloneSucceeded.
     */
    @Test
    void aCopyWhoseControllerDiedAfterTheClaimsSucceededPhaseStillSucceeds() {
        World w = World.fresh().prepared().withTask(TaskStatus.Phase.Succeeded, 1, 1);
        w.annotate(Keys.CLONE_PHASE, "Succeeded");
        w.copyStatus("RebindInProgress", true);
        List<Action> done = plan(w);
        assertEquals("Succeeded", status(done).phase());
        assertTrue(status(done).condition("Ready").orElseThrow().isTrue());
        assertEquals(List.of("CloneSucceeded: Successfully cloned from alice/win11 into alice/disk0"), events(done));
        assertEquals(Boolean.FALSE, finalizer(done));
        assertReleasedLast(done);

        w.copyStatus("Succeeded", true);
        assertEquals(List.of(), events(plan(w)), "said once");
    }

    @Test
    void noSecondTaskWhileOneExists() {
        World w = World.fresh().prepared().withTask(TaskStatus.Phase.Queued, 0, 0);
        assertEquals(List.of(), created(plan(w)));
        assertEquals(List.of(), events(plan(w)));
    }

    // upstream: "should report phase name and progress" (NOT owned / owned by data volume)
    @ParameterizedTest(name = "owned by a DataVolume: {0}")
    @org.junit.jupiter.params.provider.ValueSource(booleans = {false, true})
    void progressReachesTheClaimAndTheVolumeCopy(boolean ownedByDataVolume) {
        World w = World.fresh().prepared().withTask(TaskStatus.Phase.Running, 452, 1000);
        if (ownedByDataVolume)
            w.target
                    .getMetadata()
                    .setOwnerReferences(List.of(new OwnerReferenceBuilder()
                            .withKind("DataVolume")
                            .withName("dv")
                            .build()));
        List<Action> actions = plan(w);
        Map<String, String> annotations = annotations(actions);
        assertEquals("45.20%", annotations.get(Keys.POPULATOR_PROGRESS));
        assertEquals(
                "HostClone",
                annotations.getOrDefault(
                        Keys.CLONE_PHASE,
                        w.target.getMetadata().getAnnotations().get(Keys.CLONE_PHASE)));
        if (ownedByDataVolume) {
            assertEquals("true", annotations.get(Keys.RUNNING));
            assertEquals("Populator is running", annotations.get(Keys.RUNNING_REASON));
        } else {
            assertFalse(annotations.containsKey(Keys.RUNNING), "CDI writes the running condition only for DataVolumes");
        }
        VolumeCopy.Status status = status(actions);
        assertEquals(
                List.of("CloneInProgress", "45.20%", "452", "1000"),
                List.of(
                        status.phase(),
                        status.progress(),
                        String.valueOf(status.bytesDone()),
                        String.valueOf(status.bytesTotal())));
        assertEquals(
                List.of("CloneInProgress: Cloning from alice/win11 into alice/disk0 in progress"), events(actions));
    }

    @Test
    void aResumedAttemptIsAnnounced() {
        World w = World.fresh().prepared().withTask(TaskStatus.Phase.Running, 600, 1L << 30);
        var ts = w.task.status();
        w.task = new CopyTaskResource(
                w.task.apiVersion(),
                w.task.kind(),
                w.task.metadata(),
                w.task.spec(),
                new TaskStatus(
                        ts.phase(),
                        ts.node(),
                        3,
                        40L << 30,
                        13L << 30,
                        0,
                        0,
                        25L << 29,
                        null,
                        null,
                        null,
                        null,
                        ts.startTime(),
                        null));
        assertEquals(
                List.of(
                        "CopyResumed: resumed at 12.5GiB of 40.0GiB (attempt 3)",
                        "CloneInProgress: Cloning from alice/win11 into alice/disk0 in progress"),
                events(plan(w)));
    }

    @Test
    void aFailedTaskFailsTheCopyWithCdisError() {
        World w = World.fresh().prepared().withTask(TaskStatus.Phase.Failed, 10, 100);
        w.task = new CopyTaskResource(
                w.task.apiVersion(),
                w.task.kind(),
                w.task.metadata(),
                w.task.spec(),
                w.task.status().withMessage("no space left on device"));
        List<Action> actions = plan(w);
        assertEquals(
                Map.of(Keys.CLONE_PHASE, "Error", Keys.CLONE_ERROR, "no space left on device"), annotations(actions));
        assertEquals(List.of("CloneFailed: Cloning from alice/win11 into alice/disk0 failed"), events(actions));
        assertEquals("Failed", status(actions).phase());
    }

    @Test
    void rebindWaitsForTheTargetHolderToGoThenMovesTheClaimRefWithThePolicyAtRetain() {
        World w = World.fresh().prepared().withTask(TaskStatus.Phase.Succeeded, 1000, 1000);
        List<Action> first = plan(w);
        assertEquals(List.of("Pod lockkeeper/lk-dst-" + World.TARGET_UID), deleted(first));
        assertTrue(first.stream().noneMatch(a -> a instanceof Action.PatchVolume), "kubelet must unmount first");
        assertEquals("Rebind", annotations(first).get(Keys.CLONE_PHASE));
        assertEquals("RebindInProgress", status(first).phase());

        w.targetHolder = null;
        Action.PatchVolume patch = volumePatch(plan(w));
        assertEquals("pv-prime", patch.name());
        assertEquals("Retain", patch.reclaimPolicy());
        assertEquals(
                Map.of(Keys.RECLAIM_POLICY, "Delete", Keys.POPULATED_FROM, "alice/win11-copy"), patch.annotations());
        assertEquals(
                List.of("alice", "disk0", World.TARGET_UID, "7"),
                List.of(
                        patch.claimRef().getNamespace(),
                        patch.claimRef().getName(),
                        patch.claimRef().getUid(),
                        patch.claimRef().getResourceVersion()));

        // restarted after the patch: the claimRef points at the target already, nothing more to do but wait
        w.volume.getSpec().getClaimRef().setUid(World.TARGET_UID);
        w.volume.getMetadata().setAnnotations(Map.of(Keys.RECLAIM_POLICY, "Delete"));
        w.volume.getSpec().setPersistentVolumeReclaimPolicy("Retain");
        assertTrue(plan(w).stream().noneMatch(a -> a instanceof Action.PatchVolume));
    }

    @Test
    void boundTargetRestoresThePolicyThenSucceedsThenCleansUpAndReleasesTheFinalizer() {
        World w = World.fresh().prepared().withTask(TaskStatus.Phase.Succeeded, 1000, 1000);
        w.targetHolder = null;
        w.volume.getSpec().getClaimRef().setUid(World.TARGET_UID);
        w.volume.getMetadata().setAnnotations(new java.util.HashMap<>(Map.of(Keys.RECLAIM_POLICY, "Delete")));
        w.volume.getSpec().setPersistentVolumeReclaimPolicy("Retain");
        w.target.getSpec().setVolumeName("pv-prime");
        w.target.setStatus(
                new PersistentVolumeClaimStatusBuilder().withPhase("Bound").build());
        List<Action> finish = plan(w);
        Action.PatchVolume restore = volumePatch(finish);
        assertEquals("Delete", restore.reclaimPolicy());
        assertTrue(restore.annotations().containsKey(Keys.RECLAIM_POLICY)
                && restore.annotations().get(Keys.RECLAIM_POLICY) == null);
        Map<String, String> annotations = annotations(finish);
        assertEquals("Succeeded", annotations.get(Keys.CLONE_PHASE));
        assertEquals("true", annotations.get(Keys.CLONE_OF));
        assertEquals("100.00%", annotations.get(Keys.POPULATOR_PROGRESS));
        assertEquals(List.of("CloneSucceeded: Successfully cloned from alice/win11 into alice/disk0"), events(finish));
        assertEquals("Succeeded", status(finish).phase());
        assertTrue(finish.indexOf(restore)
                < finish.indexOf(finish.stream()
                        .filter(a -> a instanceof Action.UpdateCopyStatus)
                        .findFirst()
                        .orElseThrow()));

        // next pass: the claim says Succeeded
        w.annotate(Keys.CLONE_PHASE, "Succeeded");
        w.volume.getMetadata().setAnnotations(Map.of());
        List<Action> done = plan(w);
        // upstream: "should remove finalizer and call cleanup when succeeded"
        assertEquals(Boolean.FALSE, finalizer(done));
        assertEquals(
                List.of(
                        "Pod alice/lk-src-" + World.SOURCE_UID,
                        "CopyTask lockkeeper/" + World.TARGET_UID,
                        "PersistentVolumeClaim lockkeeper/prime-" + World.TARGET_UID),
                deleted(done));
        assertReleasedLast(done);
    }

    @Test
    void theSharedSourceHolderStaysWhileAnotherCopyUsesIt() {
        World w = World.fresh().prepared().withTask(TaskStatus.Phase.Succeeded, 1, 1);
        w.annotate(Keys.CLONE_PHASE, "Succeeded");
        w.otherTargets.add("77777777-7777-4777-8777-777777777777");
        assertFalse(deleted(plan(w)).contains("Pod alice/lk-src-" + World.SOURCE_UID));
    }

    // upstream: "should skip cleanup for cross namespace host-assisted clone with pod retain annotation"
    @Test
    void retainAfterCompletionKeepsThePrimeAndTask() {
        World w = World.fresh().prepared().withTask(TaskStatus.Phase.Succeeded, 1, 1);
        w.annotate(Keys.CLONE_PHASE, "Succeeded").annotate(Keys.POD_RETAIN_AFTER_COMPLETION, "true");
        w.copyStatus("Succeeded", true);
        w.targetHolder = null;
        List<Action> done = plan(w);
        assertEquals(
                List.of("RetainedPVCPrime: PVC Prime retained in Lost state for debugging purposes"), events(done));
        assertEquals(List.of("Pod alice/lk-src-" + World.SOURCE_UID), deleted(done));
        assertEquals(Boolean.FALSE, finalizer(done));
    }

    @Test
    void deletingTheClaimMidCopyCancelsTheTaskFirstThenCleansUp() {
        World w = World.fresh().prepared().withTask(TaskStatus.Phase.Running, 5, 100);
        w.target.getMetadata().setDeletionTimestamp("2026-12-02T18:01:00Z");
        List<Action> first = plan(w);
        assertEquals(List.of(new Action.CancelTask("lockkeeper", World.TARGET_UID)), first);

        w.task = new CopyTaskResource(
                w.task.apiVersion(),
                w.task.kind(),
                w.task.metadata(),
                w.task.spec().withCancel(),
                w.task.status());
        assertEquals(List.of(), plan(w), "wait for the agents to stop");

        w.task = new CopyTaskResource(
                w.task.apiVersion(),
                w.task.kind(),
                w.task.metadata(),
                w.task.spec(),
                w.task.status().withPhase(TaskStatus.Phase.Canceled, "canceled"));
        List<Action> cleanup = plan(w);
        assertEquals(
                List.of(
                        "Pod lockkeeper/lk-dst-" + World.TARGET_UID,
                        "Pod alice/lk-src-" + World.SOURCE_UID,
                        "CopyTask lockkeeper/" + World.TARGET_UID,
                        "PersistentVolumeClaim lockkeeper/prime-" + World.TARGET_UID),
                deleted(cleanup));
        assertEquals(Boolean.FALSE, finalizer(cleanup));
        assertReleasedLast(cleanup);
    }

    @Test
    void deletingTheVolumeCopyCleansUpAndLeavesTheClaimPending() {
        World w = World.fresh().prepared().withTask(TaskStatus.Phase.Queued, 0, 0);
        w.copy = null;
        List<Action> actions = plan(w);
        assertEquals(4, deleted(actions).size(), actions.toString());
        assertEquals(Boolean.FALSE, finalizer(actions));
        assertEquals("Pending", annotations(actions).get(Keys.CLONE_PHASE));
        assertReleasedLast(actions);
    }

    @Test
    void cancelMidRebindRestoresTheReclaimPolicy() {
        World w = World.fresh().prepared().withTask(TaskStatus.Phase.Succeeded, 1, 1);
        w.target.getMetadata().setDeletionTimestamp("2026-12-02T18:01:00Z");
        w.volume.getMetadata().setAnnotations(Map.of(Keys.RECLAIM_POLICY, "Delete"));
        w.volume.getSpec().setPersistentVolumeReclaimPolicy("Retain");
        assertEquals("Delete", volumePatch(plan(w)).reclaimPolicy());
    }

    @Test
    void anUnchangedPassWritesNothing() {
        World w = World.fresh().prepared().withTask(TaskStatus.Phase.Running, 452, 1000);
        List<Action> first = plan(w);
        w.annotate(Keys.POPULATOR_PROGRESS, "45.20%");
        w.copy = new VolumeCopy(w.copy.apiVersion(), w.copy.kind(), w.copy.metadata(), w.copy.spec(), status(first));
        assertEquals(List.of(), plan(w));
    }

    @Test
    void longNodeNamesBecomeHashedLabelValues() {
        assertEquals("node-a", Names.nodeLabel("node-a"));
        String longName = "n".repeat(70) + ".example.com";
        assertTrue(Names.nodeLabel(longName).matches("h-[0-9a-f]{40}"));
        assertNotEquals(Names.nodeLabel(longName), Names.nodeLabel(longName + "x"));
    }
}
