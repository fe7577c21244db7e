package dev.lockkeeper.controller.shell;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.lockkeeper.certs.KeyPairs;
import dev.lockkeeper.certs.token.CloneTokenClaims;
import dev.lockkeeper.certs.token.CloneTokenClaims.TokenResource;
import dev.lockkeeper.certs.token.CloneTokenSigner;
import dev.lockkeeper.controller.api.Keys;
import dev.lockkeeper.controller.api.VolumeCopy;
import dev.lockkeeper.controller.plan.Action;
import dev.lockkeeper.controller.plan.CloneTokenCheck;
import dev.lockkeeper.controller.plan.Names;
import dev.lockkeeper.controller.plan.Settings;
import dev.lockkeeper.controller.testing.Await;
import dev.lockkeeper.controller.testing.MockCluster;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The controller killed right after each action it applies, then replaced by a fresh one: issue 11's "killed at each
 * step and restarted (no leak, no double copy, the PV's reclaim policy restored)". A copy is first run uninterrupted,
 * recording the N actions its controller applies; then, for each k in 1..N, a fresh copy of the same shape runs under a
 * controller whose applier stops dead after its k-th action (its one worker thread parks there, so nothing more is
 * applied: an exact crash point, not a timing), that controller is closed without any cleanup, and a new one must
 * finish the copy having made each object once.
 *
 * <p>Two shapes: a cross-namespace copy (clone token, source holder in the source's namespace) on an Immediate class,
 * and a same-namespace copy on a WaitForFirstConsumer class whose consumer the scheduler put on the other node (so the
 * task streams between agents).
 */
class ControllerKilledAtEachStepTest {
    static final String INSTALLATION = Settings.DEFAULT.namespace();
    static final String DIGEST = "crc32c-4MiB+sha256:" + "ab".repeat(32);
    static KubernetesMockServer server;
    static KubernetesClient client;
    static Simulators simulators;
    static KeyPair webhookKeys;
    static CloneTokenCheck tokenCheck;
    /** What the uninterrupted copy of each shape applied, in order (described without the per-run UIDs). */
    static final Map<Shape, List<String>> baseline = new java.util.EnumMap<>(Shape.class);

    CopyController controller;

    enum Shape {
        CROSS_NAMESPACE("fast", null),
        WAIT_FOR_FIRST_CONSUMER("local", "node-b");

        final String storageClass;
        /** The node the scheduler picked for the target's consumer (WaitForFirstConsumer only). */
        final String selectedNode;

        Shape(String storageClass, String selectedNode) {
            this.storageClass = storageClass;
            this.selectedNode = selectedNode;
        }
    }

    /** One copy's objects: its namespaces and the UIDs the controller names everything after. */
    record Copy(Shape shape, String sourceNamespace, String namespace, String sourceUid, String targetUid) {}

    @BeforeAll
    static void cluster() throws Exception {
        server = MockCluster.startCrud();
        client = server.createClient();
        MockCluster.installCopyBasics(client);
        simulators = new Simulators(client);
        AgentPods.create(client, INSTALLATION, "node-a", "10.244.1.7");
        AgentPods.create(client, INSTALLATION, "node-b", "10.244.2.9");
        webhookKeys = KeyPairs.newEd25519();
        tokenCheck = new CloneTokenCheck(webhookKeys.getPublic());
        for (Shape shape : Shape.values()) {
            List<Action> applied = new CopyOnWriteArrayList<>();
            Copy copy = startCopy(shape, "base");
            try (CopyController uninterrupted = controller(applied::add)) {
                uninterrupted.start();
                assertCopied(copy);
            }
            List<String> described =
                    applied.stream().map(a -> describe(a, copy)).toList();
            baseline.put(shape, described);
            System.out.printf(
                    "%s: the uninterrupted copy applied %d actions:%n  %s%n",
                    shape, described.size(), String.join("\n  ", described));
            removeCopy(copy);
        }
    }

    @AfterAll
    static void stop() throws Exception {
        simulators.close();
        client.close();
        MockCluster.destroy(server);
    }

    @AfterEach
    void stopController() {
        if (controller != null) controller.close();
        assertNull(simulators.failure, () -> "a simulator failed: " + simulators.failure);
    }

    static Stream<Named<String>> crossNamespaceSteps() {
        return steps(Shape.CROSS_NAMESPACE);
    }

    static Stream<Named<String>> waitForFirstConsumerSteps() {
        return steps(Shape.WAIT_FOR_FIRST_CONSUMER);
    }

    /**
     * Each distinct action of the uninterrupted copy, in the order it first came: a run's exact sequence varies with
     * timing (a status written once more while a pod starts, an event repeated), the steps it takes do not.
     */
    static Stream<Named<String>> steps(Shape shape) {
        List<String> actions = baseline.get(shape);
        List<String> distinct = actions.stream().distinct().toList();
        return distinct.stream()
                .map(step -> Named.of(
                        "killed after action %d of %d: %s".formatted(actions.indexOf(step) + 1, actions.size(), step),
                        step));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("crossNamespaceSteps")
    void aCrossNamespaceCopyFinishesOnceAfterACrash(String step) throws Exception {
        killAfterAndRestart(Shape.CROSS_NAMESPACE, step);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("waitForFirstConsumerSteps")
    void aWaitForFirstConsumerCopyFinishesOnceAfterACrash(String step) throws Exception {
        killAfterAndRestart(Shape.WAIT_FOR_FIRST_CONSUMER, step);
    }

    void killAfterAndRestart(Shape shape, String step) throws Exception {
        Copy copy = startCopy(shape, shape.ordinal() + "s" + Integer.toHexString(step.hashCode() & 0xffffff));
        try {
            KilledAfter killer =
                    new KilledAfter(action -> describe(action, copy).equals(step));
            controller = controller(killer);
            controller.start();
            await(
                    () -> "the controller to apply " + step + "; it applied "
                            + killer.applied.stream()
                                    .map(a -> describe(a, copy))
                                    .toList(),
                    () -> killer.dead.getCount() == 0 || finished(copy));
            // timing made this run skip the step (a phase the controller did not see): nothing to kill it after
            assumeTrue(killer.dead.getCount() == 0, () -> "this run never applied " + step);
            controller.close();
            controller = null;
            assertEquals(step, describe(killer.applied.getLast(), copy), "nothing applied after the crash point");
            controller = controller(action -> {});
            controller.start();
            assertCopied(copy);
            assertMadeOnce(copy, step);
        } finally {
            if (controller != null) controller.close();
            controller = null;
            removeCopy(copy);
        }
    }

    /**
     * An applier that dies right after the first action {@code crashPoint} accepts: the worker thread parks there, as
     * a killed process applies nothing more, until {@link CopyController#close()} interrupts it; it then ends the pass
     * with an Error, which the worker's retry (RuntimeExceptions only) does not catch.
     */
    static final class KilledAfter implements Consumer<Action> {
        final java.util.function.Predicate<Action> crashPoint;
        final List<Action> applied = new CopyOnWriteArrayList<>();
        final CountDownLatch dead = new CountDownLatch(1);

        KilledAfter(java.util.function.Predicate<Action> crashPoint) {
            this.crashPoint = crashPoint;
        }

        @Override
        public void accept(Action action) {
            applied.add(action);
            if (!crashPoint.test(action)) return;
            dead.countDown();
            try {
                new CountDownLatch(1).await(); // until close() interrupts the worker
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            throw new Killed();
        }
    }

    static final class Killed extends Error {
        Killed() {
            super("the controller was killed", null, false, false);
        }
    }

    static CopyController controller(Consumer<Action> applied) {
        return new CopyController(
                client, Settings.DEFAULT, tokenCheck, Clock.systemUTC(), Duration.ofSeconds(2), applied);
    }

    /** The source (bound), the VolumeCopy and the target of one copy of {@code shape}, before any controller runs. */
    static Copy startCopy(Shape shape, String tag) {
        String namespace = "alice-" + tag;
        String sourceNamespace = shape == Shape.CROSS_NAMESPACE ? "golden-" + tag : namespace;
        client.resource(claim(sourceNamespace, "win11", "fast", Map.of()).build())
                .create();
        await("source bound", () -> bound(sourceNamespace, "win11"));
        String sourceUid = client.persistentVolumeClaims()
                .inNamespace(sourceNamespace)
                .withName("win11")
                .get()
                .getMetadata()
                .getUid();
        var copy = new GenericKubernetesResource();
        copy.setApiVersion(Keys.API_VERSION);
        copy.setKind(VolumeCopy.KIND);
        copy.setMetadata(new ObjectMetaBuilder()
                .withName("win11-copy")
                .withNamespace(namespace)
                .withAnnotations(
                        shape == Shape.CROSS_NAMESPACE
                                ? Map.of(
                                        Keys.CLONE_TOKEN,
                                        new CloneTokenSigner(webhookKeys.getPrivate(), Clock.systemUTC())
                                                .sign(CloneTokenClaims.clone(
                                                        TokenResource.PERSISTENT_VOLUME_CLAIMS,
                                                        sourceNamespace,
                                                        "win11",
                                                        namespace,
                                                        "win11-copy")))
                                : Map.of())
                .build());
        copy.setAdditionalProperty(
                "spec", Map.of("source", Map.of("pvc", Map.of("namespace", sourceNamespace, "name", "win11"))));
        client.genericKubernetesResources(Resources.VOLUME_COPIES)
                .inNamespace(namespace)
                .resource(copy)
                .create();
        Map<String, String> annotations =
                shape.selectedNode == null ? Map.of() : Map.of(Keys.SELECTED_NODE, shape.selectedNode);
        String targetUid = client.resource(claim(namespace, "disk0", shape.storageClass, annotations)
                        .editSpec()
                        .withNewDataSourceRef()
                        .withApiGroup(Keys.GROUP)
                        .withKind(VolumeCopy.KIND)
                        .withName("win11-copy")
                        .endDataSourceRef()
                        .endSpec()
                        .build())
                .create()
                .getMetadata()
                .getUid();
        return new Copy(shape, sourceNamespace, namespace, sourceUid, targetUid);
    }

    static PersistentVolumeClaimBuilder claim(
            String namespace, String name, String storageClass, Map<String, String> annotations) {
        return new PersistentVolumeClaimBuilder()
                .withNewMetadata()
                .withName(name)
                .withNamespace(namespace)
                .withAnnotations(annotations)
                .endMetadata()
                .withNewSpec()
                .withAccessModes("ReadWriteOnce")
                .withStorageClassName(storageClass)
                .withNewResources()
                .addToRequests("storage", new Quantity("1Gi"))
                .endResources()
                .endSpec();
    }

    /** Removes a finished copy's user objects (the simulated provisioner deletes their PVs), so the cluster stays small. */
    static void removeCopy(Copy copy) {
        client.persistentVolumeClaims()
                .inNamespace(copy.namespace())
                .withName("disk0")
                .delete();
        client.genericKubernetesResources(Resources.VOLUME_COPIES)
                .inNamespace(copy.namespace())
                .withName("win11-copy")
                .delete();
        client.persistentVolumeClaims()
                .inNamespace(copy.sourceNamespace())
                .withName("win11")
                .delete();
    }

    /**
     * The copy finished as an uninterrupted one does: the target Bound to the prime's PV with CDI's annotations, the
     * PV's reclaim policy back at Delete, the data's digest in the VolumeCopy's status, the finalizer released, and
     * nothing the copy made left behind.
     */
    static void assertCopied(Copy copy) {
        await(
                () -> "the copy succeeded; target " + target(copy).getMetadata() + " "
                        + target(copy).getStatus(),
                () -> {
                    PersistentVolumeClaim target = target(copy);
                    return bound(copy.namespace(), "disk0")
                            && target.getMetadata().getAnnotations() != null
                            && "Succeeded"
                                    .equals(target.getMetadata()
                                            .getAnnotations()
                                            .get(Keys.CLONE_PHASE))
                            && !target.getMetadata().getFinalizers().contains(Keys.FINALIZER);
                });
        PersistentVolumeClaim target = target(copy);
        Map<String, String> annotations = target.getMetadata().getAnnotations();
        assertEquals(
                List.of("copy", "true", "100.00%"),
                List.of(
                        annotations.get(Keys.CLONE_TYPE),
                        annotations.get(Keys.CLONE_OF),
                        annotations.get(Keys.POPULATOR_PROGRESS)),
                "CDI's cloneType, CloneOf and progress annotations");
        assertFalse(annotations.containsKey(Keys.CLONE_ERROR), () -> "no cloneError: " + annotations);
        assertEquals(List.of(), target.getMetadata().getFinalizers(), "no finalizer left on the target");
        PersistentVolume pv = client.persistentVolumes()
                .withName(target.getSpec().getVolumeName())
                .get();
        assertEquals(copy.targetUid(), pv.getSpec().getClaimRef().getUid(), "the PV is the target's");
        assertEquals("Delete", pv.getSpec().getPersistentVolumeReclaimPolicy(), "the reclaim policy is restored");
        assertFalse(
                pv.getMetadata().getAnnotations().containsKey(Keys.RECLAIM_POLICY),
                "no saved reclaim policy left on the PV");
        VolumeCopy status = volumeCopy(copy);
        assertEquals("Succeeded", status.status().phase());
        assertEquals("disk0", status.status().claimRef().name());
        assertEquals(DIGEST, status.status().digest(), "the data's digest, as the agent reported it");
        assertTrue(status.status().condition("Ready").orElseThrow().isTrue());
        await(
                () -> "CDI's events; there are " + eventReasons(copy),
                () -> eventReasons(copy).containsAll(List.of("CloneScheduled", "CloneSucceeded", "CopyVerified")));
        await(
                () -> "holders, prime and task removed; left: " + left(copy),
                () -> left(copy).isEmpty());
    }

    /** Each object the copy needs was created once: a crash never made a second task, prime or holder. */
    static void assertMadeOnce(Copy copy, String crashPoint) {
        List<String> made = List.of(
                "CopyTask " + INSTALLATION + "/" + Names.task(copy.targetUid()),
                "PersistentVolumeClaim " + INSTALLATION + "/" + Names.prime(copy.targetUid()),
                "Pod " + INSTALLATION + "/" + Names.targetHolder(copy.targetUid()),
                "Pod " + copy.sourceNamespace() + "/" + Names.sourceHolder(copy.sourceUid()));
        List<String> ofThisCopy = simulators.created.stream()
                .filter(c -> c.contains(copy.targetUid()) || c.contains(copy.sourceUid()))
                .sorted()
                .toList();
        assertEquals(
                made.stream().sorted().toList(),
                ofThisCopy,
                () -> "each object made once, after a crash following " + crashPoint);
    }

    static List<String> left(Copy copy) {
        return Simulators.copyObjectsLeft(client, copy.sourceNamespace(), copy.targetUid());
    }

    /** An action as a line of the report, with the copy's UIDs replaced by what they name. */
    static String describe(Action action, Copy copy) {
        String text = switch (action) {
            case Action.Create create ->
                "create " + create.object().getKind() + " "
                        + create.object().getMetadata().getNamespace() + "/"
                        + create.object().getMetadata().getName();
            case Action.Delete delete -> "delete " + delete.kind() + " " + delete.namespace() + "/" + delete.name();
            case Action.PatchTarget patch ->
                "patch target " + patch.annotations().keySet()
                        + (patch.finalizer() == null ? "" : " finalizer " + patch.finalizer());
            case Action.UpdateCopyStatus update ->
                "VolumeCopy status " + update.status().phase();
            case Action.PatchVolume patch ->
                "patch PV" + (patch.reclaimPolicy() == null ? "" : " reclaim " + patch.reclaimPolicy())
                        + (patch.claimRef() == null
                                ? ""
                                : " claimRef " + patch.claimRef().getName())
                        + " " + patch.annotations().keySet();
            case Action.CancelTask cancel -> "cancel task";
            case Action.Emit emit -> "event " + emit.reason();
        };
        return text.replace(copy.targetUid(), "<target>")
                .replace(copy.sourceUid(), "<source>")
                .replace(copy.namespace(), "<ns>")
                .replace(copy.sourceNamespace(), "<source-ns>");
    }

    static List<String> eventReasons(Copy copy) {
        return client.v1().events().inNamespace(copy.namespace()).list().getItems().stream()
                .map(e -> e.getReason())
                .toList();
    }

    static boolean finished(Copy copy) {
        PersistentVolumeClaim target = target(copy);
        return bound(copy.namespace(), "disk0")
                && target.getMetadata().getAnnotations() != null
                && "Succeeded".equals(target.getMetadata().getAnnotations().get(Keys.CLONE_PHASE))
                && !target.getMetadata().getFinalizers().contains(Keys.FINALIZER);
    }

    static PersistentVolumeClaim target(Copy copy) {
        return client.persistentVolumeClaims()
                .inNamespace(copy.namespace())
                .withName("disk0")
                .get();
    }

    static VolumeCopy volumeCopy(Copy copy) {
        return dev.lockkeeper.controller.api.Json.volumeCopy(client.genericKubernetesResources(Resources.VOLUME_COPIES)
                .inNamespace(copy.namespace())
                .withName("win11-copy")
                .get());
    }

    static boolean bound(String namespace, String name) {
        var claim = client.persistentVolumeClaims()
                .inNamespace(namespace)
                .withName(name)
                .get();
        return claim != null
                && claim.getStatus() != null
                && "Bound".equals(claim.getStatus().getPhase());
    }

    static void await(String what, BooleanSupplier condition) {
        await(() -> what, condition);
    }

    static void await(Supplier<String> what, BooleanSupplier condition) {
        Await.until(Duration.ofSeconds(30), Duration.ofMillis(25), what, condition);
    }
}
