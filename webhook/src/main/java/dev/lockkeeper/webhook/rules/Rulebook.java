package dev.lockkeeper.webhook.rules;

import dev.lockkeeper.certs.token.CloneTokenSigner;
import dev.lockkeeper.webhook.admission.AdmissionChain;
import dev.lockkeeper.webhook.admission.AdmissionRule;
import dev.lockkeeper.webhook.admission.AdmissionService;
import dev.lockkeeper.webhook.admission.RuleObserver;
import dev.lockkeeper.webhook.cluster.ClusterView;
import dev.lockkeeper.webhook.cluster.ResourceType;
import dev.lockkeeper.webhook.policy.Policy;
import dev.lockkeeper.webhook.policy.PolicyException;
import dev.lockkeeper.webhook.policy.PolicyParser;
import dev.lockkeeper.webhook.policy.PolicySource;
import dev.lockkeeper.webhook.rules.clone.CloneAuthorizer;
import dev.lockkeeper.webhook.rules.clone.CloneCompatibilityWarnings;
import dev.lockkeeper.webhook.rules.clone.DataVolumeCloneAuthorization;
import dev.lockkeeper.webhook.rules.clone.VirtualMachineCloneAuthorization;
import dev.lockkeeper.webhook.rules.copy.CopyAccounts;
import dev.lockkeeper.webhook.rules.copy.CopyTaskWrites;
import dev.lockkeeper.webhook.rules.copy.DataVolumeDataMover;
import dev.lockkeeper.webhook.rules.copy.PodMountsCopySource;
import dev.lockkeeper.webhook.rules.copy.VolumeCopyCloneAuthorization;
import dev.lockkeeper.webhook.rules.datavolume.DataVolumeSpecValidation;
import dev.lockkeeper.webhook.rules.export.ExportRules;
import dev.lockkeeper.webhook.rules.restore.RestoreRules;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Supplier;

/** Every rule, which endpoint runs it, and which resources the live cluster view must watch for them. */
public final class Rulebook {
    public static final String DEFAULT_CLONE_SOURCE_ROLE = "lockkeeper:clone-source";

    /** What the rules read from the cluster; the live view runs one informer per entry. */
    public static final List<ResourceType> WATCHED = ResourceType.INFORMER_BACKED;

    private Rulebook() {}

    /**
     * Restore fixes run first: a restored DataVolume they mark pre-populated must not be treated
     * as a new clone (no permission check, no token) by the clone authorizer after them.
     */
    public static List<AdmissionRule> mutating(CloneAuthorizer authorizer, CloneTokenSigner tokens) {
        return mutating(authorizer, tokens, CopyAccounts.DEFAULT);
    }

    public static List<AdmissionRule> mutating(
            CloneAuthorizer authorizer, CloneTokenSigner tokens, CopyAccounts accounts) {
        List<AdmissionRule> rules = new ArrayList<>(RestoreRules.mutating());
        rules.add(new DataVolumeCloneAuthorization(authorizer, tokens));
        // After the clone authorization: it judges and tokens the DataVolume's PVC source before this rule moves it.
        rules.add(new DataVolumeDataMover());
        rules.add(new VolumeCopyCloneAuthorization(authorizer, tokens, accounts));
        return rules;
    }

    /** The validating rules, trusting the default installation's controller and agent service accounts. */
    public static List<AdmissionRule> validating(CloneAuthorizer authorizer) {
        return validating(authorizer, CopyAccounts.DEFAULT);
    }

    public static List<AdmissionRule> validating(CloneAuthorizer authorizer, CopyAccounts accounts) {
        List<AdmissionRule> rules = new ArrayList<>(List.of(
                new DataVolumeSpecValidation(),
                new CloneCompatibilityWarnings(),
                new VirtualMachineCloneAuthorization(authorizer)));
        rules.addAll(ExportRules.validating());
        rules.addAll(RestoreRules.validating());
        rules.add(new PodMountsCopySource(accounts));
        rules.add(new CopyTaskWrites(accounts));
        return rules;
    }

    public static AdmissionService service(
            ClusterView cluster,
            CloneTokenSigner tokens,
            String cloneSourceRole,
            RuleObserver observer,
            Supplier<Policy> policy) {
        return service(cluster, tokens, cloneSourceRole, CopyAccounts.DEFAULT, observer, policy);
    }

    public static AdmissionService service(
            ClusterView cluster,
            CloneTokenSigner tokens,
            String cloneSourceRole,
            CopyAccounts accounts,
            RuleObserver observer,
            Supplier<Policy> policy) {
        CloneAuthorizer authorizer = new CloneAuthorizer(cloneSourceRole);
        return new AdmissionService(
                new AdmissionChain(
                        AdmissionChain.Stage.MUTATING,
                        mutating(authorizer, tokens, accounts),
                        cluster,
                        observer,
                        policy),
                new AdmissionChain(
                        AdmissionChain.Stage.VALIDATING, validating(authorizer, accounts), cluster, observer, policy));
    }

    /** Names a policy file may set modes for. */
    public static Set<String> ruleNames() {
        CloneAuthorizer authorizer = new CloneAuthorizer(DEFAULT_CLONE_SOURCE_ROLE);
        Set<String> names = new TreeSet<>();
        mutating(authorizer, null).forEach(rule -> names.add(rule.name()));
        validating(authorizer).forEach(rule -> names.add(rule.name()));
        return names;
    }

    public static PolicyParser policyParser() {
        return new PolicyParser(ruleNames());
    }

    /** The policy in {@code file}, or the default (every rule denies) when there is no file. */
    public static PolicySource policy(Path file) throws PolicyException {
        return file == null ? PolicySource.fixed(Policy.DEFAULT) : PolicySource.fromFile(file, policyParser());
    }
}
