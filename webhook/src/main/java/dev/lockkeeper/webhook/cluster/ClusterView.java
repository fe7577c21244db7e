package dev.lockkeeper.webhook.cluster;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Everything a rule may know about the cluster. Implemented over informer caches (live) and over
 * manifests loaded from a directory (embedded). Returned objects are shared: read, never modify.
 * Every implementation enforces {@link ResourceType#access()} the same way: {@code get}, {@code list}
 * and {@code byIndex} on a directly read kind, or {@code read} on an informer-backed kind, throw
 * {@link IllegalArgumentException} in embedded mode and in rule tests as they do in live mode.
 */
public interface ClusterView {

    Optional<ObjectNode> get(ResourceType type, String namespace, String name);

    /** Objects of {@code type} in {@code namespace}, or in every namespace when it is null. */
    List<ObjectNode> list(ResourceType type, String namespace);

    /** Objects of {@code index.type()} whose {@code index} keys include {@code key} (see {@link ClusterIndex}). */
    List<ObjectNode> byIndex(ClusterIndex index, String key);

    /**
     * A direct read for kinds no informer watches (Secrets, Velero Restores): one GET in live mode,
     * answers cached briefly. May block.
     */
    Optional<ObjectNode> read(ResourceType type, String namespace, String name);

    /** A SubjectAccessReview. May block (live mode sends it to the API server). */
    AccessDecision review(AccessReview review);

    /**
     * A SubjectAccessReview answered within {@code budget} (what is left of the review asking): live mode sends it with
     * that as its request timeout, so a call the API server does not answer in time is aborted then, not left running.
     * Views that never block answer as {@link #review(AccessReview)}.
     */
    default AccessDecision review(AccessReview review, Duration budget) {
        return review(review);
    }

    /** True once every cache has its initial state, so a lookup miss means "does not exist". */
    boolean synced();
}
