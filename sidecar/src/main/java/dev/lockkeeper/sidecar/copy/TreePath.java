package dev.lockkeeper.sidecar.copy;

import dev.lockkeeper.sidecar.linux.FileNames;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

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
        return Arrays.equals(bytes, nameStart, bytes.length, ascii.getBytes(StandardCharsets.US_ASCII), 0, ascii.length());
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
