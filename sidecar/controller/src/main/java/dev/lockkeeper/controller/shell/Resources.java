package dev.lockkeeper.controller.shell;

import dev.lockkeeper.controller.api.CopyTaskResource;
import dev.lockkeeper.controller.api.Keys;
import dev.lockkeeper.controller.api.VolumeCopy;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;

/** The custom resources, addressed without API discovery. */
public final class Resources {
    public static final ResourceDefinitionContext VOLUME_COPIES = context(VolumeCopy.KIND, VolumeCopy.PLURAL);
    public static final ResourceDefinitionContext COPY_TASKS = context(CopyTaskResource.KIND, CopyTaskResource.PLURAL);

    private Resources() {}

    private static ResourceDefinitionContext context(String kind, String plural) {
        return new ResourceDefinitionContext.Builder()
                .withGroup(Keys.GROUP)
                .withVersion(Keys.VERSION)
                .withKind(kind)
                .withPlural(plural)
                .withNamespaced(true)
                .build();
    }
}
