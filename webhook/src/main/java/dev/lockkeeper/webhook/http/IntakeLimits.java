package dev.lockkeeper.webhook.http;

import java.time.Duration;

/**
 * What the server accepts before a rule runs, so memory is bounded by construction: one body is at
 * most {@code maxBodyBytes}; at most {@code maxInFlight} reviews are read or decided at once and
 * together hold at most {@code maxBufferedBytes} of body (beyond either: 429 at once, never a queue);
 * a body must arrive whole within {@code bodyDeadline} (a client trickling bytes is cut off with 408).
 */
public record IntakeLimits(long maxBodyBytes, int maxInFlight, long maxBufferedBytes, Duration bodyDeadline) {
    /**
     * The API server sends at most about 3 MiB per object and two objects on UPDATE. A body's parsed
     * tree is several times its bytes (a 2.9 MB Pod of 45,000 small volumes: 32 MiB of such bodies in
     * flight ran a 128 MiB heap out of memory), so 16 MiB in flight, five maximum-size reviews at once,
     * is what the Deployment's 128 MiB heap holds with margin (bench/webhook.sh memory).
     */
    public static final IntakeLimits DEFAULT =
            new IntakeLimits(10L * 1024 * 1024, 64, 16L * 1024 * 1024, Duration.ofSeconds(10));

    public IntakeLimits {
        if (maxBodyBytes < 1024)
            throw new IllegalArgumentException("the body limit must be at least 1 KiB, got " + maxBodyBytes);
        if (maxInFlight < 1)
            throw new IllegalArgumentException("at least one review must be allowed in flight, got " + maxInFlight);
        if (maxBufferedBytes < maxBodyBytes) {
            throw new IllegalArgumentException("the buffered-bytes budget (" + maxBufferedBytes
                    + ") must hold one largest body (" + maxBodyBytes + ")");
        }
        if (bodyDeadline.isNegative() || bodyDeadline.isZero())
            throw new IllegalArgumentException("the body deadline must be positive");
    }
}
