package dev.lockkeeper.webhook.http;

import java.nio.file.Path;
import java.time.Duration;

/**
 * Where and how the HTTPS listener runs. With {@code clientCa} set, the admission endpoints accept
 * only clients presenting a certificate that CA signed (kube-apiserver with an AdmissionConfiguration
 * client certificate), and with {@code clientCn} also only that certificate subject's common name;
 * health and metrics endpoints stay open to probes.
 */
public record ServerSettings(String bindAddress, int port, Path certificate, Path privateKey, Duration certificateCheckInterval,
                             Duration certificateExpiryMargin, Path clientCa, String clientCn, IntakeLimits limits) {
    /** Short: an unready pod leaves the Service, so going unready early costs what an expired certificate would. */
    public static final Duration DEFAULT_EXPIRY_MARGIN = Duration.ofMinutes(5);

    public ServerSettings {
        if (clientCn != null && clientCa == null) throw new IllegalArgumentException("a client common name needs a client CA");
        if (certificateExpiryMargin.isNegative()) throw new IllegalArgumentException("the certificate expiry margin must not be negative");
    }

    public ServerSettings(String bindAddress, int port, Path certificate, Path privateKey, Duration certificateCheckInterval, Path clientCa) {
        this(bindAddress, port, certificate, privateKey, certificateCheckInterval, DEFAULT_EXPIRY_MARGIN, clientCa, null, IntakeLimits.DEFAULT);
    }

    public ServerSettings withLimits(IntakeLimits replacement) {
        return new ServerSettings(bindAddress, port, certificate, privateKey, certificateCheckInterval, certificateExpiryMargin, clientCa,
                clientCn, replacement);
    }

    public ServerSettings withCertificateExpiryMargin(Duration margin) {
        return new ServerSettings(bindAddress, port, certificate, privateKey, certificateCheckInterval, margin, clientCa, clientCn, limits);
    }
}
