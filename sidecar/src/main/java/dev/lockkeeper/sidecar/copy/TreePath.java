package dev.lockkeeper.sidecar.copy;

import dev.lockkeeper.sidecar.linux.FileNames;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Where an entry of a tree is, relative to the tree's root: the kernel's bytes for each name, joined with '/'.
 * Never decoded into a String except to be shown ({@link #toString}), so every name round-trips byte for byte
 * whatever the locale or the JVM's file-name encoding.
 */
public final class TreePath implements Comparable<TreePath> {
    public static final TreePath ROOT = new TreePath(new byte[0], 0);
    private static final byte[] DOT = {'.'};

    private final byte[] bytes;
    /** Where the last name starts. */
    private final int nameStart;

    private TreePath(byte[] bytes, int nameStart) {
        this.bytes = bytes;
        this.nameStart = nameStart;
    }

    /** {@code name}: one directory entry's name as the kernel gave it (no '/', not "." or ".."). */
    public TreePath child(byte[] name) {
        if (this == ROOT) return new TreePath(name.clone(), 0);
        byte[] joined = Arrays.copyOf(bytes, bytes.length + 1 + name.length);
        joined[bytes.length] = '/';
        System.arraycopy(name, 0, joined, bytes.length + 1, name.length);
        return new TreePath(joined, bytes.length + 1);
    }

    /**
     * The path made of {@code names}, each checked as a directory entry's name must be: not empty, at most
     * {@value #NAME_MAX} bytes, no '/' or NUL, not "." or "..". How names from an untrusted peer become a path:
     * no such path can leave the directory it is taken relative to, or name something else than one entry below it.
     *
     * @throws IllegalArgumentException naming the first name that is not one
     */
    public static TreePath ofNames(List<byte[]> names) {
        TreePath path = ROOT;
        for (byte[] name : names) {
            String refusal = refusal(name);
            if (refusal != null) throw new IllegalArgumentException("name " + FileNames.show(name) + " " + refusal);
            path = path.child(name);
        }
        return path;
    }

    /** The largest name Linux filesystems take (NAME_MAX). */
    public static final int NAME_MAX = 255;

    private static String refusal(byte[] name) {
        if (name.length == 0) return "is empty";
        if (name.length > NAME_MAX) return "is longer than " + NAME_MAX + " bytes";
        if (name.length == 1 && name[0] == '.' || name.length == 2 && name[0] == '.' && name[1] == '.')
            return "is a dot entry";
        for (byte b : name) {
            if (b == '/') return "holds a '/'";
            if (b == 0) return "holds a NUL byte";
        }
        return null;
    }

    /** The names this path is made of, root first; none for the root. */
    public List<byte[]> names() {
        List<byte[]> names = new ArrayList<>();
        int start = 0;
        for (int i = 0; i <= bytes.length && !isRoot(); i++) {
            if (i == bytes.length || bytes[i] == '/') {
                names.add(Arrays.copyOfRange(bytes, start, i));
                start = i + 1;
            }
        }
        return names;
    }

    /** The directory this entry is in; the root for a top-level entry. Not defined for the root itself. */
    public TreePath parent() {
        if (isRoot()) throw new IllegalStateException("the root has no parent");
        if (nameStart == 0) return ROOT;
        byte[] up = Arrays.copyOf(bytes, nameStart - 1);
        int start = 0;
        for (int i = up.length - 1; i >= 0; i--) {
            if (up[i] == '/') {
                start = i + 1;
                break;
            }
        }
        return new TreePath(up, start);
    }

    public boolean isRoot() {
        return bytes.length == 0;
    }

    /** Directly below the root. */
    public boolean isTopLevel() {
        return !isRoot() && nameStart == 0;
    }

    /** The last name's bytes. */
    public byte[] name() {
        return Arrays.copyOfRange(bytes, nameStart, bytes.length);
    }

    public boolean nameIs(String ascii) {
        return Arrays.equals(
                bytes, nameStart, bytes.length, ascii.getBytes(StandardCharsets.US_ASCII), 0, ascii.length());
    }

    /** The relative path for the *at() system calls; "." for the root itself. */
    public byte[] bytes() {
        return isRoot() ? DOT.clone() : bytes.clone();
    }

    /** Byte order, as {@code LC_ALL=C sort} orders paths: the same in every locale. */
    @Override
    public int compareTo(TreePath other) {
        return Arrays.compareUnsigned(bytes, other.bytes);
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof TreePath path && Arrays.equals(bytes, path.bytes);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(bytes);
    }

    /** As messages show it: "." for the root, names that are not valid UTF-8 with their bytes escaped. */
    @Override
    public String toString() {
        return isRoot() ? "." : FileNames.show(bytes);
    }
}
