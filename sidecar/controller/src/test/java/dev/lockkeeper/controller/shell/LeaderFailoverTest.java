package dev.lockkeeper.controller.shell;

import static org.junit.jupiter.api.Assertions.*;

import dev.lockkeeper.certs.KeyPairs;
import dev.lockkeeper.controller.api.Json;
import dev.lockkeeper.controller.api.Keys;
import dev.lockkeeper.controller.plan.CloneTokenCheck;
import dev.lockkeeper.controller.plan.Settings;
import dev.lockkeeper.controller.testing.AuthenticatingMockCluster;
import dev.lockkeeper.controller.testing.Await;
import dev.lockkeeper.controller.testing.MockCluster;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Two controller replicas, each a {@link CopyController} under {@link LeaderElected} on its own API connection as
 * {@code ControllerCommand.call} wires them, against one mock API server with the {@link Simulators} around it. The
 * leader dies mid-copy without releasing the Lease: its connection is cut (the process gone, or partitioned from the
 * API server), so it neither renews nor acts again. The follower takes the Lease once it has expired and finishes the
 * copy it finds half done, without making anything twice. A leader cut off from the API server but still running
 * stops its controller once it cannot renew.
 *
 * <p>fabric8's mock CRUD server keeps a Lease like any object and checks {@code resourceVersion} on update, which is
 * all the leader election relies on (fabric8's LeaderElector updates the Lease with the version it read, and a
 * conflict means someone else wrote it first), so the election runs unmodified.
 */
class LeaderFailoverTest {
    static final String NS = "alice", INSTALLATION = Settings.DEFAULT.namespace(), LEASE = "lockkeeper-controller";
    /** Short, but with room for a loaded machine: a renewal every half second, expiry after 5 s unrenewed. */
    static final LeaderElected.Timing TIMING =
            new LeaderElected.Timing(Duration.ofSeconds(5), Duration.ofSeconds(4), Duration.ofMillis(500));

    AuthenticatingMockCluster cluster;
    KubernetesClient admin;
    Simulators simulators;
    final List<Replica> replicas = new ArrayList<>();

    /** One controller process: its own client, election, and how often it started leading. */
    final class Replica implements AutoCloseable {
        final String identity;
        final KubernetesClient client;
        final AtomicInteger timesLeading = new AtomicInteger();
        final CountDownLatch lost = new CountDownLatch(1);
        final LeaderElected election;

        Replica(String identity) {
            this.identity = identity;
            // its own token, so the API server can tell its requests apart (and a partition can cut just them off); few
            // retries of a failing request, so a partitioned leader notices within its renew deadline
            this.client = new KubernetesClientBuilder()
                    .withConfig(new ConfigBuilder(admin.getConfiguration())
                            .withOauthToken(identity)
                            .withRequestRetryBackoffLimit(2)
                            .build())
                    .build();
            CloneTokenCheck tokens = new CloneTokenCheck(KeyPairs.newEd25519().getPublic());
            this.election = new LeaderElected(
                    client,
                    INSTALLATION,
                    LEASE,
                    identity,
                    TIMING,
                    () -> {
                        timesLeading.incrementAndGet();
                        var controller = new CopyController(
                                client, Settings.DEFAULT, tokens, Clock.systemUTC(), Duration.ofSeconds(2));
                        controller.start();
                        return controller;
                    },
                    lost::countDown);
            replicas.add(this);
        }

        /** The process dies: its connection to the API server is gone, the Lease is not released. */
        void kill() {
            client.close();
        }

        @Override
        public void close() {
            election.close();
            client.close();
        }
    }

    @BeforeEach
    void cluster() throws Exception {
        cluster = new AuthenticatingMockCluster();
        admin = MockCluster.patientClient(cluster.server());
        MockCluster.installCopyBasics(admin);
        simulators = new Simulators(admin);
    }

    @AfterEach
    void stop() throws Exception {
        replicas.forEach(Replica::close);
        assertNull(simulators.failure, () -> "a simulator failed: " + simulators.failure);
        simulators.close();
        admin.close();
        MockCluster.destroy(cluster.server());
    }

    /** The leader's process is gone: nothing renews its Lease, nothing acts for it. */
    @Test
    void theFollowerFinishesTheCopyOnceWhenTheLeaderDiesMidCopy() {
        failOverMidCopy(Replica::kill);
    }

    /**
     * The leader is cut off from the API server but keeps running: its renewals fail, so it stops its controller when
     * its renew deadline passes, before the Lease expires and the follower may take it; it never leads again.
     */
    @Test
    void aLeaderCutOffFromTheApiServerStopsAndTheFollowerFinishesTheCopy() throws Exception {
        Replica first = failOverMidCopy(leader -> cluster.cutOff(leader.identity));
        assertTrue(first.lost.await(0, TimeUnit.SECONDS), "the cut-off leader stopped its controller");
        assertFalse(first.election.leading());
    }

    /** Starts two replicas and a copy held mid-way under the first; {@code failure} strikes it; returns the first. */
    Replica failOverMidCopy(Consumer<Replica> failure) {
        Replica first = new Replica("replica-a");
        await("replica-a leads", first.election::leading);
        Replica second = new Replica("replica-b");
        createSource();
        simulators.holdCopies = true;
        createCopyAndTarget();
        String uid = target().getMetadata().getUid();
        await("the copy running under replica-a", () -> "CloneInProgress".equals(copyPhase()));
        assertEquals(1, simulators.creations("CopyTask", INSTALLATION, uid));
        assertEquals("replica-a", holder());
        assertFalse(second.election.leading(), "replica-b follows while replica-a renews");

        failure.accept(first);
        await("replica-b leads", second.election::leading);
        assertEquals("replica-b", holder());
        simulators.holdCopies = false;

        await("target bound", () -> "Bound".equals(phase(target())));
        await(
                "clone succeeded",
                () -> "Succeeded".equals(target().getMetadata().getAnnotations().get(Keys.CLONE_PHASE)));
        await(
                "finalizer released",
                () -> !target().getMetadata().getFinalizers().contains(Keys.FINALIZER));
        assertEquals("Succeeded", copyPhase());
        var pv = admin.persistentVolumes()
                .withName(target().getSpec().getVolumeName())
                .get();
        assertEquals(uid, pv.getSpec().getClaimRef().getUid());
        assertEquals("Delete", pv.getSpec().getPersistentVolumeReclaimPolicy(), "the reclaim policy is restored");
        await(() -> "nothing left; left: " + left(uid), () -> left(uid).isEmpty());
        assertEquals(1, simulators.creations("CopyTask", INSTALLATION, uid), "one CopyTask: " + simulators.history);
        assertEquals(1, simulators.creations("PersistentVolumeClaim", INSTALLATION, "prime-" + uid), "one prime");
        assertEquals(1, first.timesLeading.get(), "replica-a led once");
        assertEquals(1, second.timesLeading.get(), "replica-b led once");
        return first;
    }

    void createSource() {
        admin.resource(new PersistentVolumeClaimBuilder()
                        .withNewMetadata()
                        .withName("win11")
                        .withNamespace(NS)
                        .endMetadata()
                        .withNewSpec()
                        .withAccessModes("ReadWriteOnce")
                        .withStorageClassName("fast")
                        .withNewResources()
                        .addToRequests("storage", new Quantity("1Gi"))
                        .endResources()
                        .endSpec()
                        .build())
                .create();
        await(
                "source bound",
                () -> "Bound"
                        .equals(phase(admin.persistentVolumeClaims()
                                .inNamespace(NS)
                                .withName("win11")
                                .get())));
    }

    void createCopyAndTarget() {
        var copy = new GenericKubernetesResource();
        copy.setApiVersion(Keys.API_VERSION);
        copy.setKind("VolumeCopy");
        copy.setMetadata(
                new ObjectMetaBuilder().withName("win11-copy").withNamespace(NS).build());
        copy.setAdditionalProperty("spec", Map.of("source", Map.of("pvc", Map.of("namespace", NS, "name", "win11"))));
        admin.genericKubernetesResources(Resources.VOLUME_COPIES)
                .inNamespace(NS)
                .resource(copy)
                .create();
        admin.resource(new PersistentVolumeClaimBuilder()
                        .withNewMetadata()
                        .withName("disk0")
                        .withNamespace(NS)
                        .endMetadata()
                        .withNewSpec()
                        .withAccessModes("ReadWriteOnce")
                        .withStorageClassName("fast")
                        .withNewResources()
                        .addToRequests("storage", new Quantity("1Gi"))
                        .endResources()
                        .withNewDataSourceRef()
                        .withApiGroup(Keys.GROUP)
                        .withKind("VolumeCopy")
                        .withName("win11-copy")
                        .endDataSourceRef()
                        .endSpec()
                        .build())
                .create();
    }

    PersistentVolumeClaim target() {
        return admin.persistentVolumeClaims().inNamespace(NS).withName("disk0").get();
    }

    String copyPhase() {
        var copy = Json.volumeCopy(admin.genericKubernetesResources(Resources.VOLUME_COPIES)
                .inNamespace(NS)
                .withName("win11-copy")
                .get());
        return copy.status() == null ? null : copy.status().phase();
    }

    String holder() {
        return admin.leases()
                .inNamespace(INSTALLATION)
                .withName(LEASE)
                .get()
                .getSpec()
                .getHolderIdentity();
    }

    static String phase(PersistentVolumeClaim claim) {
        return claim == null || claim.getStatus() == null
                ? null
                : claim.getStatus().getPhase();
    }

    /** Holders, the prime and the task of the copy, while any is left. */
    List<String> left(String uid) {
        return Simulators.copyObjectsLeft(admin, NS, uid);
    }

    static void await(String what, BooleanSupplier condition) {
        await(() -> what, condition);
    }

    static void await(Supplier<String> what, BooleanSupplier condition) {
        Await.until(Duration.ofSeconds(60), Duration.ofMillis(25), what, condition);
    }
}
