package dev.lockkeeper.webhook.admission;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lockkeeper.webhook.policy.GoDuration;
import io.fabric8.zjsonpatch.JsonPatch;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Turns AdmissionReview bodies into responses: decode (400 on bad input), decide, encode. */
public final class AdmissionService {
    private static final Logger LOG = LoggerFactory.getLogger(AdmissionService.class);
    private final AdmissionChain mutating;
    private final AdmissionChain validating;

    public AdmissionService(AdmissionChain mutating, AdmissionChain validating) {
        this.mutating = mutating;
        this.validating = validating;
    }

    /**
     * {@code timeout} is the {@code timeout} query parameter the API server puts on the webhook URL (a Go duration
     * such as "3s"; null or unreadable: the policy's default), after which it gives up on this review.
     */
    public HttpReply handle(AdmissionChain.Stage stage, byte[] body, String timeout) {
        AdmissionRequest request;
        try {
            request = AdmissionReviews.parse(body);
        } catch (BadAdmissionReview e) {
            return HttpReply.error(400, "BadRequest", e.getMessage());
        }
        AdmissionChain chain = stage == AdmissionChain.Stage.MUTATING ? mutating : validating;
        Decision decision;
        try {
            decision = chain.decide(request, timeout == null ? null : GoDuration.parse(timeout));
        } catch (StackOverflowError | OutOfMemoryError e) {
            // Logged before anything else is attempted: the heap may not allow much more.
            LOG.error("review {} ran out of {}", request.uid(), e instanceof OutOfMemoryError ? "memory" : "stack", e);
            decision = Decision.errored("chain", "the review of this object exceeded the webhook's resources");
        } catch (RuntimeException e) {
            // Still an AdmissionReview with the uid and a denial: a bare HTTP 500 would be read as a
            // webhook failure, which webhooks with failurePolicy Ignore let through.
            LOG.error("review {} failed", request.uid(), e);
            decision = Decision.errored(
                    "chain",
                    "the review failed inside the webhook; its log has the details (uid " + request.uid() + ")");
        }
        return HttpReply.ok(AdmissionReviews.render(request.uid(), decision, stage == AdmissionChain.Stage.MUTATING));
    }

    /**
     * Both chains as the API server runs them: mutating first, then validating on the mutated
     * object. The result carries the mutating patch, every warning, and the first denial.
     */
    public ObjectNode reviewEndToEnd(AdmissionRequest request) {
        Decision mutation = mutating.decide(request);
        if (!mutation.allowed()) return AdmissionReviews.render(request.uid(), mutation, true);
        AdmissionRequest mutated = request;
        if (mutation.patched()) {
            JsonNode patchedObject = JsonPatch.apply(mutation.patch(), request.object());
            mutated = request.withObject((ObjectNode) patchedObject);
        }
        Decision validation = validating.decide(mutated);
        List<String> warnings = new ArrayList<>(mutation.warnings());
        warnings.addAll(validation.warnings());
        ArrayNode patch = mutation.patch();
        Decision combined = validation.allowed()
                ? Decision.allowed(warnings, patch)
                : new Decision(
                        false,
                        validation.code(),
                        validation.reason(),
                        validation.message(),
                        validation.causes(),
                        warnings,
                        null,
                        validation.decidedBy());
        return AdmissionReviews.render(request.uid(), combined, true);
    }
}
