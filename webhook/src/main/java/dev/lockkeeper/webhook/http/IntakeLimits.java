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
     * The API server sends at most 3 MiB per object (etcd keeps at most 1.5 MiB) and two objects on UPDATE, so 7 MiB
     * holds any review it sends. A parsed tree is several times its bytes: a 2.9 MB Pod of 45,000 small volumes is
     * 22 MiB of nodes, 28 MiB with its body copies, so 8 MiB in flight (two such reviews, or one largest UPDATE) is
     * what the Deployment's 112 MiB heap holds with margin. At 16 MiB, five of them at once on a busy CPU ran that
     * heap out of memory (bench/webhook.sh memory).
     */
    public static final IntakeLimits DEFAULT =
            new IntakeLimits(7L * 1024 * 1024, 64, 8L * 1024 * 1024, Duration.ofSeconds(10));

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
