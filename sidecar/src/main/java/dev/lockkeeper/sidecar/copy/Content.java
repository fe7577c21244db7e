package dev.lockkeeper.sidecar.copy;

/**
 * What a volume holds, as upstream CDI's clone names it: {@code KUBEVIRT} means a filesystem volume carries
 * one raw disk image named {@code disk.img}, which is what lets a directory and a block device exchange data;
 * {@code ARCHIVE} means an arbitrary tree, which only copies to another directory.
 */
public enum Content {
    KUBEVIRT,
    ARCHIVE
}
