package dev.lockkeeper.webhook.rules;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lockkeeper.certs.KeyPairs;
import dev.lockkeeper.certs.token.CloneTokenSigner;
import dev.lockkeeper.webhook.admission.Operation;
import dev.lockkeeper.webhook.admission.RuleObserver;
import dev.lockkeeper.webhook.admission.UserInfo;
import dev.lockkeeper.webhook.cluster.ClusterView;
import dev.lockkeeper.webhook.cluster.ManifestClusterView;
import dev.lockkeeper.webhook.cluster.Manifests;
import dev.lockkeeper.webhook.policy.Policy;
import dev.lockkeeper.webhook.rules.clone.CloneAuthorization;
import dev.lockkeeper.webhook.rules.clone.CloneAuthorizer;
import dev.lockkeeper.webhook.rules.clone.CloneSource;
import dev.lockkeeper.webhook.rules.clone.Requester;
import dev.lockkeeper.webhook.support.Reviews;
import dev.lockkeeper.webhook.support.TestCluster;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * CDI v1.66 {@code tests/webhook_test.go}, "Verify DataVolume validation / Authorization checks": the two
 * tables "should deny/allow user when creating PVC clone datavolume" and "... snapshot clone datavolume", which
 * exercise {@code authorize_utils.go} ({@code CanServiceAccountClonePVC}, {@code CanServiceAccountCloneSnapshot},
 * {@code sendSubjectAccessReviews*}) against real RBAC. Here the RBAC is real too: the roles and bindings of the
 * upstream test, evaluated by Lockkeeper's RBAC authorizer (embedded mode). Each row checks, as upstream does,
 * the service account's own create of the clone DataVolume (denied, then allowed once the role is bound in the
 * source namespace) and the "manual check" {@code AuthorizeSA} (refused with a reason, then granted).
 */
class CloneAuthorizationUpstreamTest {
    static final String SOURCE_NAMESPACE = "cdi-e2e-tests";
    static final String TARGET_NAMESPACE = "cdi-auth-webhook-test";
    static final String SERVICE_ACCOUNT = "cdi-auth-webhook-test";
    static final String TOKEN = "cdi.kubevirt.io/storage.clone.token";

    static final String EXPLICIT_ROLE = """
            {apiVersion: rbac.authorization.k8s.io/v1, kind: Role, metadata: {name: explicit-role, namespace: %s},
             rules: [{apiGroups: [cdi.kubevirt.io], resources: [datavolumes, datavolumes/source], verbs: ["*"]}]}
            """;
    static final String IMPLICIT_ROLE = """
            {apiVersion: rbac.authorization.k8s.io/v1, kind: Role, metadata: {name: implicit-role, namespace: %s},
             rules: [{apiGroups: [cdi.kubevirt.io], resources: [datavolumes], verbs: ["*"]},
                     {apiGroups: [""], resources: [pods], verbs: [create]}]}
            """;
    /** Upstream grants the literal resource "pvcs", the string its snapshot SubjectAccessReview asks about. */
    static final String IMPLICIT_ROLE_SNAPSHOT = """
            {apiVersion: rbac.authorization.k8s.io/v1, kind: Role, metadata: {name: implicit-role, namespace: %s},
             rules: [{apiGroups: [cdi.kubevirt.io], resources: [datavolumes], verbs: ["*"]},
                     {apiGroups: [""], resources: [pods], verbs: [create]},
                     {apiGroups: [""], resources: [pvcs], verbs: [create]}]}
            """;

    enum Source {
        PVC,
        SNAPSHOT
    }

    static Stream<Arguments> upstream() {
        return Stream.of(
                // "should deny/allow user when creating PVC clone datavolume"
                Arguments.of(
                        "[test_id:3935]when using explicit CDI permissions",
                        Source.PVC,
                        EXPLICIT_ROLE,
                        SERVICE_ACCOUNT,
                        "",
                        true),
                Arguments.of(
                        "when using explicit CDI permissions and all serviceaccounts",
                        Source.PVC,
                        EXPLICIT_ROLE,
                        "",
                        "system:serviceaccounts",
                        true),
                Arguments.of(
                        "when using explicit CDI permissions and all serviceaccounts (system:authenticated)",
                        Source.PVC,
                        EXPLICIT_ROLE,
                        "",
                        "system:authenticated",
                        true),
                Arguments.of(
                        "[test_id:3936]when using implicit CDI permissions",
                        Source.PVC,
                        IMPLICIT_ROLE,
                        SERVICE_ACCOUNT,
                        "",
                        true),
                // "should deny/allow user when creating snapshot clone datavolume"
                Arguments.of(
                        "snapshot: when using explicit CDI permissions",
                        Source.SNAPSHOT,
                        EXPLICIT_ROLE,
                        SERVICE_ACCOUNT,
                        "",
                        true),
                Arguments.of(
                        "snapshot: when using explicit CDI permissions and all serviceaccounts",
                        Source.SNAPSHOT,
                        EXPLICIT_ROLE,
                        "",
                        "system:serviceaccounts",
                        true),
                Arguments.of(
                        "snapshot: when using explicit CDI permissions and all serviceaccounts (system:authenticated)",
                        Source.SNAPSHOT,
                        EXPLICIT_ROLE,
                        "",
                        "system:authenticated",
                        true),
                Arguments.of(
                        "snapshot: when using implicit snapshot clone suitable CDI permissions",
                        Source.SNAPSHOT,
                        IMPLICIT_ROLE_SNAPSHOT,
                        SERVICE_ACCOUNT,
                        "",
                        true),
                Arguments.of(
                        "snapshot: when using implicit insufficient pvc clone suitable CDI permissions",
                        Source.SNAPSHOT,
                        IMPLICIT_ROLE,
                        SERVICE_ACCOUNT,
                        "",
                        false));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("upstream")
    void decidesAsCdisAuthorizationChecks(
            String upstreamCase,
            Source source,
            String role,
            String boundServiceAccount,
            String boundGroup,
            boolean sufficient) {
        String insufficient = "User system:serviceaccount:" + TARGET_NAMESPACE + ":" + SERVICE_ACCOUNT
                + " has insufficient permissions in clone source namespace " + SOURCE_NAMESPACE;

        ClusterView before = cluster("");
        JsonNode denied = createAsServiceAccount(before, source);
        assertFalse(denied.path("allowed").asBoolean(), upstreamCase + ": " + denied);
        assertTrue(denied.path("status").path("message").asText().startsWith(insufficient), denied.toString());
        CloneAuthorization manual = authorizeServiceAccount(before, source);
        assertEquals(
                insufficient,
                assertInstanceOf(CloneAuthorization.Refused.class, manual).upstreamMessage());

        ClusterView after = cluster(role.formatted(SOURCE_NAMESPACE) + "---\n"
                + roleBinding(SOURCE_NAMESPACE, role, boundServiceAccount, boundGroup));
        JsonNode second = createAsServiceAccount(after, source);
        CloneAuthorization secondManual = authorizeServiceAccount(after, source);
        if (!sufficient) {
            assertFalse(second.path("allowed").asBoolean(), upstreamCase + ": " + second);
            assertTrue(
                    second.path("status")
                            .path("message")
                            .asText()
                            .contains("insufficient permissions in clone source namespace"),
                    second.toString());
            assertInstanceOf(CloneAuthorization.Refused.class, secondManual);
            return;
        }
        assertTrue(second.path("allowed").asBoolean(), upstreamCase + ": " + second);
        assertTrue(
                second.path("patch").asText().length() > 0, "the clone across namespaces carries a token: " + second);
        assertInstanceOf(CloneAuthorization.Granted.class, secondManual, upstreamCase);
    }

    /** The target namespace's own role (upstream's BeforeEach) plus what the row binds in the source namespace. */
    static ClusterView cluster(String sourceNamespaceRbac) {
        String objects = """
                {apiVersion: v1, kind: Namespace, metadata: {name: %1$s}}
                ---
                {apiVersion: v1, kind: Namespace, metadata: {name: %2$s}}
                ---
                {apiVersion: v1, kind: PersistentVolumeClaim, metadata: {name: source-pvc, namespace: %1$s},
                 spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}, status: {phase: Bound}}
                ---
                {apiVersion: snapshot.storage.k8s.io/v1, kind: VolumeSnapshot, metadata: {name: snap-source-pvc, namespace: %1$s},
                 spec: {source: {persistentVolumeClaimName: source-pvc}}, status: {readyToUse: true, restoreSize: 1Gi}}
                ---
                %3$s
                """.formatted(
                        SOURCE_NAMESPACE,
                        TARGET_NAMESPACE,
                        EXPLICIT_ROLE.formatted(TARGET_NAMESPACE) + "---\n"
                                + roleBinding(TARGET_NAMESPACE, EXPLICIT_ROLE, SERVICE_ACCOUNT, ""));
        if (!sourceNamespaceRbac.isEmpty()) objects += "---\n" + sourceNamespaceRbac;
        return new ManifestClusterView(
                Manifests.read("upstream-rbac", new ByteArrayInputStream(objects.getBytes(StandardCharsets.UTF_8))));
    }

    /** Upstream's {@code addPermissionToNamespace}: RoleBinding "rb" to the role, for the service account and/or a group. */
    static String roleBinding(String namespace, String role, String serviceAccount, String group) {
        String roleName = role.contains("explicit-role") ? "explicit-role" : "implicit-role";
        StringBuilder subjects = new StringBuilder();
        if (!serviceAccount.isEmpty()) {
            subjects.append("{kind: ServiceAccount, name: ")
                    .append(serviceAccount)
                    .append(", namespace: ")
                    .append(TARGET_NAMESPACE)
                    .append("}");
        }
        if (!group.isEmpty()) {
            if (!subjects.isEmpty()) subjects.append(", ");
            subjects.append("{kind: Group, name: '").append(group).append("', apiGroup: rbac.authorization.k8s.io}");
        }
        return """
                {apiVersion: rbac.authorization.k8s.io/v1, kind: RoleBinding, metadata: {name: rb, namespace: %s},
                 roleRef: {kind: Role, name: %s, apiGroup: rbac.authorization.k8s.io}, subjects: [%s]}
                """.formatted(namespace, roleName, subjects);
    }

    /** The service account's client creating upstream's {@code NewCloningDataVolume} / snapshot clone DataVolume. */
    static JsonNode createAsServiceAccount(ClusterView cluster, Source source) {
        String sourceSpec = switch (source) {
            case PVC ->
                "source: {pvc: {namespace: " + SOURCE_NAMESPACE
                        + ", name: source-pvc}}\n  pvc: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}";
            case SNAPSHOT ->
                "source: {snapshot: {namespace: " + SOURCE_NAMESPACE
                        + ", name: snap-source-pvc}}\n  storage: {volumeMode: Filesystem, resources: {requests: {storage: 1Gi}}}";
        };
        String dataVolume = """
                apiVersion: cdi.kubevirt.io/v1beta1
                kind: DataVolume
                metadata: {name: target-dv, namespace: %s}
                spec:
                  %s
                """.formatted(TARGET_NAMESPACE, sourceSpec);
        UserInfo serviceAccount = new UserInfo(
                "system:serviceaccount:" + TARGET_NAMESPACE + ":" + SERVICE_ACCOUNT,
                "uid-sa",
                List.of("system:serviceaccounts", "system:serviceaccounts:" + TARGET_NAMESPACE, "system:authenticated"),
                Map.of());
        var service = Rulebook.service(
                cluster,
                new CloneTokenSigner(KeyPairs.newEd25519().getPrivate(), Clock.systemUTC()),
                Rulebook.DEFAULT_CLONE_SOURCE_ROLE,
                RuleObserver.NONE,
                () -> Policy.DEFAULT);
        return service.reviewEndToEnd(Reviews.dataVolume(
                        Operation.CREATE, TARGET_NAMESPACE, TestCluster.yaml(dataVolume), null, serviceAccount))
                .path("response");
    }

    /** Upstream's manual {@code targetDV.AuthorizeSA(...)}: the same check for the service account as a requester. */
    static CloneAuthorization authorizeServiceAccount(ClusterView cluster, Source source) {
        CloneSource.Located located = switch (source) {
            case PVC ->
                new CloneSource.Located(CloneSource.Kind.PVC, SOURCE_NAMESPACE, "source-pvc", "spec.source.pvc");
            case SNAPSHOT ->
                new CloneSource.Located(
                        CloneSource.Kind.SNAPSHOT, SOURCE_NAMESPACE, "snap-source-pvc", "spec.source.snapshot");
        };
        return new CloneAuthorizer(Rulebook.DEFAULT_CLONE_SOURCE_ROLE)
                .authorize(new Requester.ServiceAccount(TARGET_NAMESPACE, SERVICE_ACCOUNT), located, cluster);
    }
}
