package dev.lockkeeper.webhook.admission;

import dev.lockkeeper.webhook.cluster.ClusterView;
import dev.lockkeeper.webhook.policy.Policy;

/**
 * Everything one rule may use for one review, and nothing ambient: the request (in a mutating chain, the object as
 * the rules before changed it), the policy snapshot the whole review runs under (a reload mid-review does not mix
 * two policies), the review's deadline, the cluster as seen within that deadline, and a logger that names the review.
 */
public record ReviewContext(
        AdmissionRequest request, Policy policy, Deadline deadline, ClusterView cluster, ReviewLog log) {

    /** The context for one review: {@code cluster} is bound to {@code deadline}, {@code log} names the request. */
    public static ReviewContext of(AdmissionRequest request, Policy policy, Deadline deadline, ClusterView cluster) {
        return new ReviewContext(
                request, policy, deadline, new DeadlineBoundClusterView(cluster, deadline), ReviewLog.of(request));
    }

    /** The same review, with the object as changed by the rules before. */
    public ReviewContext withRequest(AdmissionRequest changed) {
        return changed == request ? this : new ReviewContext(changed, policy, deadline, cluster, log);
    }
}
