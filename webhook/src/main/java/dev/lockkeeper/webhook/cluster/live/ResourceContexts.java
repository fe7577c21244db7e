package dev.lockkeeper.webhook.cluster.live;

import dev.lockkeeper.webhook.cluster.ResourceType;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;

/** fabric8's name for a {@link ResourceType}: how generic informers and reads address it. */
public final class ResourceContexts {
    private ResourceContexts() {}

    public static ResourceDefinitionContext of(ResourceType type) {
        return new ResourceDefinitionContext.Builder()
                .withGroup(type.group())
                .withVersion(type.version())
                .withPlural(type.plural())
                .withKind(type.kind())
                .withNamespaced(type.namespaced())
                .build();
    }
}
