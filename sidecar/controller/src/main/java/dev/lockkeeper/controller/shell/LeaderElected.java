package dev.lockkeeper.controller.shell;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderElectionConfigBuilder;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderElector;
import io.fabric8.kubernetes.client.extended.leaderelection.resourcelock.LeaseLock;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * Runs a controller only while this replica holds the Lease, so two replicas never act at once. When the lease is
 * lost the controller stops before anyone else can be elected (renew deadline below lease duration), and
 * {@code onLost} runs: the command exits, and the Deployment restarts it as a follower.
 */
public final class LeaderElected implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(LeaderElected.class.getName());

    /** @param lease, renew, retry fabric8's (and client-go's) three timings; node-agent.md §3.1 proposes 15 s / 10 s / 2 s */
    public record Timing(Duration lease, Duration renew, Duration retry) {
        public static final Timing DEFAULT =
                new Timing(Duration.ofSeconds(15), Duration.ofSeconds(10), Duration.ofSeconds(2));
    }

    private final CompletableFuture<?> election;
    private volatile AutoCloseable running;

    public LeaderElected(
            KubernetesClient client,
            String namespace,
            String leaseName,
            String identity,
            Timing timing,
            Supplier<AutoCloseable> startController,
            Runnable onLost) {
        LeaderElector elector = client.leaderElector()
                .withConfig(new LeaderElectionConfigBuilder()
                        .withName(leaseName)
                        .withReleaseOnCancel()
                        .withLeaseDuration(timing.lease())
                        .withRenewDeadline(timing.renew())
                        .withRetryPeriod(timing.retry())
                        .withLock(new LeaseLock(namespace, leaseName, identity))
                        .withLeaderCallbacks(new LeaderCallbacks(
                                () -> {
                                    LOG.log(System.Logger.Level.INFO, "{0} leads; starting the controller", identity);
                                    running = startController.get();
                                },
                                () -> {
                                    LOG.log(System.Logger.Level.WARNING, "{0} stopped leading", identity);
                                    stopController();
                                    onLost.run();
                                },
                                leader -> LOG.log(System.Logger.Level.INFO, "leader is {0}", leader)))
                        .build())
                .build();
        election = elector.start();
    }

    private void stopController() {
        AutoCloseable controller = running;
        running = null;
        if (controller == null) return;
        try {
            controller.close();
        } catch (Exception e) {
            LOG.log(System.Logger.Level.WARNING, "stopping the controller: {0}", e.toString());
        }
    }

    public boolean leading() {
        return running != null;
    }

    @Override
    public void close() {
        election.cancel(true);
        stopController();
    }
}
