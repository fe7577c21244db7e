package dev.lockkeeper.webhook.admission;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lockkeeper.webhook.cluster.ClusterView;
import dev.lockkeeper.webhook.policy.EnforcementMode;
import dev.lockkeeper.webhook.policy.Policy;
import io.fabric8.zjsonpatch.DiffFlags;
import io.fabric8.zjsonpatch.JsonDiff;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.function.Supplier;

/**
 * The rules behind one endpoint. A mutating chain threads the object through every rule that
 * handles it and answers with one JSON Patch from the original to the final object; a validating
 * chain never patches. The first denial decides; warnings from every rule that ran are kept.
 * The policy is applied here and only here: excluded namespaces skip every rule, {@code off}
 * skips a rule, {@code warn} turns its denial or patch into a warning.
 */
public final class AdmissionChain {
    /** The API server's default webhook timeout is 10 s; Lockkeeper registers 3 s or less, and keeps 0.5 s to answer. */
    static final java.time.Duration DEFAULT_BUDGET = java.time.Duration.ofMillis(2500);

    public enum Stage {
        MUTATING("mutate"), VALIDATING("validate");

        private final String endpoint;

        Stage(String endpoint) { this.endpoint = endpoint; }

        public String endpoint() { return endpoint; }
    }

    private final Stage stage;
    private final List<AdmissionRule> rules;
    private final ClusterView cluster;
    private final RuleObserver observer;
    private final Supplier<Policy> policy;

    public AdmissionChain(Stage stage, List<AdmissionRule> rules, ClusterView cluster, RuleObserver observer, Supplier<Policy> policy) {
        this.stage = stage;
        this.rules = List.copyOf(rules);
        this.cluster = cluster;
        this.observer = observer;
        this.policy = policy;
    }

    public Stage stage() { return stage; }

    public Decision decide(AdmissionRequest request) {
        return decide(request, Deadline.after(DEFAULT_BUDGET));
    }

    public Decision decide(AdmissionRequest request, Deadline deadline) {
        long started = System.nanoTime();
        Decision decision = evaluate(ReviewContext.of(request, policy.get(), deadline, cluster));
        observer.reviewDecided(stage.endpoint(), decision.outcome(), System.nanoTime() - started);
        return decision;
    }

    private Decision evaluate(ReviewContext review) {
        AdmissionRequest request = review.request();
        Policy inForce = review.policy();
        ObjectNode original = request.object();
        ObjectNode current = original;
        List<String> warnings = new ArrayList<>();
        if (inForce.excludes(request.objectNamespace())) return Decision.allowed(warnings, null);
        for (AdmissionRule rule : rules) {
            AdmissionRequest seen = current == original ? request : request.withObject(current);
            EnforcementMode mode = inForce.mode(rule.name());
            if (mode == EnforcementMode.OFF || !rule.handles(seen)) continue;
            long started = System.nanoTime();
            Verdict verdict;
            try {
                verdict = rule.admit(review.withRequest(seen));
            } catch (RuntimeException e) {
                observer.ruleEvaluated(stage.endpoint(), rule.name(), "error", System.nanoTime() - started);
                Decision unreadable = WrongType.decision(rule.name(), e);
                if (unreadable != null) return unreadable;
                review.log().error("rule {} failed", rule.name(), e);
                return Decision.errored(rule.name(), "rule " + rule.name() + " failed inside the webhook; its log has the details (uid "
                        + request.uid() + ")");
            }
            warnings.addAll(verdict.warnings());
            if (mode == EnforcementMode.WARN) {
                String would = wouldHave(verdict, current);
                observer.ruleEvaluated(stage.endpoint(), rule.name(), would == null ? "allowed" : "warned", System.nanoTime() - started);
                if (would != null) warnings.add(rule.name() + " (warn mode) would " + would);
                continue;
            }
            switch (verdict) {
                case Verdict.Deny deny -> {
                    observer.ruleEvaluated(stage.endpoint(), rule.name(), "denied", System.nanoTime() - started);
                    return Decision.denied(deny, warnings, rule.name());
                }
                case Verdict.Allow allow -> {
                    boolean changed = stage == Stage.MUTATING && allow.mutated() != null;
                    if (changed) current = allow.mutated();
                    observer.ruleEvaluated(stage.endpoint(), rule.name(), changed ? "patched" : "allowed",
                            System.nanoTime() - started);
                }
            }
        }
        return Decision.allowed(warnings, current == original ? null : diff(original, current));
    }

    /** What an enforced verdict would have done, for a rule in warn mode; null when it would allow unchanged. */
    private String wouldHave(Verdict verdict, ObjectNode current) {
        return switch (verdict) {
            case Verdict.Deny deny -> "deny: " + deny.message();
            case Verdict.Allow allow when stage == Stage.MUTATING && allow.mutated() != null -> {
                ArrayNode patch = diff(current, allow.mutated());
                if (patch == null) yield null;
                List<String> operations = new ArrayList<>();
                patch.forEach(op -> operations.add(op.path("op").asText() + " " + op.path("path").asText()));
                yield "patch: " + String.join(", ", operations);
            }
            case Verdict.Allow allow -> null;
        };
    }

    /** Only add/remove/replace: "copy" and "move" ops are valid but read badly in warnings and audit logs. */
    private static ArrayNode diff(JsonNode original, JsonNode mutated) {
        JsonNode patch = JsonDiff.asJson(original, mutated, EnumSet.of(DiffFlags.OMIT_VALUE_ON_REMOVE, DiffFlags.OMIT_COPY_OPERATION, DiffFlags.OMIT_MOVE_OPERATION));
        return patch.isEmpty() ? null : (ArrayNode) patch;
    }
}
