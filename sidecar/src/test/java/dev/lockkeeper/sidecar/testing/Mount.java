package dev.lockkeeper.sidecar.testing;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** A filesystem mounted for one test (root only), unmounted on close. */
public final class Mount implements AutoCloseable {
    private final Path point;

    private Mount(Path point) {
        this.point = point;
    }

    /** Mounts a fresh {@code type} filesystem ({@code tmpfs}, {@code ramfs}) at the new directory {@code point}. */
    public static Mount of(String type, Path point, String... options) throws Exception {
        List<String> command = new ArrayList<>(List.of("mount", "-t", type));
        if (options.length > 0) command.addAll(List.of("-o", String.join(",", options)));
        command.addAll(List.of(type, Files.createDirectory(point).toString()));
        Commands.ok(command.toArray(String[]::new));
        return new Mount(point);
    }

    /** Mounts the filesystem on {@code device} at the new directory {@code point}. */
    public static Mount device(Path device, Path point) throws Exception {
        Commands.ok("mount", device.toString(), Files.createDirectory(point).toString());
        return new Mount(point);
    }

    public Path point() {
        return point;
    }

    @Override
    public void close() {
        Commands.run("umount", point.toString());
    }
}
