package dev.lockkeeper.webhook.admission;

public record GroupVersionKind(String group, String version, String kind) {}
