package dev.lockkeeper.webhook.http;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;

/**
 * Where and how the HTTPS listener runs. With {@code clientCa} set, the admission endpoints accept
 * only clients presenting a certificate that CA signed (kube-apiserver with an AdmissionConfiguration
 * client certificate), and with {@code clientCommonNames} also only certificates whose subject CN is one of them;
 * health and metrics endpoints stay open to probes.
 */
public record ServerSettings(
        String bindAddress,
        int port,
        Path certificate,
        Path privateKey,
        Duration certificateCheckInterval,
        Duration certificateExpiryMargin,
        Path clientCa,
        Set<String> clientCommonNames,
        IntakeLimits limits) {
    /** Short: an unready pod leaves the Service, so going unready early costs what an expired certificate would. */
    public static final Duration DEFAULT_EXPIRY_MARGIN = Duration.ofMinutes(5);

    public ServerSettings {
        clientCommonNames = Set.copyOf(clientCommonNames);
        if (!clientCommonNames.isEmpty() && clientCa == null)
            throw new IllegalArgumentException("a client common name needs a client CA");
        if (certificateExpiryMargin.isNegative())
            throw new IllegalArgumentException("the certificate expiry margin must not be negative");
    }

    public ServerSettings(
            String bindAddress,
            int port,
            Path certificate,
            Path privateKey,
            Duration certificateCheckInterval,
            Path clientCa) {
        this(
                bindAddress,
                port,
                certificate,
                privateKey,
                certificateCheckInterval,
                DEFAULT_EXPIRY_MARGIN,
                clientCa,
                Set.of(),
                IntakeLimits.DEFAULT);
    }

    public ServerSettings withLimits(IntakeLimits replacement) {
        return new ServerSettings(
                bindAddress,
                port,
                certificate,
                privateKey,
                certificateCheckInterval,
                certificateExpiryMargin,
                clientCa,
                clientCommonNames,
                replacement);
    }

    /** Only client certificates whose subject CN is one of {@code names} (empty: any from the client CA). */
    public ServerSettings withClientCommonNames(Set<String> names) {
        return new ServerSettings(
                bindAddress,
                port,
                certificate,
                privateKey,
                certificateCheckInterval,
                certificateExpiryMargin,
                clientCa,
                names,
                limits);
    }

    public ServerSettings withCertificateExpiryMargin(Duration margin) {
        return new ServerSettings(
                bindAddress,
                port,
                certificate,
                privateKey,
                certificateCheckInterval,
                margin,
                clientCa,
                clientCommonNames,
                limits);
    }
}
