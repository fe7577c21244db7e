package dev.lockkeeper.webhook.cluster;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Optional;

/**
 * Everything a rule may know about the cluster. Implemented over informer caches (live) and over
 * manifests loaded from a directory (embedded). Returned objects are shared: read, never modify.
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

    /** True once every cache has its initial state, so a lookup miss means "does not exist". */
    boolean synced();
}
