package dev.lockkeeper.sidecar.wire;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * The framing of node-to-node sessions (node-agent.md §3.3): a 28-byte big-endian header
 * {@code u8 type | u8 flags | u16 reserved | u32 length | u64 offset | u64 span | u32 crc32c}, then {@code length}
 * payload bytes. The CRC32C covers the first 24 header bytes and the payload, so a corrupted offset is caught as
 * surely as a corrupted byte of data. DATA carries at most 4 MiB (span = length); ZERO carries a run of any length
 * in its span and no payload; control frames carry at most 64 KiB. Anything else is refused before a payload byte is
 * read, so a hostile length never makes the reader allocate or wait for it.
 *
 * <p>One reader and one writer per connection. Over a {@link TlsChannel} data payloads go from and to native memory
 * directly; over any other stream through one {@value #COPY_BUFFER}-byte heap buffer, in pieces. Either way memory per
 * connection is fixed whatever the image size.
 */
final class Frames {
    static final int HEADER_BYTES = 28;
    static final int MAX_DATA_PAYLOAD = 4 << 20;
    static final int MAX_CONTROL_PAYLOAD = 64 << 10;
    static final int VERSION = 1;
    /** flags bit of ERROR: the failure is worth another attempt. */
    static final int RETRYABLE = 1;

    private static final int COVERED_HEADER_BYTES = 24;
    private static final int COPY_BUFFER = 256 << 10;

    private Frames() {}

    /** A received header, checked against its type's limits; the CRC is checked once the payload is read. */
    record Header(FrameType type, int flags, int length, long offset, long span, int crc) {}

    static final class Writer {
        private final OutputStream out;
        private final byte[] header = new byte[HEADER_BYTES];
        private final ByteBuffer headerView = ByteBuffer.wrap(header);
        /** Only for a stream that is not a {@link TlsChannel}: that one moves native memory itself. */
        private final byte[] copy;

        private long written;

        Writer(OutputStream out) {
            this.out = out;
            this.copy = out instanceof TlsChannel.Output ? null : new byte[COPY_BUFFER];
        }

        long bytesWritten() {
            return written;
        }

        void control(FrameType type, int flags, long offset, long span, byte[] payload) throws IOException {
            if (payload.length > type.maxPayload)
                throw new IllegalArgumentException(type + " payload of " + payload.length + " bytes");
            CRC32C crc = header(type, flags, payload.length, offset, span);
            crc.update(payload);
            headerView.putInt(COVERED_HEADER_BYTES, (int) crc.getValue());
            out.write(header);
            out.write(payload);
            written += HEADER_BYTES + payload.length;
        }

        void control(FrameType type, long offset, long span) throws IOException {
            control(type, 0, offset, span, new byte[0]);
        }

        /** A DATA frame; its CRC comes from {@link #dataCrc}, which a source runs ahead, on the thread that read. */
        void data(MemorySegment bytes, long offset, int crc) throws IOException {
            int length = dataLength(bytes);
            encodeHeader(headerView, FrameType.DATA, 0, length, offset, length);
            headerView.putInt(COVERED_HEADER_BYTES, crc);
            out.write(header);
            if (out instanceof TlsChannel.Output tls) {
                tls.write(bytes);
            } else {
                for (int done = 0; done < length; ) {
                    int n = Math.min(copy.length, length - done);
                    MemorySegment.copy(bytes, ValueLayout.JAVA_BYTE, done, copy, 0, n);
                    out.write(copy, 0, n);
                    done += n;
                }
            }
            written += HEADER_BYTES + length;
        }

        void flush() throws IOException {
            out.flush();
        }

        private CRC32C header(FrameType type, int flags, int length, long offset, long span) {
            encodeHeader(headerView, type, flags, length, offset, span);
            CRC32C crc = new CRC32C();
            crc.update(header, 0, COVERED_HEADER_BYTES);
            return crc;
        }
    }

    /** Checks a DATA payload received with {@link Reader#receive} against its frame's CRC; safe from any thread. */
    static void checkData(Header frame, MemorySegment payload) throws FrameException.Corrupt {
        check(frame, crcOf(frame.type(), frame.flags(), frame.length(), frame.offset(), frame.span(), payload));
    }

    private static void check(Header frame, int computed) throws FrameException.Corrupt {
        if (computed != frame.crc()) {
            throw new FrameException.Corrupt(frame.type() + " frame at offset " + frame.offset()
                    + " failed its CRC32C check (expected " + Integer.toHexString(frame.crc()) + ", computed "
                    + Integer.toHexString(computed) + ")");
        }
    }

    /**
     * The CRC32C a DATA frame of {@code bytes} at {@code offset} carries: a function of the bytes and the offset alone,
     * so a source can compute it on the thread that read the bytes, ahead of the send. Safe from any thread.
     */
    static int dataCrc(MemorySegment bytes, long offset) {
        int length = dataLength(bytes);
        return crcOf(FrameType.DATA, 0, length, offset, length, bytes);
    }

    /** The CRC of a frame with this header and payload, on a header buffer of its own (any thread may call it). */
    private static int crcOf(FrameType type, int flags, int length, long offset, long span, MemorySegment payload) {
        byte[] header = new byte[COVERED_HEADER_BYTES];
        encodeHeader(ByteBuffer.wrap(header), type, flags, length, offset, span);
        CRC32C crc = new CRC32C();
        crc.update(header);
        crc.update(payload.asByteBuffer());
        return (int) crc.getValue();
    }

    private static int dataLength(MemorySegment bytes) {
        long length = bytes.byteSize();
        if (length == 0 || length > MAX_DATA_PAYLOAD)
            throw new IllegalArgumentException("DATA payload of " + length + " bytes");
        return (int) length;
    }

    private static void encodeHeader(ByteBuffer view, FrameType type, int flags, int length, long offset, long span) {
        view.put(0, (byte) type.code)
                .put(1, (byte) flags)
                .putShort(2, (short) 0)
                .putInt(4, length)
                .putLong(8, offset)
                .putLong(16, span);
    }

    static final class Reader {
        private final InputStream in;
        private final byte[] header = new byte[HEADER_BYTES];
        private final ByteBuffer headerView = ByteBuffer.wrap(header);
        /** Only for a stream that is not a {@link TlsChannel}: that one moves native memory itself. */
        private final byte[] copy;

        private long read;

        Reader(InputStream in) {
            this.in = in;
            this.copy = in instanceof TlsChannel.Input ? null : new byte[COPY_BUFFER];
        }

        long bytesRead() {
            return read;
        }

        /** The next header; an end of stream before its first byte reads as a closed connection. */
        Header next() throws IOException {
            readFully(header, 0, HEADER_BYTES, "frame header");
            int code = header[0] & 0xff;
            FrameType type = FrameType.of(code);
            if (type == null) throw new FrameException("unknown frame type " + code);
            if (headerView.getShort(2) != 0) throw new FrameException(type + " frame with reserved bits set");
            long length = headerView.getInt(4) & 0xffffffffL;
            if (length > type.maxPayload) {
                throw new FrameException(type + " frame announces " + length + " payload bytes; at most "
                        + type.maxPayload + " are allowed");
            }
            long offset = headerView.getLong(8);
            long span = headerView.getLong(16);
            if (offset < 0 || span < 0) throw new FrameException(type + " frame with a negative offset or span");
            if (type == FrameType.DATA && (length == 0 || span != length)) {
                throw new FrameException("DATA frame of " + length + " bytes spans " + span);
            }
            return new Header(
                    type, header[1] & 0xff, (int) length, offset, span, headerView.getInt(COVERED_HEADER_BYTES));
        }

        /** The payload of a control frame, CRC-checked. */
        byte[] payload(Header frame) throws IOException {
            byte[] payload = new byte[frame.length()];
            readFully(payload, 0, payload.length, frame.type() + " payload");
            CRC32C crc = headerCrc();
            crc.update(payload);
            check(frame, (int) crc.getValue());
            return payload;
        }

        /** Reads a DATA payload into {@code target} (at least {@code frame.length()} bytes) and checks its CRC. */
        void payloadInto(Header frame, MemorySegment target) throws IOException {
            receive(frame, target);
            checkData(frame, target.asSlice(0, frame.length()));
        }

        /**
         * Reads a DATA payload into {@code target} without checking it: the caller runs {@link #checkData} on it
         * before anything uses the bytes (the target's writer does, so that the reader goes on decrypting).
         */
        void receive(Header frame, MemorySegment target) throws IOException {
            if (in instanceof TlsChannel.Input tls) {
                tls.readFully(target.asSlice(0, frame.length()));
                read += frame.length();
            } else {
                for (int done = 0; done < frame.length(); ) {
                    int n = Math.min(copy.length, frame.length() - done);
                    readFully(copy, 0, n, "DATA payload");
                    MemorySegment.copy(copy, 0, target, ValueLayout.JAVA_BYTE, done, n);
                    done += n;
                }
            }
        }

        private CRC32C headerCrc() {
            CRC32C crc = new CRC32C();
            crc.update(header, 0, COVERED_HEADER_BYTES);
            return crc;
        }

        private void readFully(byte[] into, int from, int length, String what) throws IOException {
            for (int done = 0; done < length; ) {
                int n = in.read(into, from + done, length - done);
                if (n < 0) {
                    throw new EOFException(
                            done == 0 && what.equals("frame header")
                                    ? "the peer closed the connection"
                                    : "the peer closed the connection inside a " + what + " (" + done + " of " + length
                                            + " bytes)");
                }
                done += n;
                read += n;
            }
        }
    }
}
