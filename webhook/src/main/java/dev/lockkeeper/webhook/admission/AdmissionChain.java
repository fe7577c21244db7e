package dev.lockkeeper.webhook.admission;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lockkeeper.webhook.cluster.ClusterView;
import dev.lockkeeper.webhook.json.Json;
import dev.lockkeeper.webhook.policy.EnforcementMode;
import dev.lockkeeper.webhook.policy.Policy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/**
 * The rules behind one endpoint. A mutating chain threads the object through every rule that handles it and answers
 * with one JSON Patch: the operations each rule's {@link ObjectEdit} recorded, in rule order, so a patch costs the size
 * of the change, never a whole-object diff; a validating chain never patches. The first denial decides; warnings from
 * every rule that ran are kept. The policy (one snapshot per review) is applied here and only here: excluded
 * namespaces skip every rule, the size limits are checked before the first rule, {@code off} skips a rule, {@code warn}
 * turns its denial or patch into a warning. A review is answered within its deadline whatever a rule does: late, it gets the failure policy of
 * the rule that was running.
 */
public final class AdmissionChain {

    public enum Stage {
        MUTATING("mutate"),
        VALIDATING("validate");

        private final String endpoint;

        Stage(String endpoint) {
            this.endpoint = endpoint;
        }

        public String endpoint() {
            return endpoint;
        }
    }

    private final Stage stage;
    private final List<AdmissionRule> rules;
    private final ClusterView cluster;
    private final RuleObserver observer;
    private final Supplier<Policy> policy;

    public AdmissionChain(
            Stage stage,
            List<AdmissionRule> rules,
            ClusterView cluster,
            RuleObserver observer,
            Supplier<Policy> policy) {
        this.stage = stage;
        this.rules = List.copyOf(rules);
        this.cluster = cluster;
        this.observer = observer;
        this.policy = policy;
    }

    public Stage stage() {
        return stage;
    }

    public Decision decide(AdmissionRequest request) {
        return decide(request, null);
    }

    /**
     * Decides within the budget the policy gives a review the API server abandons after {@code apiServerTimeout}
     * (null: not said). The rules run on their own virtual thread; past the deadline the answer is the failure
     * policy of the rule still running, given at once, and that thread is interrupted.
     */
    public Decision decide(AdmissionRequest request, Duration apiServerTimeout) {
        long started = System.nanoTime();
        Policy inForce = policy.get();
        ReviewContext review = ReviewContext.of(
                request, inForce, Deadline.after(inForce.limits().budget(apiServerTimeout)), cluster);
        Decision decision = withinDeadline(review);
        observer.reviewDecided(stage.endpoint(), decision.outcome(), System.nanoTime() - started);
        return decision;
    }

    private Decision withinDeadline(ReviewContext review) {
        AtomicReference<AdmissionRule> running = new AtomicReference<>();
        FutureTask<Decision> work = new FutureTask<>(() -> evaluate(review, running));
        Thread.ofVirtual().name("review-" + stage.endpoint()).start(work);
        try {
            return work.get(Math.max(0, review.deadline().remainingNanos()), TimeUnit.NANOSECONDS);
        } catch (TimeoutException | InterruptedException e) {
            if (e instanceof InterruptedException) Thread.currentThread().interrupt();
            // cancel fails only when the work finished in the meantime: then its answer stands.
            if (work.cancel(true)) return late(review, running.get());
            return finished(work);
        } catch (ExecutionException e) {
            throw rethrown(e);
        }
    }

    private static Decision finished(FutureTask<Decision> work) {
        try {
            return work.get();
        } catch (ExecutionException e) {
            throw rethrown(e);
        } catch (InterruptedException e) {
            throw new IllegalStateException("a finished review cannot block", e);
        }
    }

    /** The rules' own failure, as if they had run on this thread (AdmissionService answers errors and OOMs). */
    private static RuntimeException rethrown(ExecutionException e) {
        return switch (e.getCause()) {
            case RuntimeException failure -> failure;
            case Error error -> throw error;
            default -> new IllegalStateException(e.getCause());
        };
    }

    /**
     * The answer for a review whose deadline passed while {@code rule} ran (null: between rules): what the API server
     * would answer for the registration serving the rule. A rule in warn mode never denies, late or not.
     */
    private Decision late(ReviewContext review, AdmissionRule rule) {
        String who = rule == null ? "the review" : "rule " + rule.name();
        String deadline = who + " did not finish within the review's deadline of "
                + review.deadline().budget().toMillis() + " ms";
        FailurePolicy failure = rule == null ? FailurePolicy.FAIL : rule.failurePolicy();
        boolean warnOnly = rule != null && review.policy().mode(rule.name()) == EnforcementMode.WARN;
        if (rule != null)
            observer.ruleEvaluated(
                    stage.endpoint(),
                    rule.name(),
                    "timeout",
                    review.deadline().budget().toNanos());
        review.log()
                .warn(
                        "{}; answered with failurePolicy {}",
                        deadline,
                        warnOnly ? "Ignore (warn mode)" : failure.registration());
        if (failure == FailurePolicy.IGNORE || warnOnly) {
            return Decision.allowed(
                    List.of(deadline + "; allowed without it, as its webhook fails open"
                            + (warnOnly ? " in warn mode" : " (failurePolicy Ignore)")),
                    null);
        }
        return Decision.timedOut(
                rule == null ? "chain" : rule.name(),
                deadline + "; denied, as its webhook fails closed (failurePolicy Fail)");
    }

    private Decision evaluate(ReviewContext review, AtomicReference<AdmissionRule> running) {
        AdmissionRequest request = review.request();
        Policy inForce = review.policy();
        ObjectNode original = request.object();
        ObjectNode current = original;
        ArrayNode patch = Json.array();
        List<String> warnings = new ArrayList<>();
        if (inForce.excludes(request.objectNamespace())) return Decision.allowed(warnings, null);
        boolean anyRuleReads = rules.stream()
                .anyMatch(rule -> inForce.mode(rule.name()) != EnforcementMode.OFF && rule.handles(request));
        if (!anyRuleReads) return Decision.allowed(warnings, null);
        Decision tooLarge = ObjectLimits.check(original, inForce.limits());
        if (tooLarge != null) return tooLarge;
        for (AdmissionRule rule : rules) {
            AdmissionRequest seen = current == original ? request : request.withObject(current);
            EnforcementMode mode = inForce.mode(rule.name());
            if (mode == EnforcementMode.OFF || !rule.handles(seen)) continue;
            long started = System.nanoTime();
            Verdict verdict;
            running.set(rule);
            try {
                verdict = rule.admit(review.withRequest(seen));
            } catch (DeadlinePassed e) {
                // Interrupted: the chain has answered already and discards this result.
                return Thread.currentThread().isInterrupted() ? null : late(review, rule);
            } catch (RuntimeException e) {
                observer.ruleEvaluated(stage.endpoint(), rule.name(), "error", System.nanoTime() - started);
                Decision unreadable = WrongType.decision(rule.name(), e);
                if (unreadable != null) return unreadable;
                review.log().error("rule {} failed", rule.name(), e);
                return Decision.errored(
                        rule.name(),
                        "rule " + rule.name() + " failed inside the webhook; its log has the details (uid "
                                + request.uid() + ")");
            }
            warnings.addAll(verdict.warnings());
            if (mode == EnforcementMode.WARN) {
                String would = wouldHave(verdict, current);
                observer.ruleEvaluated(
                        stage.endpoint(),
                        rule.name(),
                        would == null ? "allowed" : "warned",
                        System.nanoTime() - started);
                if (would != null) warnings.add(rule.name() + " (warn mode) would " + would);
                running.set(null);
                continue;
            }
            switch (verdict) {
                case Verdict.Deny deny -> {
                    observer.ruleEvaluated(stage.endpoint(), rule.name(), "denied", System.nanoTime() - started);
                    return Decision.denied(deny, warnings, rule.name());
                }
                case Verdict.Allow allow -> {
                    boolean changed = stage == Stage.MUTATING && allow.mutated() != null;
                    if (changed) {
                        patch.addAll(allow.patch());
                        current = allow.mutated();
                    }
                    observer.ruleEvaluated(
                            stage.endpoint(),
                            rule.name(),
                            changed ? "patched" : "allowed",
                            System.nanoTime() - started);
                    running.set(null);
                }
            }
        }
        return Decision.allowed(warnings, patch.isEmpty() ? null : patch);
    }

    /** What an enforced verdict would have done, for a rule in warn mode; null when it would allow unchanged. */
    private String wouldHave(Verdict verdict, ObjectNode current) {
        return switch (verdict) {
            case Verdict.Deny deny -> "deny: " + deny.message();
            case Verdict.Allow allow
            when stage == Stage.MUTATING && allow.mutated() != null -> {
                ArrayNode patch = allow.patch();
                List<String> operations = new ArrayList<>();
                patch.forEach(op -> operations.add(
                        op.path("op").asText() + " " + op.path("path").asText()));
                yield "patch: " + String.join(", ", operations);
            }
            case Verdict.Allow allow -> null;
        };
    }
}
