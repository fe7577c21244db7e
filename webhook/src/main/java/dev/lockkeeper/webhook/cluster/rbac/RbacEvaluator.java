package dev.lockkeeper.webhook.cluster.rbac;

import dev.lockkeeper.webhook.cluster.AccessDecision;
import dev.lockkeeper.webhook.cluster.AccessReview;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorRequirement;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.api.model.rbac.RoleRef;
import io.fabric8.kubernetes.api.model.rbac.Subject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Kubernetes RBAC authorization over a fixed set of roles and bindings, with the semantics of
 * the API server's RBAC authorizer: verbs, API groups, {@code resource/subresource} and
 * {@code *}/{@code *\/sub} resources, resourceNames, aggregated ClusterRoles, and the groups every
 * authenticated user and service account implicitly belongs to.
 */
public final class RbacEvaluator {
    private static final String SERVICE_ACCOUNT_PREFIX = "system:serviceaccount:";

    private final Map<String, List<PolicyRule>> clusterRoleRules;
    private final Map<String, List<PolicyRule>> roleRules = new HashMap<>();
    private final List<RoleBinding> roleBindings;
    private final List<ClusterRoleBinding> clusterRoleBindings;

    public RbacEvaluator(
            List<Role> roles,
            List<ClusterRole> clusterRoles,
            List<RoleBinding> roleBindings,
            List<ClusterRoleBinding> clusterRoleBindings) {
        for (Role role : roles)
            roleRules.put(
                    role.getMetadata().getNamespace() + "/" + role.getMetadata().getName(), rules(role.getRules()));
        this.clusterRoleRules = aggregate(clusterRoles);
        this.roleBindings = List.copyOf(roleBindings);
        this.clusterRoleBindings = List.copyOf(clusterRoleBindings);
    }

    public AccessDecision evaluate(AccessReview review) {
        Set<String> groups = effectiveGroups(review);
        for (ClusterRoleBinding binding : clusterRoleBindings) {
            Subject subject = matchingSubject(binding.getSubjects(), review.user(), groups, "");
            if (subject == null) continue;
            if (anyRuleAllows(clusterRoleRules.get(binding.getRoleRef().getName()), review)) {
                return new AccessDecision.Allowed(reason(
                        "ClusterRoleBinding", binding.getMetadata().getName(), "", binding.getRoleRef(), subject));
            }
        }
        if (!review.namespace().isEmpty()) {
            for (RoleBinding binding : roleBindings) {
                String namespace = binding.getMetadata().getNamespace();
                if (!review.namespace().equals(namespace)) continue;
                Subject subject = matchingSubject(binding.getSubjects(), review.user(), groups, namespace);
                if (subject == null) continue;
                RoleRef ref = binding.getRoleRef();
                List<PolicyRule> rules = "Role".equals(ref.getKind())
                        ? roleRules.get(namespace + "/" + ref.getName())
                        : clusterRoleRules.get(ref.getName());
                if (anyRuleAllows(rules, review)) {
                    return new AccessDecision.Allowed(
                            reason("RoleBinding", binding.getMetadata().getName(), namespace, ref, subject));
                }
            }
        }
        String where = review.namespace().isEmpty() ? "cluster-wide" : "in namespace " + review.namespace();
        return new AccessDecision.Denied("no RBAC rule grants " + review.user() + " " + review.verb() + " on "
                + review.resourcePath() + (review.group().isEmpty() ? "" : "." + review.group()) + " " + where);
    }

    static Set<String> effectiveGroups(AccessReview review) {
        Set<String> groups = new LinkedHashSet<>(review.groups());
        String user = review.user();
        if (user.startsWith(SERVICE_ACCOUNT_PREFIX)) {
            String[] parts = user.substring(SERVICE_ACCOUNT_PREFIX.length()).split(":", 2);
            if (parts.length == 2) {
                groups.add("system:serviceaccounts");
                groups.add("system:serviceaccounts:" + parts[0]);
            }
        }
        if (!user.isEmpty() && !"system:anonymous".equals(user)) groups.add("system:authenticated");
        return groups;
    }

    private static Subject matchingSubject(
            List<Subject> subjects, String user, Set<String> groups, String bindingNamespace) {
        if (subjects == null) return null;
        for (Subject subject : subjects) {
            String name = subject.getName();
            boolean matches = switch (Objects.toString(subject.getKind(), "")) {
                case "User" -> name.equals(user);
                case "Group" -> groups.contains(name);
                case "ServiceAccount" -> {
                    String namespace = subject.getNamespace() == null
                                    || subject.getNamespace().isEmpty()
                            ? bindingNamespace
                            : subject.getNamespace();
                    yield user.equals(SERVICE_ACCOUNT_PREFIX + namespace + ":" + name);
                }
                default -> false;
            };
            if (matches) return subject;
        }
        return null;
    }

    private static boolean anyRuleAllows(List<PolicyRule> rules, AccessReview review) {
        if (rules == null) return false;
        for (PolicyRule rule : rules) if (ruleAllows(rule, review)) return true;
        return false;
    }

    static boolean ruleAllows(PolicyRule rule, AccessReview review) {
        return containsOrWildcard(rule.getVerbs(), review.verb())
                && containsOrWildcard(rule.getApiGroups(), review.group())
                && resourceMatches(rule.getResources(), review)
                && (empty(rule.getResourceNames()) || rule.getResourceNames().contains(review.name()));
    }

    private static boolean resourceMatches(List<String> resources, AccessReview review) {
        if (resources == null) return false;
        for (String resource : resources) {
            if (resource.equals("*") || resource.equals(review.resourcePath())) return true;
            if (!review.subresource().isEmpty() && resource.equals("*/" + review.subresource())) return true;
        }
        return false;
    }

    private static boolean containsOrWildcard(List<String> values, String wanted) {
        return values != null && (values.contains("*") || values.contains(wanted));
    }

    private static boolean empty(List<String> values) {
        return values == null || values.isEmpty();
    }

    private static List<PolicyRule> rules(List<PolicyRule> rules) {
        return rules == null ? List.of() : List.copyOf(rules);
    }

    /**
     * The aggregation controller copies into an aggregated ClusterRole the rules of every ClusterRole
     * its selectors match; matched roles may be aggregated themselves, so this runs to a fixpoint.
     */
    private static Map<String, List<PolicyRule>> aggregate(List<ClusterRole> clusterRoles) {
        Map<String, ClusterRole> byName = new HashMap<>();
        clusterRoles.forEach(role -> byName.put(role.getMetadata().getName(), role));
        Map<String, List<PolicyRule>> resolved = new HashMap<>();
        for (ClusterRole role : clusterRoles) {
            resolved.put(role.getMetadata().getName(), collect(role, byName, new HashSet<>()));
        }
        return resolved;
    }

    private static List<PolicyRule> collect(ClusterRole role, Map<String, ClusterRole> byName, Set<String> visiting) {
        String name = role.getMetadata().getName();
        if (!visiting.add(name)) return List.of();
        List<PolicyRule> rules = new ArrayList<>(rules(role.getRules()));
        if (role.getAggregationRule() != null && role.getAggregationRule().getClusterRoleSelectors() != null) {
            for (ClusterRole candidate : byName.values()) {
                if (candidate == role) continue;
                Map<String, String> labels = candidate.getMetadata().getLabels() == null
                        ? Map.of()
                        : candidate.getMetadata().getLabels();
                boolean selected = role.getAggregationRule().getClusterRoleSelectors().stream()
                        .anyMatch(s -> selects(s, labels));
                if (selected) rules.addAll(collect(candidate, byName, visiting));
            }
        }
        visiting.remove(name);
        return rules;
    }

    static boolean selects(LabelSelector selector, Map<String, String> labels) {
        if (selector == null) return false;
        if (selector.getMatchLabels() != null) {
            for (var entry : selector.getMatchLabels().entrySet()) {
                if (!entry.getValue().equals(labels.get(entry.getKey()))) return false;
            }
        }
        if (selector.getMatchExpressions() != null) {
            for (LabelSelectorRequirement requirement : selector.getMatchExpressions()) {
                String value = labels.get(requirement.getKey());
                List<String> values = requirement.getValues() == null ? List.of() : requirement.getValues();
                boolean ok = switch (requirement.getOperator()) {
                    case "In" -> value != null && values.contains(value);
                    case "NotIn" -> value == null || !values.contains(value);
                    case "Exists" -> value != null;
                    case "DoesNotExist" -> value == null;
                    default -> false;
                };
                if (!ok) return false;
            }
        }
        return true;
    }

    private static String reason(
            String bindingKind, String bindingName, String namespace, RoleRef ref, Subject subject) {
        String scope = namespace.isEmpty() ? "" : " in namespace \"" + namespace + "\"";
        return "RBAC: allowed by " + bindingKind + " \"" + bindingName + "\"" + scope + " of " + ref.getKind() + " \""
                + ref.getName() + "\" to " + subject.getKind() + " \"" + subject.getName() + "\"";
    }
}
