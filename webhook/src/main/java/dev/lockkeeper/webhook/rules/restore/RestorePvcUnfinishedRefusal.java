package dev.lockkeeper.webhook.rules.restore;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lockkeeper.webhook.admission.AdmissionRequest;
import dev.lockkeeper.webhook.admission.AdmissionRule;
import dev.lockkeeper.webhook.admission.Match;
import dev.lockkeeper.webhook.admission.Operation;
import dev.lockkeeper.webhook.admission.ReviewContext;
import dev.lockkeeper.webhook.admission.Verdict;
import dev.lockkeeper.webhook.cluster.ClusterView;
import java.util.Optional;

/**
 * Validating, restored PVC CREATE: the PVC of a DataVolume whose population had not finished at
 * backup holds partial data; upstream does not restore it, and CDI populates a fresh PVC when the
 * DataVolume is restored.
 */
public final class RestorePvcUnfinishedRefusal implements AdmissionRule {
    private static final Match MATCH = Match.of("", "persistentvolumeclaims", Operation.CREATE);

    @Override
    public String name() {
        return "restore-pvc-unfinished-refusal";
    }

    @Override
    public Match match() {
        return MATCH;
    }

    @Override
    public Verdict admit(ReviewContext review) {
        AdmissionRequest request = review.request();
        ClusterView cluster = review.cluster();
        ObjectNode pvc = request.object();
        if (!RestoreMarkers.present(review.policy(), pvc)) return Verdict.allow();
        Optional<String> unfinished = DataVolumeClaim.unfinished(pvc);
        if (unfinished.isEmpty()) return Verdict.allow();
        String namespace = request.objectNamespace(), name = request.objectName();
        return DataVolumeClaim.of(pvc, namespace, name, cluster)
                .<Verdict>map(claim -> Verdict.forbidden(
                        "PersistentVolumeClaim " + namespace + "/" + name + " of DataVolume " + claim.dataVolume() + " "
                                + unfinished.get() + "; not restored: CDI populates it again from the DataVolume"))
                .orElse(Verdict.allow());
    }
}
