package dev.lockkeeper.webhook.support;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lockkeeper.webhook.cluster.AccessDecision;
import dev.lockkeeper.webhook.cluster.AccessReview;
import dev.lockkeeper.webhook.cluster.ClusterView;
import dev.lockkeeper.webhook.cluster.ManifestClusterView;
import dev.lockkeeper.webhook.cluster.Manifests;
import dev.lockkeeper.webhook.cluster.ResourceType;
import dev.lockkeeper.webhook.json.Json;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * A cluster for rule tests: objects from YAML, SubjectAccessReviews answered from a set of granted
 * {@code resource[/subresource]} paths (or marked unavailable), every review recorded in order.
 */
public class TestCluster implements ClusterView {
    private final ManifestClusterView objects;
    private final Set<String> granted = new HashSet<>();
    private final List<AccessReview> reviews = new ArrayList<>();
    private boolean unavailable;

    TestCluster(ManifestClusterView objects) {
        this.objects = objects;
    }

    /** Namespaces golden-images, team-a, team-b exist; add more objects with YAML documents. */
    public static TestCluster with(String... yamlDocuments) {
        List<ObjectNode> manifests = new ArrayList<>(Manifests.read("namespaces", stream("""
                apiVersion: v1
                kind: List
                items:
                - {apiVersion: v1, kind: Namespace, metadata: {name: golden-images}}
                - {apiVersion: v1, kind: Namespace, metadata: {name: team-a}}
                - {apiVersion: v1, kind: Namespace, metadata: {name: team-b}}
                """)));
        for (String yaml : yamlDocuments) manifests.addAll(Manifests.read("test", stream(yaml)));
        return new TestCluster(new ManifestClusterView(manifests));
    }

    public TestCluster grant(String... resourcePaths) {
        granted.addAll(List.of(resourcePaths));
        return this;
    }

    public TestCluster authorizationUnavailable() {
        unavailable = true;
        return this;
    }

    public List<AccessReview> reviews() {
        return reviews;
    }

    @Override
    public Optional<ObjectNode> get(ResourceType type, String namespace, String name) {
        return objects.get(type, namespace, name);
    }

    @Override
    public List<ObjectNode> list(ResourceType type, String namespace) {
        return objects.list(type, namespace);
    }

    @Override
    public List<ObjectNode> byIndex(dev.lockkeeper.webhook.cluster.ClusterIndex index, String key) {
        return objects.byIndex(index, key);
    }

    @Override
    public Optional<ObjectNode> read(ResourceType type, String namespace, String name) {
        return objects.read(type, namespace, name);
    }

    @Override
    public AccessDecision review(AccessReview review) {
        reviews.add(review);
        if (unavailable) return new AccessDecision.Unavailable("connection refused");
        return granted.contains(review.resourcePath())
                ? new AccessDecision.Allowed("granted by test")
                : new AccessDecision.Denied("");
    }

    @Override
    public boolean synced() {
        return true;
    }

    /** Remembers the thread the last SubjectAccessReview ran on. */
    public static final class Recording extends TestCluster {
        private final java.util.concurrent.atomic.AtomicReference<Thread> lastReviewThread;

        public Recording(TestCluster base, java.util.concurrent.atomic.AtomicReference<Thread> lastReviewThread) {
            super(base.objects);
            this.lastReviewThread = lastReviewThread;
            grant(base.granted.toArray(String[]::new));
        }

        @Override
        public AccessDecision review(AccessReview review) {
            lastReviewThread.set(Thread.currentThread());
            return super.review(review);
        }
    }

    /** These objects, with every SubjectAccessReview sent by {@code reviewer} (a live reviewer against a mock API server). */
    public static final class Reviewing extends TestCluster {
        private final java.util.function.Function<AccessReview, AccessDecision> reviewer;

        public Reviewing(TestCluster base, java.util.function.Function<AccessReview, AccessDecision> reviewer) {
            super(base.objects);
            this.reviewer = reviewer;
        }

        @Override
        public AccessDecision review(AccessReview review) {
            return reviewer.apply(review);
        }
    }

    /** A cluster whose SubjectAccessReviews are answered by {@code reviewer}, given what is left of the review's budget. */
    public static final class ReviewingWithin extends TestCluster {
        private final java.util.function.BiFunction<AccessReview, java.time.Duration, AccessDecision> reviewer;

        public ReviewingWithin(
                TestCluster base,
                java.util.function.BiFunction<AccessReview, java.time.Duration, AccessDecision> reviewer) {
            super(base.objects);
            this.reviewer = reviewer;
        }

        @Override
        public AccessDecision review(AccessReview review) {
            throw new IllegalStateException("a review's SubjectAccessReview is always asked within its budget");
        }

        @Override
        public AccessDecision review(AccessReview review, java.time.Duration budget) {
            return reviewer.apply(review, budget);
        }
    }

    public static ObjectNode yaml(String yaml) {
        try {
            return (ObjectNode) Json.YAML.readTree(yaml);
        } catch (Exception e) {
            throw new IllegalArgumentException(e);
        }
    }

    private static ByteArrayInputStream stream(String text) {
        return new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8));
    }
}
