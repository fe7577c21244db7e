package dev.lockkeeper.sidecar.transfer;

import java.util.Optional;

/**
 * What a finished task did.
 *
 * @param resumedFrom the checkpoint offset (or tree entries) this attempt started from, 0 for a fresh start
 * @param wireBytes   bytes received over the network in this attempt (frame headers included), 0 for a local copy
 * @param digest      the content digest both sides agreed on, when verified
 */
public record TransferOutcome(
        long bytesTotal, long dataBytes, long holeBytes, long resumedFrom, long wireBytes, Optional<String> digest) {}
