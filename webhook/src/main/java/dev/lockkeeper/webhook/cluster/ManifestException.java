package dev.lockkeeper.webhook.cluster;

/** A manifest that cannot be loaded into the embedded cluster; the message names the file. */
public final class ManifestException extends RuntimeException {
    public ManifestException(String message) {
        super(message);
    }
}
