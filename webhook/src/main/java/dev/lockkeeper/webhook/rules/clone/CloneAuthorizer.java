package dev.lockkeeper.webhook.rules.clone;

import dev.lockkeeper.webhook.cluster.AccessDecision;
import dev.lockkeeper.webhook.cluster.AccessReview;
import dev.lockkeeper.webhook.cluster.ClusterView;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * CDI's clone permission check, SubjectAccessReviews in upstream order, first grant wins:
 * a PVC source needs {@code create datavolumes/source} or, failing that, {@code create pods};
 * a snapshot source needs {@code create datavolumes/source} or both {@code create pods} and
 * {@code create pvcs} (upstream's literal resource string). All in the source namespace,
 * named after the source.
 */
public final class CloneAuthorizer {
    private static final String CDI_GROUP = "cdi.kubevirt.io";

    private final String cloneSourceClusterRole;

    /** @param cloneSourceClusterRole the ClusterRole the suggested fix binds (shipped in manifests/) */
    public CloneAuthorizer(String cloneSourceClusterRole) {
        this.cloneSourceClusterRole = cloneSourceClusterRole;
    }

    public CloneAuthorization authorize(Requester requester, CloneSource.Located source, ClusterView cluster) {
        AccessDecision explicit = cluster.review(sar(requester, source, CDI_GROUP, "datavolumes", "source"));
        if (explicit instanceof AccessDecision.Unavailable u) return unchecked(source, u);
        if (explicit instanceof AccessDecision.Allowed a) return new CloneAuthorization.Granted(a.reason());

        List<String> fallback = source.kind() == CloneSource.Kind.PVC ? List.of("pods") : List.of("pods", "pvcs");
        List<String> fallbackMissing = new ArrayList<>();
        String reason = "";
        for (String resource : fallback) {
            AccessDecision decision = cluster.review(sar(requester, source, "", resource, ""));
            if (decision instanceof AccessDecision.Unavailable u) return unchecked(source, u);
            if (decision instanceof AccessDecision.Allowed a) {
                reason = a.reason();
                if (source.kind() == CloneSource.Kind.PVC) return new CloneAuthorization.Granted(reason);
            } else {
                fallbackMissing.add("create " + resource);
                // Upstream stops at the first refused implicit permission for snapshots.
                if (source.kind() == CloneSource.Kind.SNAPSHOT) break;
            }
        }
        if (fallbackMissing.isEmpty()) return new CloneAuthorization.Granted(reason);
        String alternative = source.kind() == CloneSource.Kind.PVC
                ? "\"create\" on pods"
                : "both \"create\" on pods and \"create\" on pvcs (refused: " + String.join(", ", fallbackMissing)
                        + ")";
        String upstream = "User " + requester.user() + " has insufficient permissions in clone source namespace "
                + source.namespace();
        String explanation =
                "Missing in namespace " + source.namespace() + ": \"create\" on datavolumes/source (" + CDI_GROUP
                        + ") named \"" + source.name() + "\", or " + alternative
                        + ". Grant it with: kubectl create rolebinding "
                        + bindingName(requester) + " --namespace=" + source.namespace() + " --clusterrole="
                        + cloneSourceClusterRole
                        + " " + requester.kubectlSubject();
        return new CloneAuthorization.Refused(upstream, explanation);
    }

    private static CloneAuthorization unchecked(CloneSource.Located source, AccessDecision.Unavailable unavailable) {
        return new CloneAuthorization.Unchecked("authorization could not be checked for cloning " + source.namespace()
                + "/" + source.name() + " (SubjectAccessReview failed: " + unavailable.error()
                + "); refusing the clone, retry shortly");
    }

    private static AccessReview sar(
            Requester requester, CloneSource.Located source, String group, String resource, String subresource) {
        return new AccessReview(
                requester.user(),
                requester.groups(),
                requester.extra(),
                source.namespace(),
                "create",
                group,
                resource,
                subresource,
                source.name());
    }

    /** A valid RoleBinding name (DNS-1123 subdomain) derived from the subject. */
    static String bindingName(Requester requester) {
        String subject = switch (requester) {
            case Requester.User user -> user.user();
            case Requester.ServiceAccount sa -> sa.namespace() + "-" + sa.name();
        };
        String name = ("clone-source-" + subject).toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9.-]+", "-");
        name = name.length() > 63 ? name.substring(0, 63) : name;
        return name.replaceAll("[^a-z0-9]+$", "");
    }
}
