package dev.lockkeeper.sidecar.wire;

/**
 * The frames of a session. The target drives: it sends HELLO, then RANGE and DIGEST_REQUEST as it needs them, then
 * BYE; the source answers INFO, then for each range its DATA and ZERO frames in offset order and an END, and DIGEST.
 * Either side may send ERROR (then closes) or KEEPALIVE (while it is busy without anything to send).
 */
enum FrameType {
    HELLO(1, Frames.MAX_CONTROL_PAYLOAD),
    INFO(2, Frames.MAX_CONTROL_PAYLOAD),
    RANGE(3, 0),
    DATA(4, Frames.MAX_DATA_PAYLOAD),
    ZERO(5, 0),
    END(6, Frames.MAX_CONTROL_PAYLOAD),
    DIGEST_REQUEST(7, 0),
    DIGEST(8, Frames.MAX_CONTROL_PAYLOAD),
    ERROR(9, Frames.MAX_CONTROL_PAYLOAD),
    KEEPALIVE(10, 0),
    BYE(11, 0);

    private static final FrameType[] BY_CODE = new FrameType[16];

    static {
        for (FrameType type : values()) BY_CODE[type.code] = type;
    }

    final int code;
    final int maxPayload;

    FrameType(int code, int maxPayload) {
        this.code = code;
        this.maxPayload = maxPayload;
    }

    static FrameType of(int code) {
        return code >= 0 && code < BY_CODE.length ? BY_CODE[code] : null;
    }
}
