package dev.lockkeeper.webhook.policy;

/** A policy file that cannot be used; the message names the file and the offending field. */
public final class PolicyException extends Exception {
    public PolicyException(String message) {
        super(message);
    }
}
