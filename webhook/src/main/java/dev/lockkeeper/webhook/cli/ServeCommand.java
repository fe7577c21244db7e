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
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** Runs the admission webhook over HTTPS until interrupted. */
@Command(name = "serve", mixinStandardHelpOptions = true, description = "Serve /mutate and /validate over HTTPS.")
final class ServeCommand implements Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger(ServeCommand.class);

    @Spec CommandSpec spec;

    @Option(names = "--port", defaultValue = "${env:LOCKKEEPER_PORT:-8443}", description = "HTTPS port (default: ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--bind", defaultValue = "${env:LOCKKEEPER_BIND:-0.0.0.0}", description = "Listen address (default: ${DEFAULT-VALUE}).")
    String bind;

    @Option(names = "--cluster", paramLabel = "DIR", description = "Embedded mode: cluster state and RBAC from the manifests in DIR.")
    Path cluster;

    @Option(names = "--live", description = "Live mode even when no kubeconfig is found (in-cluster or KUBECONFIG).")
    boolean live;

    @Option(names = "--tls-cert", paramLabel = "FILE", description = "Serving certificate (PEM); reloaded when it changes.")
    Path tlsCert;

    @Option(names = "--tls-key", paramLabel = "FILE", description = "Serving key (PEM); reloaded when it changes.")
    Path tlsKey;

    @Option(names = "--client-ca", paramLabel = "FILE",
            description = "Require /mutate and /validate callers to present a client certificate signed by this CA (PEM).")
    Path clientCa;

    @Option(names = "--client-cn", split = ",", paramLabel = "CN[,CN...]",
            description = "With --client-ca: accept only client certificates whose subject CN is one of these; another certificate "
                    + "from that CA gets 403.")
    List<String> clientCn = List.of();

    @Option(names = "--cert-dir", paramLabel = "DIR", defaultValue = "${env:LOCKKEEPER_CERT_DIR:-.lockkeeper/certs}",
            description = "Without --tls-cert/--tls-key: where ca.crt, tls.crt, tls.key are generated and reused (default: ${DEFAULT-VALUE}).")
    Path certDir;

    @Option(names = "--service-name", defaultValue = "${env:LOCKKEEPER_SERVICE_NAME:-lockkeeper-webhook}",
            description = "Service name in the generated certificate's SANs (default: ${DEFAULT-VALUE}).")
    String serviceName;

    @Option(names = "--service-namespace", defaultValue = "${env:POD_NAMESPACE:-lockkeeper}",
            description = "Own namespace: certificate SANs and the clone-token Secret (default: ${DEFAULT-VALUE}).")
    String serviceNamespace;

    @Option(names = "--token-key", paramLabel = "FILE", description = "Embedded mode: clone-token private key file (default: <cert-dir>/clone-token.key, generated).")
    Path tokenKey;

    @Option(names = "--token-secret", defaultValue = "${env:LOCKKEEPER_TOKEN_SECRET:-lockkeeper-clone-token}",
            description = "Live mode: Secret holding the clone-token key pair, created if missing (default: ${DEFAULT-VALUE}).")
    String tokenSecret;

    @Option(names = "--clone-source-role", defaultValue = Rulebook.DEFAULT_CLONE_SOURCE_ROLE,
            description = "ClusterRole that denial messages tell admins to bind (default: ${DEFAULT-VALUE}).")
    String cloneSourceRole;

    @Option(names = "--policy", paramLabel = "FILE", defaultValue = "${env:LOCKKEEPER_POLICY}",
            description = "Policy file (rule modes, thresholds, excluded namespaces), re-read when it changes; default: every rule denies.")
    Path policyFile;

    @Option(names = "--sar-cache-ttl", defaultValue = "10s", converter = DurationConverter.class,
            description = "How long SubjectAccessReview answers are reused (default: ${DEFAULT-VALUE}).")
    Duration sarCacheTtl;

    @Option(names = "--sar-cache-size", defaultValue = "10000", description = "Most cached SubjectAccessReview answers (default: ${DEFAULT-VALUE}).")
    long sarCacheSize;

    @Option(names = "--sar-timeout", defaultValue = "2s", converter = DurationConverter.class,
            description = "SubjectAccessReview deadline; past it the clone is denied (default: ${DEFAULT-VALUE}).")
    Duration sarTimeout;

    @Option(names = "--unserved-retry", defaultValue = "30s", converter = DurationConverter.class,
            description = "Live mode: how often a watched kind the cluster does not serve (CRD not installed) is asked for again (default: ${DEFAULT-VALUE}).")
    Duration unservedRetry;

    @Option(names = "--ca-secret", paramLabel = "NAME", defaultValue = "${env:LOCKKEEPER_CA_SECRET}",
            description = "Live mode without cert-manager: keep the CA and serving certificate in this Secret (shared by replicas, "
                    + "renewed 30 days before expiry), mirror it into --cert-dir, and inject the CA into the webhook configurations' caBundle.")
    String caSecret;

    @Option(names = "--webhook-configurations", split = ",", paramLabel = "NAME[,NAME...]", defaultValue = "lockkeeper,lockkeeper-restore",
            description = "With --ca-secret: the Mutating-/ValidatingWebhookConfigurations whose webhooks calling this service get the caBundle "
                    + "(default: ${DEFAULT-VALUE}).")
    List<String> webhookConfigurations;

    @Option(names = "--ca-sync-interval", defaultValue = "5m", converter = DurationConverter.class,
            description = "With --ca-secret: how often the Secret, renewal and caBundles are checked again (default: ${DEFAULT-VALUE}).")
    Duration caSyncInterval;

    @Option(names = "--cert-check-interval", defaultValue = "2s", converter = DurationConverter.class,
            description = "How often certificate and policy files are checked for changes (default: ${DEFAULT-VALUE}).")
    Duration certCheckInterval;

    @Option(names = "--cert-expiry-margin", defaultValue = "5m", converter = DurationConverter.class,
            description = "Not ready when the serving certificate in use expires within this and no valid replacement was found "
                    + "(default: ${DEFAULT-VALUE}).")
    Duration certExpiryMargin;

    @Override
    public Integer call() throws Exception {
        long started = System.nanoTime();
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if ((tlsCert == null) != (tlsKey == null)) {
            err.println("serve: --tls-cert and --tls-key go together");
            return 2;
        }
        if (!clientCn.isEmpty() && clientCa == null) {
            err.println("serve: --client-cn pins a subject of certificates from --client-ca; give --client-ca too");
            return 2;
        }
        if (port < 0 || port > 65535) {
            err.println("serve: --port must be 0-65535");
            return 2;
        }
        if (caSecret != null && tlsCert != null) {
            err.println("serve: --ca-secret manages the certificates itself; leave out --tls-cert/--tls-key");
            return 2;
        }
        if (caSecret != null && caSyncInterval.compareTo(Duration.ofSeconds(10)) < 0) {
            err.println("serve: --ca-sync-interval must be at least 10s (each sync reads the Secret and the webhook configurations)");
            return 2;
        }
        if (unservedRetry.compareTo(Duration.ofSeconds(1)) < 0) {
            err.println("serve: --unserved-retry must be at least 1s (each retry lists the missing kind from the API server)");
            return 2;
        }
        PolicySource policy;
        try {
            policy = Rulebook.policy(policyFile);
        } catch (PolicyException e) {
            err.println("serve: " + e.getMessage());
            return 2;
        }
        boolean liveMode = cluster == null && (live || ClusterSource.kubeconfigAvailable());
        if (caSecret != null && !liveMode) {
            err.println("serve: --ca-secret needs live mode (a cluster to keep the Secret in)");
            return 2;
        }
        KubernetesClient client = null;
        ClusterView view;
        KeyPair tokenKeys;
        try {
            if (liveMode) {
                client = new KubernetesClientBuilder().build();
                view = new InformerClusterView(client, Rulebook.WATCHED,
                        new SarSettings(sarCacheTtl, sarCacheSize, sarTimeout), Ticker.systemTicker(), unservedRetry).start();
                tokenKeys = SecretTokenKey.loadOrCreate(client, serviceNamespace, tokenSecret);
                out.println("cluster: live (" + client.getMasterUrl() + ")");
            } else {
                view = ClusterSource.embedded(cluster);
                Path keyFile = tokenKey != null ? tokenKey : certDir.resolve("clone-token.key");
                tokenKeys = TokenKeyFiles.loadOrGenerate(keyFile);
                out.println("cluster: embedded (" + (cluster == null ? "bundled example cluster" : cluster.toAbsolutePath()) + ")");
                out.println("clone token public key: " + TokenKeyFiles.publicKeyFile(keyFile).toAbsolutePath());
            }
        } catch (ManifestException e) {
            err.println("serve: " + e.getMessage());
            return 2;
        }
        Path certificate = tlsCert, key = tlsKey;
        Runnable certificateSync = null;
        if (caSecret != null) {
            var certs = new CertificateDirectory(certDir, Clock.systemUTC());
            var stored = new CertificateSecret(client, serviceNamespace, caSecret, certs, new ServingIdentity(serviceName, serviceNamespace));
            var injector = new CaBundleInjector(client, webhookConfigurations, serviceName, serviceNamespace);
            try {
                int injected = injector.inject(stored.sync());
                out.println("certificates from Secret " + serviceNamespace + "/" + caSecret + "; caBundle injected into " + injected + " webhook(s)");
            } catch (IOException | KubernetesClientException e) {
                err.println("serve: cannot prepare certificates from Secret " + serviceNamespace + "/" + caSecret + ": " + e.getMessage());
                return 1;
            }
            certificateSync = () -> {
                try {
                    injector.inject(stored.sync());
                } catch (IOException | RuntimeException e) {
                    LOG.warn("certificate sync failed, retried in " + caSyncInterval.toSeconds() + "s: " + e.getMessage());
                }
            };
            certificate = certs.certificate();
            key = certs.privateKey();
        } else if (certificate == null) {
            var certs = new CertificateDirectory(certDir, Clock.systemUTC());
            try {
                var outcome = certs.ensure(new ServingIdentity(serviceName, serviceNamespace));
                out.println("certificates " + outcome.name().toLowerCase().replace('_', ' ') + "; CA certificate: "
                        + certs.caCertificate().toAbsolutePath());
            } catch (IOException e) {
                err.println("serve: cannot prepare certificates in " + certDir + ": " + e.getMessage());
                return 2;
            }
            certificate = certs.certificate();
            key = certs.privateKey();
        }
        AdmissionMetrics metrics = new AdmissionMetrics();
        AdmissionService admission = Rulebook.service(view, new CloneTokenSigner(tokenKeys.getPrivate(), Clock.systemUTC()),
                cloneSourceRole, metrics, policy);
        Vertx vertx = Vertx.vertx();
        ClusterView readiness = view;
        AdmissionServer server = new AdmissionServer(vertx,
                new ServerSettings(bind, port, certificate, key, certCheckInterval, clientCa).withCertificateExpiryMargin(certExpiryMargin)
                        .withClientCommonNames(Set.copyOf(clientCn)), admission, metrics, readiness::synced,
                Pem.encodePublicKey(tokenKeys.getPublic()));
        try {
            server.start().toCompletionStage().toCompletableFuture().get();
        } catch (ExecutionException e) {
            err.println("serve: cannot start HTTPS listener on " + bind + ":" + port + ": " + e.getCause().getMessage());
            vertx.close();
            return 1;
        }
        ScheduledExecutorService reloads = Executors.newSingleThreadScheduledExecutor(Thread.ofVirtual().factory());
        reloads.scheduleWithFixedDelay(policy::reload, certCheckInterval.toMillis(), certCheckInterval.toMillis(), TimeUnit.MILLISECONDS);
        if (certificateSync != null) {
            reloads.scheduleWithFixedDelay(certificateSync, caSyncInterval.toMillis(), caSyncInterval.toMillis(), TimeUnit.MILLISECONDS);
        }
        out.printf("listening on https://%s:%d (started in %d ms)%n", bind, server.actualPort(), (System.nanoTime() - started) / 1_000_000);
        out.flush();
        CountDownLatch stopped = new CountDownLatch(1);
        KubernetesClient liveClient = client;
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            reloads.shutdownNow();
            server.stop().toCompletionStage().toCompletableFuture().join();
            vertx.close().toCompletionStage().toCompletableFuture().join();
            if (readiness instanceof InformerClusterView informers) informers.close();
            if (liveClient != null) liveClient.close();
            stopped.countDown();
        }));
        stopped.await();
        return 0;
    }
}
