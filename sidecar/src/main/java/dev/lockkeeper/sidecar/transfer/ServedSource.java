package dev.lockkeeper.sidecar.transfer;

import dev.lockkeeper.sidecar.copy.Content;
import java.nio.file.Path;

/** A task's source end, resolved and contained by the source agent. */
public record ServedSource(String taskId, Path source, Content content) {}
