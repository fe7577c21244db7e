package dev.lockkeeper.webhook.admission;

public record GroupVersionResource(String group, String version, String resource) {}
