package dev.lockkeeper.sidecar.wire;

/**
 * What the data plane counts, for the agent to bind to its registry ({@code lockkeeper_agent_bytes_total{role,kind}},
 * {@code lockkeeper_agent_frame_crc_errors_total}, {@code lockkeeper_agent_resumes_total}). Called from transfer
 * threads: implementations must be quick and thread-safe.
 */
public interface WireMetrics {
    WireMetrics NONE = new WireMetrics() {};

    enum Role {
        SOURCE,
        TARGET
    }

    /** DATA bytes sent or written, or ZERO bytes (holes and zero runs) that crossed as headers only. */
    enum Kind {
        DATA,
        ZERO
    }

    default void bytes(Role role, Kind kind, long bytes) {}

    /** Bytes on the connection, frame headers included. */
    default void wireBytes(Role role, long bytes) {}

    default void crcError() {}

    /** An attempt that continued from a checkpoint rather than from byte 0. */
    default void resumed() {}
}
