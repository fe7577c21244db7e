package dev.lockkeeper.webhook.rules;

/** CDI's annotation keys, spelled exactly as upstream so CDI's controllers honour them. */
public final class CdiAnnotations {
    public static final String PRE_POPULATED = "cdi.kubevirt.io/storage.prePopulated";
    public static final String CHECK_STATIC_VOLUME = "cdi.kubevirt.io/storage.checkStaticVolume";
    public static final String CLONE_TOKEN = "cdi.kubevirt.io/storage.clone.token";
    public static final String EXTENDED_CLONE_TOKEN = "cdi.kubevirt.io/storage.extended.clone.token";
    public static final String POPULATED_FOR = "cdi.kubevirt.io/storage.populatedFor";
    public static final String CONTENT_TYPE = "cdi.kubevirt.io/storage.contentType";

    private CdiAnnotations() {}
}
