package dev.lockkeeper.sidecar.copy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** This process's view of /proc/self/mountinfo, read only to ask whether a tree spans more than one filesystem. */
final class MountTable {
    private static final Path MOUNT_INFO = Path.of("/proc/self/mountinfo");

    private MountTable() {}

    /** True when something is mounted strictly below {@code root} (a real path), or when that cannot be told. */
    static boolean hasMountsBelow(Path root) {
        List<String> lines;
        try {
            lines = Files.readAllLines(MOUNT_INFO);
        } catch (IOException e) {
            return true;
        }
        return hasMountsBelow(root, lines);
    }

    static boolean hasMountsBelow(Path root, List<String> mountInfoLines) {
        for (String line : mountInfoLines) {
            // "36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 - ext3 /dev/root rw": the 5th field is the mount point
            String[] fields = line.split(" ");
            if (fields.length < 5) return true;
            Path mountPoint = Path.of(unescape(fields[4]));
            if (mountPoint.startsWith(root) && !mountPoint.equals(root)) return true;
        }
        return false;
    }

    /** The kernel writes space, tab, newline and backslash in mount points as three-digit octal escapes. */
    static String unescape(String field) {
        if (field.indexOf('\\') < 0) return field;
        StringBuilder text = new StringBuilder(field.length());
        for (int i = 0; i < field.length(); i++) {
            char c = field.charAt(i);
            if (c == '\\' && isOctal(field, i + 1)) {
                text.append((char) Integer.parseInt(field.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                text.append(c);
            }
        }
        return text.toString();
    }

    private static boolean isOctal(String text, int from) {
        if (from + 3 > text.length()) return false;
        for (int i = from; i < from + 3; i++) {
            if (text.charAt(i) < '0' || text.charAt(i) > '7') return false;
        }
        return true;
    }
}
