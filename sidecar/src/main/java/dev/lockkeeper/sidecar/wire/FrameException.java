package dev.lockkeeper.sidecar.wire;

import java.io.IOException;

/** The peer sent something that is not a valid frame here: a broken or hostile stream, never written to disk. */
class FrameException extends IOException {
    FrameException(String message) {
        super(message);
    }

    /** A frame whose CRC32C does not match its header and payload: corrupted between the source's read and here. */
    static final class Corrupt extends FrameException {
        Corrupt(String message) {
            super(message);
        }
    }
}
