package dev.lockkeeper.webhook.cli;

import dev.lockkeeper.webhook.http.IntakeLimits;
import dev.lockkeeper.webhook.rules.copy.CopyAccounts;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;

/**
 * Everything {@code serve} needs, checked together in one place: picocli only fills it, and
 * {@link WebhookApp} only reads it. A combination that cannot work is an {@link IllegalArgumentException}
 * whose message is the usage error.
 */
record WebhookConfig(
        String bind,
        int port,
        Path cluster,
        boolean live,
        Path tlsCert,
        Path tlsKey,
        Path certDir,
        Duration certCheckInterval,
        Duration certExpiryMargin,
        Path clientCa,
        Set<String> clientCommonNames,
        String serviceName,
        String serviceNamespace,
        Path tokenKey,
        String tokenSecret,
        String cloneSourceRole,
        String controllerUser,
        String agentUser,
        Path policyFile,
        Duration sarCacheTtl,
        long sarCacheSize,
        Duration sarTimeout,
        Duration unservedRetry,
        String caSecret,
        List<String> webhookConfigurations,
        Duration caSyncInterval,
        Duration shutdownGrace,
        long maxBodyBytes,
        int maxInFlight,
        long maxBufferedBytes,
        Duration bodyDeadline) {

    WebhookConfig {
        clientCommonNames = Set.copyOf(clientCommonNames);
        webhookConfigurations = List.copyOf(webhookConfigurations);
        if ((tlsCert == null) != (tlsKey == null))
            throw new IllegalArgumentException("--tls-cert and --tls-key go together");
        if (port < 0 || port > 65535) throw new IllegalArgumentException("--port must be 0-65535");
        if (!clientCommonNames.isEmpty() && clientCa == null) {
            throw new IllegalArgumentException(
                    "--client-cn pins a subject of certificates from --client-ca; give --client-ca too");
        }
        if (caSecret != null && tlsCert != null) {
            throw new IllegalArgumentException(
                    "--ca-secret manages the certificates itself; leave out --tls-cert/--tls-key");
        }
        if (caSecret != null && caSyncInterval.compareTo(Duration.ofSeconds(10)) < 0) {
            throw new IllegalArgumentException(
                    "--ca-sync-interval must be at least 10s (each sync reads the Secret and the webhook configurations)");
        }
        if (unservedRetry.compareTo(Duration.ofSeconds(1)) < 0) {
            throw new IllegalArgumentException(
                    "--unserved-retry must be at least 1s (each retry lists the missing kind from the API server)");
        }
        if (certCheckInterval.compareTo(Duration.ofMillis(100)) < 0)
            throw new IllegalArgumentException("--cert-check-interval must be at least 100ms");
        if (certExpiryMargin.isNegative())
            throw new IllegalArgumentException("--cert-expiry-margin must not be negative");
        new CopyAccounts(controllerUser, agentUser); // an unusable pair is a usage error now, not at the first review
        if (shutdownGrace.isNegative()) throw new IllegalArgumentException("--shutdown-grace must not be negative");
        if (maxBodyBytes < 1024)
            throw new IllegalArgumentException("--max-body-bytes must be at least 1Ki, got " + maxBodyBytes);
        if (maxInFlight < 1)
            throw new IllegalArgumentException("--max-in-flight must be at least 1, got " + maxInFlight);
        if (maxBufferedBytes < 1)
            throw new IllegalArgumentException("--max-buffered-bytes must be positive, got " + maxBufferedBytes);
        if (maxBufferedBytes < maxBodyBytes) {
            throw new IllegalArgumentException("--max-buffered-bytes (" + maxBufferedBytes
                    + ") must hold one largest body, --max-body-bytes (" + maxBodyBytes + ")");
        }
        if (bodyDeadline.isZero()) throw new IllegalArgumentException("--body-deadline must be positive");
    }

    /** What the HTTPS server accepts before a rule runs. */
    IntakeLimits intakeLimits() {
        return new IntakeLimits(maxBodyBytes, maxInFlight, maxBufferedBytes, bodyDeadline);
    }

    /** Who the copy rules trust. */
    CopyAccounts copyAccounts() {
        return new CopyAccounts(controllerUser, agentUser);
    }

    /** Live when no manifest directory is given and --live says so or a kubeconfig is found. */
    boolean liveMode() {
        return cluster == null && (live || ClusterSource.kubeconfigAvailable());
    }
}
