package dev.lockkeeper.webhook.http;

import java.nio.file.Path;
import java.time.Duration;

/**
 * Where and how the HTTPS listener runs. With {@code clientCa} set, the admission endpoints accept
 * only clients presenting a certificate that CA signed (kube-apiserver with an AdmissionConfiguration
 * client certificate); health and metrics endpoints stay open to probes.
 */
public record ServerSettings(String bindAddress, int port, Path certificate, Path privateKey, Duration certificateCheckInterval,
                             Path clientCa) {
    /** The API server sends up to a few MiB per object (old + new); anything larger is refused. */
    public static final long MAX_BODY_BYTES = 10L * 1024 * 1024;
}
