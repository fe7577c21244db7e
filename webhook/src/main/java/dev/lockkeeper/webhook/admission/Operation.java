package dev.lockkeeper.webhook.admission;

public enum Operation {
    CREATE,
    UPDATE,
    DELETE,
    CONNECT
}
