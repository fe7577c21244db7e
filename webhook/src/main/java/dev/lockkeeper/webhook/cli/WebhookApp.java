package dev.lockkeeper.webhook.cli;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.lockkeeper.certs.CertificateDirectory;
import dev.lockkeeper.certs.Pem;
import dev.lockkeeper.certs.ServingIdentity;
import dev.lockkeeper.certs.token.CloneTokenSigner;
import dev.lockkeeper.certs.token.TokenKeyFiles;
import dev.lockkeeper.webhook.admission.AdmissionService;
import dev.lockkeeper.webhook.cluster.ClusterView;
import dev.lockkeeper.webhook.cluster.ManifestException;
import dev.lockkeeper.webhook.cluster.live.CaBundleInjector;
import dev.lockkeeper.webhook.cluster.live.CertificateSecret;
import dev.lockkeeper.webhook.cluster.live.InformerClusterView;
import dev.lockkeeper.webhook.cluster.live.SarSettings;
import dev.lockkeeper.webhook.cluster.live.SecretTokenKey;
import dev.lockkeeper.webhook.http.AdmissionServer;
import dev.lockkeeper.webhook.http.ServerSettings;
import dev.lockkeeper.webhook.metrics.AdmissionMetrics;
import dev.lockkeeper.webhook.policy.PolicyException;
import dev.lockkeeper.webhook.policy.PolicySource;
import dev.lockkeeper.webhook.rules.Rulebook;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The running webhook: builds the cluster view, certificates, rules and HTTPS server from a
 * {@link WebhookConfig}, and owns their shutdown. Whatever was started is closed in reverse order,
 * on a failed start as on {@link #close()}; closing drains the server first (readiness off, no new
 * connections, in-flight reviews answered, at most {@code shutdownGrace}).
 */
final class WebhookApp implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(WebhookApp.class);

    /** A start that cannot go on; {@code exitCode} 2 for bad configuration, 1 for a failure of the environment. */
    static final class StartFailure extends Exception {
        final int exitCode;

        StartFailure(int exitCode, String message) {
            super(message);
            this.exitCode = exitCode;
        }
    }

    private final WebhookConfig config;
    private final Deque<AutoCloseable> started = new ArrayDeque<>();
    private AdmissionServer server;

    private WebhookApp(WebhookConfig config) {
        this.config = config;
    }

    static WebhookApp start(WebhookConfig config, PrintWriter out) throws StartFailure {
        WebhookApp app = new WebhookApp(config);
        try {
            app.startAll(out);
            return app;
        } catch (StartFailure | RuntimeException e) {
            app.close();
            throw e;
        }
    }

    int port() {
        return server.actualPort();
    }

    private void startAll(PrintWriter out) throws StartFailure {
        long startedAt = System.nanoTime();
        PolicySource policy;
        try {
            policy = Rulebook.policy(config.policyFile());
        } catch (PolicyException e) {
            throw new StartFailure(2, e.getMessage());
        }
        boolean liveMode = config.liveMode();
        if (config.caSecret() != null && !liveMode)
            throw new StartFailure(2, "--ca-secret needs live mode (a cluster to keep the Secret in)");
        KubernetesClient client = null;
        ClusterView view;
        KeyPair tokenKeys;
        try {
            if (liveMode) {
                client = new KubernetesClientBuilder().build();
                started.push(client);
                InformerClusterView informers = new InformerClusterView(
                        client,
                        Rulebook.WATCHED,
                        new SarSettings(config.sarCacheTtl(), config.sarCacheSize(), config.sarTimeout()),
                        Ticker.systemTicker(),
                        config.unservedRetry());
                started.push(informers);
                view = informers.start();
                tokenKeys = SecretTokenKey.loadOrCreate(client, config.serviceNamespace(), config.tokenSecret());
                out.println("cluster: live (" + client.getMasterUrl() + ")");
            } else {
                view = ClusterSource.embedded(config.cluster());
                Path keyFile = config.tokenKey() != null
                        ? config.tokenKey()
                        : config.certDir().resolve("clone-token.key");
                tokenKeys = TokenKeyFiles.loadOrGenerate(keyFile);
                out.println("cluster: embedded ("
                        + (config.cluster() == null
                                ? "bundled example cluster"
                                : config.cluster().toAbsolutePath()) + ")");
                out.println("clone token public key: "
                        + TokenKeyFiles.publicKeyFile(keyFile).toAbsolutePath());
            }
        } catch (ManifestException e) {
            throw new StartFailure(2, e.getMessage());
        } catch (KubernetesClientException | IOException e) {
            throw new StartFailure(1, "cannot reach the cluster or the clone-token key: " + e.getMessage());
        }

        ScheduledExecutorService reloads =
                Executors.newSingleThreadScheduledExecutor(Thread.ofVirtual().factory());
        started.push(reloads::shutdownNow);
        Path certificate = config.tlsCert(), key = config.tlsKey();
        ServingIdentity identity = new ServingIdentity(config.serviceName(), config.serviceNamespace());
        if (config.caSecret() != null) {
            var certs = new CertificateDirectory(config.certDir(), Clock.systemUTC());
            var stored = new CertificateSecret(client, config.serviceNamespace(), config.caSecret(), certs, identity);
            var injector = new CaBundleInjector(
                    client, config.webhookConfigurations(), config.serviceName(), config.serviceNamespace());
            try {
                int injected = injector.inject(stored.sync());
                out.println("certificates from Secret " + config.serviceNamespace() + "/" + config.caSecret()
                        + "; caBundle injected into " + injected + " webhook(s)");
            } catch (IOException | KubernetesClientException e) {
                throw new StartFailure(
                        1,
                        "cannot prepare certificates from Secret " + config.serviceNamespace() + "/" + config.caSecret()
                                + ": " + e.getMessage());
            }
            long every = config.caSyncInterval().toMillis();
            reloads.scheduleWithFixedDelay(
                    () -> {
                        try {
                            injector.inject(stored.sync());
                        } catch (IOException | RuntimeException e) {
                            LOG.warn(
                                    "certificate sync failed, retried in {}s: {}",
                                    config.caSyncInterval().toSeconds(),
                                    e.getMessage());
                        }
                    },
                    every,
                    every,
                    TimeUnit.MILLISECONDS);
            certificate = certs.certificate();
            key = certs.privateKey();
        } else if (certificate == null) {
            var certs = new CertificateDirectory(config.certDir(), Clock.systemUTC());
            try {
                var outcome = certs.ensure(identity);
                out.println("certificates " + outcome.name().toLowerCase().replace('_', ' ') + "; CA certificate: "
                        + certs.caCertificate().toAbsolutePath());
            } catch (IOException e) {
                throw new StartFailure(2, "cannot prepare certificates in " + config.certDir() + ": " + e.getMessage());
            }
            certificate = certs.certificate();
            key = certs.privateKey();
        }

        AdmissionMetrics metrics = new AdmissionMetrics();
        AdmissionService admission = Rulebook.service(
                view,
                new CloneTokenSigner(tokenKeys.getPrivate(), Clock.systemUTC()),
                config.cloneSourceRole(),
                config.copyAccounts(),
                metrics,
                policy);
        Vertx vertx = Vertx.vertx();
        started.push(() -> vertx.close().await());
        server = new AdmissionServer(
                vertx,
                new ServerSettings(
                                config.bind(),
                                config.port(),
                                certificate,
                                key,
                                config.certCheckInterval(),
                                config.clientCa())
                        .withCertificateExpiryMargin(config.certExpiryMargin())
                        .withLimits(config.intakeLimits())
                        .withClientCommonNames(config.clientCommonNames()),
                admission,
                metrics,
                view::synced,
                Pem.encodePublicKey(tokenKeys.getPublic()));
        try {
            server.start().await();
        } catch (RuntimeException e) {
            server = null;
            throw new StartFailure(
                    1, "cannot start HTTPS listener on " + config.bind() + ":" + config.port() + ": " + e.getMessage());
        }
        AdmissionServer running = server;
        started.push(() -> running.shutdown(config.shutdownGrace()).await());
        long every = config.certCheckInterval().toMillis();
        reloads.scheduleWithFixedDelay(policy::reload, every, every, TimeUnit.MILLISECONDS);
        out.printf(
                "listening on https://%s:%d (started in %d ms)%n",
                config.bind(), server.actualPort(), (System.nanoTime() - startedAt) / 1_000_000);
        out.flush();
    }

    /** Closes what was started, newest first; each step is attempted whatever the one before did. */
    @Override
    public synchronized void close() {
        while (!started.isEmpty()) {
            try {
                started.pop().close();
            } catch (Exception e) {
                LOG.warn("while stopping: {}", e.toString());
            }
        }
    }
}
