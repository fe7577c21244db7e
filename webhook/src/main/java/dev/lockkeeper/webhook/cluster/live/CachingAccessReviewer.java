package dev.lockkeeper.webhook.cluster.live;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;
import dev.lockkeeper.webhook.cluster.AccessDecision;
import dev.lockkeeper.webhook.cluster.AccessReview;
import io.fabric8.kubernetes.api.model.authorization.v1.ResourceAttributesBuilder;
import io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReview;
import io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReviewBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.RequestConfig;
import io.fabric8.kubernetes.client.RequestConfigBuilder;
import java.io.InterruptedIOException;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.concurrent.TimeoutException;

/**
 * Sends SubjectAccessReviews to the API server and remembers definite answers (allowed/denied) briefly in a
 * size-bounded cache. Failures are never cached.
 *
 * <p>Each call is bounded by the time its caller has left (at most {@code --sar-timeout}): that is the HTTP request's
 * own timeout, so the JDK client aborts the exchange (closes the connection) when it runs out, and fabric8's retries
 * are off for it, so nothing is sent again after. Only that aborts the request: an interrupted caller returns at once,
 * but neither fabric8's blocking call nor cancelling its future reaches the JDK exchange. Each review sends its own
 * call, so one review's deadline never cuts another's: two reviews missing the cache for the same question both ask.
 */
public final class CachingAccessReviewer {
    private final KubernetesClient client;
    private final SarSettings settings;
    private final Cache<AccessReview, AccessDecision> cache;

    public CachingAccessReviewer(KubernetesClient client, SarSettings settings) {
        this(client, settings, Ticker.systemTicker());
    }

    /** {@code ticker} is the cache's clock, so tests can step time instead of sleeping. */
    public CachingAccessReviewer(KubernetesClient client, SarSettings settings, Ticker ticker) {
        this.client = client;
        this.settings = settings;
        this.cache = Caffeine.newBuilder()
                .maximumSize(settings.cacheSize())
                .expireAfterWrite(settings.cacheTtl())
                .ticker(ticker)
                .build();
    }

    /** A review for a caller without a deadline of its own: bounded by {@code --sar-timeout}. */
    public AccessDecision review(AccessReview review) {
        return review(review, settings.timeout());
    }

    /** A review answered within {@code budget} (capped at {@code --sar-timeout}); a call still unanswered then is aborted. */
    public AccessDecision review(AccessReview review, Duration budget) {
        AccessDecision cached = cache.getIfPresent(review);
        if (cached != null) return cached;
        long timeoutMillis = Math.min(budget.toMillis(), settings.timeout().toMillis());
        if (timeoutMillis < 1) return new AccessDecision.Unavailable("no time left to ask the API server");
        AccessDecision decision = send(review, timeoutMillis);
        if (!(decision instanceof AccessDecision.Unavailable)) cache.put(review, decision);
        return decision;
    }

    private AccessDecision send(AccessReview review, long timeoutMillis) {
        SubjectAccessReview answer;
        try {
            answer = within(timeoutMillis)
                    .authorization()
                    .v1()
                    .subjectAccessReview()
                    .create(toSar(review));
        } catch (KubernetesClientException e) {
            if (Thread.currentThread().isInterrupted() || causedBy(e, InterruptedIOException.class))
                return new AccessDecision.Unavailable("interrupted");
            if (causedBy(e, HttpTimeoutException.class) || causedBy(e, TimeoutException.class))
                return new AccessDecision.Unavailable("timed out after " + timeoutMillis + " ms");
            return new AccessDecision.Unavailable(describe(e));
        }
        if (answer == null || answer.getStatus() == null)
            return new AccessDecision.Unavailable("empty SubjectAccessReview response");
        String reason =
                answer.getStatus().getReason() == null ? "" : answer.getStatus().getReason();
        if (Boolean.TRUE.equals(answer.getStatus().getAllowed())) return new AccessDecision.Allowed(reason);
        if (answer.getStatus().getEvaluationError() != null
                && !answer.getStatus().getEvaluationError().isEmpty()
                && !Boolean.TRUE.equals(answer.getStatus().getDenied())) {
            return new AccessDecision.Unavailable(answer.getStatus().getEvaluationError());
        }
        return new AccessDecision.Denied(reason);
    }

    /**
     * The client with {@code timeoutMillis} as its request timeout and no retries (a retry would outlive the caller);
     * it shares the connection pool and the credentials of {@code client}. The impersonation settings live in the same
     * request configuration, so they are carried over.
     */
    private KubernetesClient within(long timeoutMillis) {
        RequestConfig base = client.getConfiguration().getRequestConfig();
        RequestConfig bounded = new RequestConfigBuilder(base)
                .withRequestTimeout((int) timeoutMillis)
                .withRequestRetryBackoffLimit(0)
                .build();
        bounded.setImpersonateUsername(base.getImpersonateUsername());
        bounded.setImpersonateGroups(base.getImpersonateGroups());
        bounded.setImpersonateExtras(base.getImpersonateExtras());
        return client.newClient(bounded).adapt(KubernetesClient.class);
    }

    private static boolean causedBy(Throwable failure, Class<? extends Throwable> type) {
        for (Throwable cause = failure; cause != null; cause = cause.getCause())
            if (type.isInstance(cause)) return true;
        return false;
    }

    /** fabric8's message repeats the URL and the whole Status; the code and the Status message are what an admin needs. */
    private static String describe(Throwable failure) {
        if (failure instanceof KubernetesClientException e && e.getCode() > 0) {
            String message = e.getStatus() != null && e.getStatus().getMessage() != null
                    ? e.getStatus().getMessage()
                    : e.getMessage();
            return "API server answered " + e.getCode() + ": " + message;
        }
        return failure.getMessage() == null ? failure.toString() : failure.getMessage();
    }

    static SubjectAccessReview toSar(AccessReview review) {
        return new SubjectAccessReviewBuilder()
                .withNewSpec()
                .withUser(review.user())
                .withGroups(review.groups().isEmpty() ? null : review.groups())
                .withExtra(review.extra().isEmpty() ? null : review.extra())
                .withResourceAttributes(new ResourceAttributesBuilder()
                        .withNamespace(review.namespace())
                        .withVerb(review.verb())
                        .withGroup(review.group().isEmpty() ? null : review.group())
                        .withResource(review.resource())
                        .withSubresource(review.subresource().isEmpty() ? null : review.subresource())
                        .withName(review.name().isEmpty() ? null : review.name())
                        .build())
                .endSpec()
                .build();
    }
}
