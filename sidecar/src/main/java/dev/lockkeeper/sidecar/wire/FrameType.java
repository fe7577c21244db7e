package dev.lockkeeper.sidecar.wire;

/**
 * The frames of a session. The target drives: it sends HELLO, then RANGE and DIGEST_REQUEST as it needs them, then
 * BYE; the source answers INFO, then for each range its DATA and ZERO frames in offset order and an END, and DIGEST.
 * Either side may send ERROR (then closes) or KEEPALIVE (while it is busy without anything to send).
 *
 * <p>A tree (content archive) replaces RANGE by TREE (offset: the last durable ordinal, span: the offset inside the
 * next file); the source answers, per entry in its sorted walk, the entry's XATTR frames, its ENTRY record, for a file
 * its DATA and ZERO frames (offsets inside the file), and an END (offset: the entry's size); then TREE_END (offset:
 * the walk's last ordinal). XATTR, ENTRY and END carry the entry's ordinal where it is not the offset: XATTR and
 * ENTRY in their offset, END in its span.
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
    BYE(11, 0),
    TREE(12, 0),
    ENTRY(13, Frames.MAX_CONTROL_PAYLOAD),
    /** One extended attribute: Linux allows values up to 64 KiB, so its limit is a little over a control frame's. */
    XATTR(14, Frames.MAX_CONTROL_PAYLOAD + 1024),
    TREE_END(15, Frames.MAX_CONTROL_PAYLOAD);

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
