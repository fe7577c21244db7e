package dev.lockkeeper.webhook.rules.restore;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lockkeeper.webhook.admission.AdmissionRequest;
import dev.lockkeeper.webhook.admission.AdmissionRule;
import dev.lockkeeper.webhook.admission.Match;
import dev.lockkeeper.webhook.admission.ObjectEdit;
import dev.lockkeeper.webhook.admission.Operation;
import dev.lockkeeper.webhook.admission.ReviewContext;
import dev.lockkeeper.webhook.admission.Verdict;
import dev.lockkeeper.webhook.json.Json;
import dev.lockkeeper.webhook.rules.CdiAnnotations;
import java.util.List;

/**
 * Mutating, restored DataVolume CREATE: a DataVolume that had {@code Succeeded} when it was backed
 * up is marked pre-populated, or CDI would import or clone again over the restored PVC. The
 * API server still shows a mutating webhook the {@code status} the client sent.
 */
public final class RestoreDataVolumePrepopulated implements AdmissionRule {
    private static final Match MATCH = Match.of("cdi.kubevirt.io", "datavolumes", Operation.CREATE);

    @Override
    public String name() {
        return "restore-datavolume-prepopulated";
    }

    @Override
    public Match match() {
        return MATCH;
    }

    @Override
    public Verdict admit(ReviewContext review) {
        AdmissionRequest request = review.request();
        ObjectNode dataVolume = request.object();
        if (!RestoreMarkers.present(review.policy(), dataVolume)
                || Json.hasAnnotation(dataVolume, CdiAnnotations.PRE_POPULATED)) return Verdict.allow();
        String phase = Json.text(dataVolume, "status", "phase");
        if (!phase.equals("Succeeded")) {
            String was = phase.isEmpty() ? "had no phase" : "was " + phase;
            return Verdict.allow(List.of("restore: DataVolume " + request.objectNamespace() + "/" + request.objectName()
                    + " " + was + " at backup; CDI will populate it again"));
        }
        ObjectEdit edit = ObjectEdit.of(dataVolume);
        edit.put(request.objectName(), "metadata", "annotations", CdiAnnotations.PRE_POPULATED);
        return edit.verdict(List.of());
    }
}
