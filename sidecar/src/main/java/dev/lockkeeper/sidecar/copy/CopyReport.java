package dev.lockkeeper.sidecar.copy;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * What a finished copy did, for people, the in-cluster agent and tests.
 *
 * @param kind            which of the supported source→target pairs ran
 * @param scan            how the source's holes were found (for a tree: of its largest file)
 * @param logicalBytes    bytes the target reads back (holes included)
 * @param dataBytes       bytes actually written as data
 * @param holeBytes       bytes left or made as holes / zeroed
 * @param checksum        present when verified: the digest source and target both produced
 * @param skipped         what a tree copy left out, one line each naming the entry: FIFOs, sockets, device nodes,
 *                        mount points inside the tree, and extended attributes the target's filesystem or this
 *                        process's privileges refuse
 * @param files           regular files copied (for a tree: inodes, each once however many names it has)
 * @param hardLinks       further names of those files, made as hard links (their bytes are in none of the counts)
 */
public record CopyReport(
        Kind kind,
        Path writtenTo,
        ScanType scan,
        long logicalBytes,
        long dataBytes,
        long holeBytes,
        long files,
        Optional<String> checksum,
        List<String> skipped,
        long hardLinks) {

    /** A report without hard links: every image copy. */
    public CopyReport(
            Kind kind,
            Path writtenTo,
            ScanType scan,
            long logicalBytes,
            long dataBytes,
            long holeBytes,
            long files,
            Optional<String> checksum,
            List<String> skipped) {
        this(kind, writtenTo, scan, logicalBytes, dataBytes, holeBytes, files, checksum, skipped, 0);
    }

    public enum Kind {
        IMAGE_TO_IMAGE,
        IMAGE_TO_DISK_IMG,
        DISK_IMG_TO_IMAGE,
        TREE
    }

    /** How holes were told from data. */
    public enum ScanType {
        /** SEEK_DATA/SEEK_HOLE: holes are never read. */
        EXTENTS,
        /** The source cannot report holes (block devices): every byte is read and all-zero 4 KiB blocks become holes. */
        ZERO_SCAN,
        /** Nothing to scan: an empty source. */
        NONE
    }
}
