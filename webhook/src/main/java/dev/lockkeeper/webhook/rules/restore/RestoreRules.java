package dev.lockkeeper.webhook.rules.restore;

import dev.lockkeeper.webhook.admission.AdmissionRule;
import dev.lockkeeper.webhook.policy.Policy;
import java.util.List;
import java.util.function.Supplier;

/** The restore-fix rules, in the order the chains run them. */
public final class RestoreRules {
    private RestoreRules() {}

    public static List<AdmissionRule> mutating(Supplier<Policy> policy) {
        return List.of();
    }

    public static List<AdmissionRule> validating(Supplier<Policy> policy) {
        return List.of();
    }
}
