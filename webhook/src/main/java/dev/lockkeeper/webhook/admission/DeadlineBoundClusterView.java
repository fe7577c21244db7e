package dev.lockkeeper.webhook.admission;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lockkeeper.webhook.cluster.AccessDecision;
import dev.lockkeeper.webhook.cluster.AccessReview;
import dev.lockkeeper.webhook.cluster.ClusterIndex;
import dev.lockkeeper.webhook.cluster.ClusterView;
import dev.lockkeeper.webhook.cluster.ResourceType;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The cluster as one review may see it: every call first checks the review's deadline, so a rule past it (or
 * cancelled by the chain, which interrupts its thread) starts no further SubjectAccessReview or read. A
 * SubjectAccessReview gets what is left of the budget as its own timeout, so live mode aborts the HTTP call at the
 * deadline; a call already blocked when the deadline passes is also cut by that interrupt, and its answer is discarded
 * by the chain.
 */
final class DeadlineBoundClusterView implements ClusterView {
    private final ClusterView cluster;
    private final Deadline deadline;

    DeadlineBoundClusterView(ClusterView cluster, Deadline deadline) {
        this.cluster = cluster;
        this.deadline = deadline;
    }

    @Override
    public Optional<ObjectNode> get(ResourceType type, String namespace, String name) {
        deadline.check();
        return cluster.get(type, namespace, name);
    }

    @Override
    public List<ObjectNode> list(ResourceType type, String namespace) {
        deadline.check();
        return cluster.list(type, namespace);
    }

    @Override
    public List<ObjectNode> byIndex(ClusterIndex index, String key) {
        deadline.check();
        return cluster.byIndex(index, key);
    }

    @Override
    public Optional<ObjectNode> read(ResourceType type, String namespace, String name) {
        deadline.check();
        Optional<ObjectNode> found = cluster.read(type, namespace, name);
        deadline.check();
        return found;
    }

    @Override
    public AccessDecision review(AccessReview review) {
        deadline.check();
        AccessDecision decision = cluster.review(review, Duration.ofNanos(deadline.remainingNanos()));
        // An answer that came back because the call ran out of the remaining budget or was interrupted
        // ("unavailable") is the deadline's, not the API server's.
        deadline.check();
        return decision;
    }

    @Override
    public boolean synced() {
        return cluster.synced();
    }
}
