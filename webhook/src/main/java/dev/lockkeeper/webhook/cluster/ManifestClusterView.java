package dev.lockkeeper.webhook.cluster;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lockkeeper.webhook.cluster.rbac.RbacEvaluator;
import dev.lockkeeper.webhook.json.Json;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The embedded cluster: objects loaded from manifests, SubjectAccessReviews answered by
 * {@link RbacEvaluator} over the RBAC objects among them. Immutable once built.
 */
public final class ManifestClusterView implements ClusterView {
    private static final String RBAC_GROUP = "rbac.authorization.k8s.io";

    private record TypeKey(String group, String kind) {}

    private final Map<TypeKey, Map<String, ObjectNode>> objects = new HashMap<>();
    private final RbacEvaluator rbac;

    public ManifestClusterView(List<ObjectNode> manifests) {
        for (ObjectNode object : manifests) {
            String apiVersion = Json.text(object, "apiVersion");
            String group = apiVersion.contains("/") ? apiVersion.substring(0, apiVersion.indexOf('/')) : "";
            objects.computeIfAbsent(new TypeKey(group, Json.text(object, "kind")), k -> new LinkedHashMap<>())
                    .put(
                            key(Json.text(object, "metadata", "namespace"), Json.text(object, "metadata", "name")),
                            object);
        }
        this.rbac = new RbacEvaluator(
                typed("Role", Role.class),
                typed("ClusterRole", ClusterRole.class),
                typed("RoleBinding", RoleBinding.class),
                typed("ClusterRoleBinding", ClusterRoleBinding.class));
    }

    @Override
    public Optional<ObjectNode> get(ResourceType type, String namespace, String name) {
        type.require(ResourceType.Access.INFORMER, "get");
        return lookup(type, namespace, name);
    }

    private Optional<ObjectNode> lookup(ResourceType type, String namespace, String name) {
        return Optional.ofNullable(byType(type).get(key(type.namespaced() ? namespace : "", name)));
    }

    @Override
    public List<ObjectNode> list(ResourceType type, String namespace) {
        type.require(ResourceType.Access.INFORMER, "list");
        List<ObjectNode> found = new ArrayList<>();
        for (ObjectNode object : byType(type).values()) {
            if (namespace == null || namespace.equals(Json.text(object, "metadata", "namespace"))) found.add(object);
        }
        return found;
    }

    @Override
    public List<ObjectNode> byIndex(ClusterIndex index, String key) {
        index.type().require(ResourceType.Access.INFORMER, "byIndex");
        List<ObjectNode> found = new ArrayList<>();
        for (ObjectNode object : byType(index.type()).values())
            if (index.keys().apply(object).contains(key)) found.add(object);
        return found;
    }

    @Override
    public Optional<ObjectNode> read(ResourceType type, String namespace, String name) {
        type.require(ResourceType.Access.DIRECT, "read");
        return lookup(type, namespace, name);
    }

    @Override
    public AccessDecision review(AccessReview review) {
        return rbac.evaluate(review);
    }

    @Override
    public boolean synced() {
        return true;
    }

    private Map<String, ObjectNode> byType(ResourceType type) {
        return objects.getOrDefault(new TypeKey(type.group(), type.kind()), Map.of());
    }

    private <T> List<T> typed(String kind, Class<T> type) {
        List<T> result = new ArrayList<>();
        for (ObjectNode node :
                objects.getOrDefault(new TypeKey(RBAC_GROUP, kind), Map.of()).values()) {
            try {
                result.add(Json.MAPPER.treeToValue(node, type));
            } catch (JsonProcessingException e) {
                throw new ManifestException(
                        kind + " " + Json.text(node, "metadata", "name") + " is malformed: " + e.getOriginalMessage());
            }
        }
        return result;
    }

    private static String key(String namespace, String name) {
        return namespace + "/" + name;
    }
}
