package dev.lockkeeper.sidecar.agent;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

/** The mount points this process sees ({@code /proc/self/mountinfo}, field 5, octal escapes undone). */
final class MountPoints {
    private static final Path MOUNT_INFO = Path.of("/proc/self/mountinfo");

    private MountPoints() {}

    static boolean isMountPoint(Path path) {
        try {
            return current().contains(path.toString());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + MOUNT_INFO, e);
        }
    }

    static Set<String> current() throws IOException {
        Set<String> points = new HashSet<>();
        for (String line : Files.readAllLines(MOUNT_INFO, StandardCharsets.ISO_8859_1)) {
            String[] fields = line.split(" ");
            if (fields.length > 4) points.add(unescape(fields[4]));
        }
        return points;
    }

    /** The kernel writes space, tab, newline and backslash in mount points as {@code \ooo}; bytes stay bytes. */
    static String unescape(String field) {
        StringBuilder out = new StringBuilder(field.length());
        for (int i = 0; i < field.length(); i++) {
            char c = field.charAt(i);
            if (c == '\\'
                    && i + 3 < field.length()
                    && field.substring(i + 1, i + 4).chars().allMatch(d -> d >= '0' && d <= '7')) {
                out.append((char) Integer.parseInt(field.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                out.append(c);
            }
        }
        // read as ISO-8859-1, one char per byte; kubelet's paths are ASCII, anything else is taken as UTF-8
        return new String(out.toString().getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8);
    }
}
