package dev.lockkeeper.webhook.cluster.live;

import java.time.Duration;

/** SubjectAccessReview caching and timeout; short TTL so revoked permissions stop working quickly. */
public record SarSettings(Duration cacheTtl, long cacheSize, Duration timeout) {
    public SarSettings {
        if (cacheTtl.isNegative()) throw new IllegalArgumentException("SAR cache TTL must not be negative");
        if (cacheSize < 0) throw new IllegalArgumentException("SAR cache size must not be negative");
        if (timeout.isZero() || timeout.isNegative())
            throw new IllegalArgumentException("SAR timeout must be positive");
    }
}
