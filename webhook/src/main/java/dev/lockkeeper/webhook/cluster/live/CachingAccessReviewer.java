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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Sends SubjectAccessReviews to the API server, bounded by a timeout, and remembers definite
 * answers (allowed/denied) briefly in a size-bounded cache. Failures are never cached.
 */
public final class CachingAccessReviewer {
    private final KubernetesClient client;
    private final SarSettings settings;
    private final Cache<AccessReview, AccessDecision> cache;
    private final ExecutorService calls = Executors.newVirtualThreadPerTaskExecutor();

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

    public AccessDecision review(AccessReview review) {
        AccessDecision cached = cache.getIfPresent(review);
        if (cached != null) return cached;
        AccessDecision decision = send(review);
        if (!(decision instanceof AccessDecision.Unavailable)) cache.put(review, decision);
        return decision;
    }

    private AccessDecision send(AccessReview review) {
        CompletableFuture<SubjectAccessReview> call = CompletableFuture.supplyAsync(
                () -> client.authorization().v1().subjectAccessReview().create(toSar(review)), calls);
        try {
            SubjectAccessReview answer = call.get(settings.timeout().toMillis(), TimeUnit.MILLISECONDS);
            if (answer == null || answer.getStatus() == null)
                return new AccessDecision.Unavailable("empty SubjectAccessReview response");
            String reason = answer.getStatus().getReason() == null
                    ? ""
                    : answer.getStatus().getReason();
            if (Boolean.TRUE.equals(answer.getStatus().getAllowed())) return new AccessDecision.Allowed(reason);
            if (answer.getStatus().getEvaluationError() != null
                    && !answer.getStatus().getEvaluationError().isEmpty()
                    && !Boolean.TRUE.equals(answer.getStatus().getDenied())) {
                return new AccessDecision.Unavailable(answer.getStatus().getEvaluationError());
            }
            return new AccessDecision.Denied(reason);
        } catch (TimeoutException e) {
            call.cancel(true);
            return new AccessDecision.Unavailable(
                    "timed out after " + settings.timeout().toMillis() + " ms");
        } catch (ExecutionException e) {
            return new AccessDecision.Unavailable(describe(e.getCause() == null ? e : e.getCause()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new AccessDecision.Unavailable("interrupted");
        }
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
