package dev.lockkeeper.webhook.rules.restore;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lockkeeper.webhook.admission.AdmissionRequest;
import dev.lockkeeper.webhook.admission.AdmissionRule;
import dev.lockkeeper.webhook.admission.Match;
import dev.lockkeeper.webhook.admission.ObjectEdit;
import dev.lockkeeper.webhook.admission.Operation;
import dev.lockkeeper.webhook.admission.ReviewContext;
import dev.lockkeeper.webhook.admission.Verdict;
import dev.lockkeeper.webhook.cluster.ClusterView;
import dev.lockkeeper.webhook.json.Json;
import dev.lockkeeper.webhook.rules.CdiAnnotations;
import java.util.List;
import java.util.Optional;

/**
 * Mutating, restored PVC CREATE: a finished PVC of a DataVolume gets {@code storage.populatedFor},
 * so CDI adopts it as that DataVolume's data instead of refusing or repopulating it. An unfinished
 * one is left unmarked: marking it would make CDI trust partial data ({@link RestorePvcUnfinishedRefusal}
 * refuses it).
 */
public final class RestorePvcPopulatedFor implements AdmissionRule {
    private static final Match MATCH = Match.of("", "persistentvolumeclaims", Operation.CREATE);

    @Override
    public String name() {
        return "restore-pvc-populated-for";
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
        if (!RestoreMarkers.present(review.policy(), pvc)
                || Json.hasAnnotation(pvc, CdiAnnotations.POPULATED_FOR)
                || DataVolumeClaim.unfinished(pvc).isPresent()) {
            return Verdict.allow();
        }
        Optional<DataVolumeClaim> claim =
                DataVolumeClaim.of(pvc, request.objectNamespace(), request.objectName(), cluster);
        if (claim.isEmpty()) return Verdict.allow();
        ObjectEdit edit = ObjectEdit.of(pvc);
        edit.put(claim.get().dataVolume(), "metadata", "annotations", CdiAnnotations.POPULATED_FOR);
        return edit.verdict(List.of());
    }
}
