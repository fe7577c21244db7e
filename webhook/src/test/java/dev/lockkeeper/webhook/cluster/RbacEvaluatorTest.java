package dev.lockkeeper.webhook.cluster;

import static org.junit.jupiter.api.Assertions.*;

import dev.lockkeeper.webhook.support.TestCluster;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RbacEvaluatorTest {
    static final String RBAC = """
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRole
            metadata: {name: clone-source}
            rules: [{apiGroups: [cdi.kubevirt.io], resources: [datavolumes/source], verbs: [create]}]
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRole
            metadata: {name: pod-creator}
            rules: [{apiGroups: [""], resources: [pods], verbs: [create, get]}]
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRole
            metadata: {name: named-only}
            rules: [{apiGroups: [""], resources: [pods], verbs: [create], resourceNames: [fedora-40]}]
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRole
            metadata: {name: any-subresource-source}
            rules: [{apiGroups: ["*"], resources: ["*/source"], verbs: ["*"]}]
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRole
            metadata: {name: admin}
            aggregationRule:
              clusterRoleSelectors:
              - matchLabels: {aggregate-to-admin: "true"}
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRole
            metadata: {name: edit, labels: {aggregate-to-admin: "true"}}
            aggregationRule:
              clusterRoleSelectors:
              - matchExpressions: [{key: aggregate-to-edit, operator: In, values: ["true"]}]
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRole
            metadata: {name: cdi-edit, labels: {aggregate-to-edit: "true"}}
            rules: [{apiGroups: [cdi.kubevirt.io], resources: [datavolumes/source], verbs: [create]}]
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: Role
            metadata: {name: local-pvcs, namespace: golden-images}
            rules: [{apiGroups: [""], resources: [pvcs], verbs: [create]}]
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: RoleBinding
            metadata: {name: alice-clone, namespace: golden-images}
            subjects: [{kind: User, name: alice}]
            roleRef: {kind: ClusterRole, name: clone-source}
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: RoleBinding
            metadata: {name: team-a-sa, namespace: golden-images}
            subjects: [{kind: ServiceAccount, name: default, namespace: team-a}]
            roleRef: {kind: ClusterRole, name: named-only}
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: RoleBinding
            metadata: {name: all-sas-pvcs, namespace: golden-images}
            subjects: [{kind: Group, name: "system:serviceaccounts:team-b"}]
            roleRef: {kind: Role, name: local-pvcs}
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: RoleBinding
            metadata: {name: admins, namespace: golden-images}
            subjects: [{kind: Group, name: image-admins}]
            roleRef: {kind: ClusterRole, name: admin}
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRoleBinding
            metadata: {name: everyone-creates-pods}
            subjects: [{kind: Group, name: "system:authenticated"}]
            roleRef: {kind: ClusterRole, name: pod-creator}
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRoleBinding
            metadata: {name: sourcerers}
            subjects: [{kind: User, name: mallory}]
            roleRef: {kind: ClusterRole, name: any-subresource-source}
            """;

    final ManifestClusterView cluster = new ManifestClusterView(
            Manifests.read("rbac", new ByteArrayInputStream(RBAC.getBytes(StandardCharsets.UTF_8))));

    static AccessReview review(
            String user,
            List<String> groups,
            String namespace,
            String group,
            String resource,
            String subresource,
            String name) {
        return new AccessReview(user, groups, Map.of(), namespace, "create", group, resource, subresource, name);
    }

    static AccessReview cloneSource(String user, List<String> groups, String namespace) {
        return review(user, groups, namespace, "cdi.kubevirt.io", "datavolumes", "source", "fedora-40");
    }

    @Test
    void roleBindingGrantsOnlyInItsNamespace() {
        var allowed = assertInstanceOf(
                AccessDecision.Allowed.class, cluster.review(cloneSource("alice", List.of(), "golden-images")));
        assertEquals(
                "RBAC: allowed by RoleBinding \"alice-clone\" in namespace \"golden-images\" of ClusterRole \"clone-source\" to User \"alice\"",
                allowed.reason());
        assertInstanceOf(AccessDecision.Denied.class, cluster.review(cloneSource("alice", List.of(), "team-a")));
        assertInstanceOf(AccessDecision.Denied.class, cluster.review(cloneSource("bob", List.of(), "golden-images")));
    }

    @Test
    void subresourceMustBeNamedExactlyOrByStarSlash() {
        assertInstanceOf(
                AccessDecision.Denied.class,
                cluster.review(review("alice", List.of(), "golden-images", "cdi.kubevirt.io", "datavolumes", "", "x")),
                "datavolumes/source does not grant datavolumes");
        assertInstanceOf(AccessDecision.Allowed.class, cluster.review(cloneSource("mallory", List.of(), "anywhere")));
        assertInstanceOf(
                AccessDecision.Denied.class,
                cluster.review(
                        review("mallory", List.of(), "anywhere", "cdi.kubevirt.io", "datavolumes", "status", "x")));
    }

    @Test
    void verbAndApiGroupMustMatch() {
        assertInstanceOf(
                AccessDecision.Denied.class,
                cluster.review(new AccessReview(
                        "alice",
                        List.of(),
                        Map.of(),
                        "golden-images",
                        "delete",
                        "cdi.kubevirt.io",
                        "datavolumes",
                        "source",
                        "fedora-40")));
        assertInstanceOf(
                AccessDecision.Denied.class,
                cluster.review(review("alice", List.of(), "golden-images", "other.io", "datavolumes", "source", "x")));
    }

    @Test
    void resourceNamesRestrictTheGrant() {
        String sa = "system:serviceaccount:team-a:default";
        assertInstanceOf(
                AccessDecision.Allowed.class,
                cluster.review(review(sa, List.of(), "golden-images", "", "pods", "", "fedora-40")));
        // pods create is also granted to every authenticated user cluster-wide; use an anonymous-like user to isolate
        // resourceNames.
        assertInstanceOf(
                AccessDecision.Denied.class,
                cluster.review(review("system:anonymous", List.of(), "golden-images", "", "pods", "", "other")));
    }

    @Test
    void serviceAccountsGetTheirImplicitGroups() {
        assertInstanceOf(
                AccessDecision.Allowed.class,
                cluster.review(review(
                        "system:serviceaccount:team-b:builder", List.of(), "golden-images", "", "pvcs", "", "x")),
                "system:serviceaccounts:team-b is implicit");
        assertInstanceOf(
                AccessDecision.Denied.class,
                cluster.review(review(
                        "system:serviceaccount:team-c:builder", List.of(), "golden-images", "", "pvcs", "", "x")));
    }

    @Test
    void everyAuthenticatedUserIsInSystemAuthenticatedButAnonymousIsNot() {
        var allowed = assertInstanceOf(
                AccessDecision.Allowed.class, cluster.review(review("zoe", List.of(), "any", "", "pods", "", "x")));
        assertTrue(allowed.reason().contains("ClusterRoleBinding \"everyone-creates-pods\""), allowed.reason());
        assertInstanceOf(
                AccessDecision.Denied.class,
                cluster.review(review("system:anonymous", List.of(), "any", "", "pods", "", "x")));
    }

    @Test
    void aggregatedClusterRolesCollectRulesTransitively() {
        assertInstanceOf(
                AccessDecision.Allowed.class,
                cluster.review(cloneSource("ivan", List.of("image-admins"), "golden-images")),
                "admin aggregates edit which aggregates cdi-edit");
        assertInstanceOf(
                AccessDecision.Denied.class, cluster.review(cloneSource("ivan", List.of("image-admins"), "team-a")));
    }

    @Test
    void wildcardVerbsAndResources() {
        ManifestClusterView wildcard = new ManifestClusterView(
                Manifests.read("w", new ByteArrayInputStream("""
                apiVersion: rbac.authorization.k8s.io/v1
                kind: ClusterRole
                metadata: {name: all}
                rules: [{apiGroups: ["*"], resources: ["*"], verbs: ["*"]}]
                ---
                apiVersion: rbac.authorization.k8s.io/v1
                kind: ClusterRoleBinding
                metadata: {name: root}
                subjects: [{kind: User, name: root}]
                roleRef: {kind: ClusterRole, name: all}
                """.getBytes(StandardCharsets.UTF_8))));
        assertInstanceOf(AccessDecision.Allowed.class, wildcard.review(cloneSource("root", List.of(), "x")));
        assertInstanceOf(AccessDecision.Denied.class, wildcard.review(cloneSource("user", List.of(), "x")));
    }

    @Test
    void exampleClusterLoads() {
        assertFalse(TestCluster.with().list(ResourceType.NAMESPACE, null).isEmpty());
    }
}
