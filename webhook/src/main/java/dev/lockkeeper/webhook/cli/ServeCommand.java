package dev.lockkeeper.webhook.cli;

import dev.lockkeeper.webhook.rules.Rulebook;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
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

    @Spec
    CommandSpec spec;

    @Option(
            names = "--port",
            defaultValue = "${env:LOCKKEEPER_PORT:-8443}",
            description = "HTTPS port (default: ${DEFAULT-VALUE}).")
    int port;

    @Option(
            names = "--bind",
            defaultValue = "${env:LOCKKEEPER_BIND:-0.0.0.0}",
            description = "Listen address (default: ${DEFAULT-VALUE}).")
    String bind;

    @Option(
            names = "--cluster",
            paramLabel = "DIR",
            description = "Embedded mode: cluster state and RBAC from the manifests in DIR.")
    Path cluster;

    @Option(names = "--live", description = "Live mode even when no kubeconfig is found (in-cluster or KUBECONFIG).")
    boolean live;

    @Option(
            names = "--tls-cert",
            paramLabel = "FILE",
            description = "Serving certificate (PEM); reloaded when it changes.")
    Path tlsCert;

    @Option(names = "--tls-key", paramLabel = "FILE", description = "Serving key (PEM); reloaded when it changes.")
    Path tlsKey;

    @Option(
            names = "--client-ca",
            paramLabel = "FILE",
            description =
                    "Require /mutate and /validate callers to present a client certificate signed by this CA (PEM).")
    Path clientCa;

    @Option(
            names = "--client-cn",
            split = ",",
            paramLabel = "CN[,CN...]",
            description =
                    "With --client-ca: accept only client certificates whose subject CN is one of these; another certificate "
                            + "from that CA gets 403.")
    List<String> clientCn = List.of();

    @Option(
            names = "--cert-dir",
            paramLabel = "DIR",
            defaultValue = "${env:LOCKKEEPER_CERT_DIR:-.lockkeeper/certs}",
            description =
                    "Without --tls-cert/--tls-key: where ca.crt, tls.crt, tls.key are generated and reused (default: ${DEFAULT-VALUE}).")
    Path certDir;

    @Option(
            names = "--service-name",
            defaultValue = "${env:LOCKKEEPER_SERVICE_NAME:-lockkeeper-webhook}",
            description = "Service name in the generated certificate's SANs (default: ${DEFAULT-VALUE}).")
    String serviceName;

    @Option(
            names = "--service-namespace",
            defaultValue = "${env:POD_NAMESPACE:-lockkeeper}",
            description = "Own namespace: certificate SANs and the clone-token Secret (default: ${DEFAULT-VALUE}).")
    String serviceNamespace;

    @Option(
            names = "--token-key",
            paramLabel = "FILE",
            description =
                    "Embedded mode: clone-token private key file (default: <cert-dir>/clone-token.key, generated).")
    Path tokenKey;

    @Option(
            names = "--token-secret",
            defaultValue = "${env:LOCKKEEPER_TOKEN_SECRET:-lockkeeper-clone-token}",
            description =
                    "Live mode: Secret holding the clone-token key pair, created if missing (default: ${DEFAULT-VALUE}).")
    String tokenSecret;

    @Option(
            names = "--clone-source-role",
            defaultValue = Rulebook.DEFAULT_CLONE_SOURCE_ROLE,
            description = "ClusterRole that denial messages tell admins to bind (default: ${DEFAULT-VALUE}).")
    String cloneSourceRole;

    @Option(
            names = "--controller-user",
            defaultValue = "${env:LOCKKEEPER_CONTROLLER_USER:-system:serviceaccount:lockkeeper:lockkeeper-controller}",
            description =
                    "The copy controller's user: the only one that may write CopyTasks, and whose holder pods may mount a copy's source (default: ${DEFAULT-VALUE}).")
    String controllerUser;

    @Option(
            names = "--agent-user",
            defaultValue = "${env:LOCKKEEPER_AGENT_USER:-system:serviceaccount:lockkeeper:lockkeeper-agent}",
            description =
                    "The node agents' user: may write the status of its own node's CopyTasks only (default: ${DEFAULT-VALUE}).")
    String agentUser;

    @Option(
            names = "--policy",
            paramLabel = "FILE",
            defaultValue = "${env:LOCKKEEPER_POLICY}",
            description =
                    "Policy file (rule modes, thresholds, excluded namespaces), re-read when it changes; default: every rule denies.")
    Path policyFile;

    @Option(
            names = "--sar-cache-ttl",
            defaultValue = "10s",
            converter = DurationConverter.class,
            description = "How long SubjectAccessReview answers are reused (default: ${DEFAULT-VALUE}).")
    Duration sarCacheTtl;

    @Option(
            names = "--sar-cache-size",
            defaultValue = "10000",
            description = "Most cached SubjectAccessReview answers (default: ${DEFAULT-VALUE}).")
    long sarCacheSize;

    @Option(
            names = "--sar-timeout",
            defaultValue = "2s",
            converter = DurationConverter.class,
            description = "SubjectAccessReview deadline; past it the clone is denied (default: ${DEFAULT-VALUE}).")
    Duration sarTimeout;

    @Option(
            names = "--unserved-retry",
            defaultValue = "30s",
            converter = DurationConverter.class,
            description =
                    "Live mode: how often a watched kind the cluster does not serve (CRD not installed) is asked for again (default: ${DEFAULT-VALUE}).")
    Duration unservedRetry;

    @Option(
            names = "--ca-secret",
            paramLabel = "NAME",
            defaultValue = "${env:LOCKKEEPER_CA_SECRET}",
            description =
                    "Live mode without cert-manager: keep the CA and serving certificate in this Secret (shared by replicas, "
                            + "renewed 30 days before expiry), mirror it into --cert-dir, and inject the CA into the webhook configurations' caBundle.")
    String caSecret;

    @Option(
            names = "--webhook-configurations",
            split = ",",
            paramLabel = "NAME[,NAME...]",
            defaultValue = "lockkeeper,lockkeeper-restore",
            description =
                    "With --ca-secret: the Mutating-/ValidatingWebhookConfigurations whose webhooks calling this service get the caBundle "
                            + "(default: ${DEFAULT-VALUE}).")
    List<String> webhookConfigurations;

    @Option(
            names = "--ca-sync-interval",
            defaultValue = "5m",
            converter = DurationConverter.class,
            description =
                    "With --ca-secret: how often the Secret, renewal and caBundles are checked again (default: ${DEFAULT-VALUE}).")
    Duration caSyncInterval;

    @Option(
            names = "--cert-check-interval",
            defaultValue = "2s",
            converter = DurationConverter.class,
            description = "How often certificate and policy files are checked for changes (default: ${DEFAULT-VALUE}).")
    Duration certCheckInterval;

    @Option(
            names = "--cert-expiry-margin",
            defaultValue = "5m",
            converter = DurationConverter.class,
            description =
                    "Not ready when the serving certificate in use expires within this and no valid replacement was found "
                            + "(default: ${DEFAULT-VALUE}).")
    Duration certExpiryMargin;

    @Option(
            names = "--max-body-bytes",
            defaultValue = "7Mi",
            converter = ByteSizeConverter.class,
            paramLabel = "SIZE",
            description = "Largest request body; larger ones get 413 before they are read (default: ${DEFAULT-VALUE}).")
    long maxBodyBytes;

    @Option(
            names = "--max-in-flight",
            defaultValue = "64",
            paramLabel = "N",
            description =
                    "Most reviews read or decided at once; beyond it 429 with Retry-After at once (default: ${DEFAULT-VALUE}).")
    int maxInFlight;

    @Option(
            names = "--max-buffered-bytes",
            defaultValue = "8Mi",
            converter = ByteSizeConverter.class,
            paramLabel = "SIZE",
            description =
                    "Most request-body bytes all reviews in flight hold together; beyond it 429 at once, so the heap "
                            + "holds the worst case (default: ${DEFAULT-VALUE}).")
    long maxBufferedBytes;

    @Option(
            names = "--body-deadline",
            defaultValue = "10s",
            converter = DurationConverter.class,
            description = "Time a request body has to arrive whole; a slower one gets 408 and its connection is closed "
                    + "(default: ${DEFAULT-VALUE}).")
    Duration bodyDeadline;

    @Option(
            names = "--shutdown-grace",
            defaultValue = "15s",
            converter = DurationConverter.class,
            description =
                    "On SIGTERM: how long in-flight reviews may take to be answered before connections are closed "
                            + "(default: ${DEFAULT-VALUE}).")
    Duration shutdownGrace;

    /** The parsed flags as one checked configuration; an {@link IllegalArgumentException} names the bad flag. */
    WebhookConfig config() {
        return new WebhookConfig(
                bind,
                port,
                cluster,
                live,
                tlsCert,
                tlsKey,
                certDir,
                certCheckInterval,
                certExpiryMargin,
                clientCa,
                Set.copyOf(clientCn),
                serviceName,
                serviceNamespace,
                tokenKey,
                tokenSecret,
                cloneSourceRole,
                controllerUser,
                agentUser,
                policyFile,
                sarCacheTtl,
                sarCacheSize,
                sarTimeout,
                unservedRetry,
                caSecret,
                webhookConfigurations,
                caSyncInterval,
                shutdownGrace,
                maxBodyBytes,
                maxInFlight,
                maxBufferedBytes,
                bodyDeadline);
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        WebhookConfig config;
        try {
            config = config();
        } catch (IllegalArgumentException e) {
            err.println("serve: " + e.getMessage());
            return 2;
        }
        WebhookApp app;
        try {
            app = WebhookApp.start(config, out);
        } catch (WebhookApp.StartFailure e) {
            err.println("serve: " + e.getMessage());
            return e.exitCode;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime()
                .addShutdownHook(new Thread(
                        () -> {
                            LOG.info(
                                    "stopping: draining in-flight reviews for at most {} ms", shutdownGrace.toMillis());
                            app.close();
                            LOG.info("stopped");
                            stopped.countDown();
                        },
                        "shutdown"));
        stopped.await();
        return 0;
    }
}
