package dev.lockkeeper.webhook.http;

import dev.lockkeeper.webhook.metrics.AdmissionMetrics;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which serving certificate is in use and what the last look at its files found. A pair outside its
 * validity, a file that is not a regular file or is too large, or a pair that does not parse or match
 * is refused and the one in use kept; each distinct refusal is logged and counted once (the files are
 * looked at every few seconds). Readiness fails when no valid certificate is in use or the one in use
 * expires within the margin, so a rotation that never arrives shows before the API server's calls fail.
 */
final class CertificateRotation {
    private static final Logger LOG = LoggerFactory.getLogger(CertificateRotation.class);

    private final Path certificate;
    private final Path key;
    private final Duration expiryMargin;
    private final Clock clock;
    private final AdmissionMetrics metrics;
    private volatile ServingCertificate installed;
    private volatile String refusal;

    CertificateRotation(Path certificate, Path key, Duration expiryMargin, Clock clock, AdmissionMetrics metrics) {
        this.certificate = certificate;
        this.key = key;
        this.expiryMargin = expiryMargin;
        this.clock = clock;
        this.metrics = metrics;
    }

    /**
     * The first pair, read at start: unreadable files fail the start, but a pair outside its validity
     * is used (there is nothing else to serve with) and keeps the server unready until a valid one appears.
     */
    ServingCertificate initial() throws IOException {
        ServingCertificate first = ServingCertificate.read(certificate, key);
        String problem = first.validityProblem(clock.instant());
        if (problem != null) {
            refusal = "serving certificate " + certificate + " is " + problem;
            LOG.warn("{}; serving with it until a valid one appears, and not ready", refusal);
        }
        return first;
    }

    /** Blocking file reads: the pair on disk to install now, or null to keep the one in use. */
    ServingCertificate candidate() {
        ServingCertificate read;
        try {
            read = ServingCertificate.read(certificate, key);
        } catch (ServingCertificate.RefusedFile e) {
            refuse(e.reason, e.getMessage());
            return null;
        } catch (IOException | RuntimeException e) {
            refuse("unreadable", "serving certificate " + certificate + " not readable: " + e.getMessage());
            return null;
        }
        ServingCertificate current = installed;
        Instant now = clock.instant();
        if (read.sameAs(current)) {
            if (current.validityProblem(now) == null) refusal = null; // the files are back to the pair in use
            return null;
        }
        String problem = read.validityProblem(now);
        if (problem != null) {
            refuse(
                    problem.startsWith("expired") ? "expired" : "not-yet-valid",
                    "serving certificate " + certificate + " is " + problem);
            return null;
        }
        return read;
    }

    void installed(ServingCertificate certificate) {
        boolean first = installed == null;
        installed = certificate;
        metrics.servingCertificateInstalled(certificate.notAfter());
        if (!first) {
            refusal = null;
            LOG.info("serving certificate reloaded from {} (valid until {})", this.certificate, certificate.notAfter());
        }
    }

    /** The TLS stack would not take a pair that passed every check here. */
    void rejectedByTls(String message) {
        refuse("tls-rejected", "serving certificate " + certificate + " rejected by the TLS stack: " + message);
    }

    /** Why the server must not take traffic on this certificate, or null when it may. */
    String unready() {
        ServingCertificate current = installed;
        if (current == null) return "certificates not loaded";
        Instant now = clock.instant();
        String problem = current.validityProblem(now);
        String why = refusal == null ? "" : " (" + refusal + ")";
        if (problem != null) return "the serving certificate in use is " + problem + why;
        if (now.plus(expiryMargin).isAfter(current.notAfter())) {
            return "the serving certificate in use expires at " + current.notAfter() + ", within "
                    + expiryMargin.toMinutes() + " min, and no valid replacement was found" + why;
        }
        return null;
    }

    /** The last refusal while a valid certificate stays in use, or null. */
    String refusal() {
        return refusal;
    }

    private void refuse(String reason, String message) {
        if (message.equals(refusal)) return;
        refusal = message;
        metrics.servingCertificateRefused(reason);
        LOG.warn("{}; keeping the certificate in use", message);
    }
}
