package dev.lockkeeper.sidecar.wire;

import dev.lockkeeper.sidecar.copy.Content;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/** The payloads of the control frames, as DataOutput fields (big-endian numbers, modified UTF-8 strings). */
final class Messages {
    private Messages() {
    }

    /** Target → source: the task it pulls, this attempt's number. */
    record Hello(String taskId, int attempt) {
        byte[] encode() {
            return write(out -> {
                out.writeUTF(taskId);
                out.writeInt(attempt);
            });
        }

        static Hello decode(byte[] payload) throws FrameException {
            return read(payload, in -> new Hello(in.readUTF(), in.readInt()));
        }
    }

    /** Source → target: what it serves. */
    record Info(long size, long allocatedBytes, int permissions, boolean extents, Content content, String fingerprint) {
        byte[] encode() {
            return write(out -> {
                out.writeLong(size);
                out.writeLong(allocatedBytes);
                out.writeInt(permissions);
                out.writeBoolean(extents);
                out.writeUTF(content.name());
                out.writeUTF(fingerprint);
            });
        }

        static Info decode(byte[] payload) throws FrameException {
            Info info = read(payload, in -> new Info(in.readLong(), in.readLong(), in.readInt(), in.readBoolean(),
                    Content.valueOf(in.readUTF()), in.readUTF()));
            if (info.size < 0 || info.allocatedBytes < 0) throw new FrameException("INFO with a negative size");
            return info;
        }
    }

    /** Source → target, closing a range: what the range held. */
    record End(long dataBytes, long zeroBytes) {
        byte[] encode() {
            return write(out -> {
                out.writeLong(dataBytes);
                out.writeLong(zeroBytes);
            });
        }

        static End decode(byte[] payload) throws FrameException {
            return read(payload, in -> new End(in.readLong(), in.readLong()));
        }
    }

    static byte[] text(String value) {
        return write(out -> out.writeUTF(value.length() > 16_000 ? value.substring(0, 16_000) : value));
    }

    static String text(byte[] payload) throws FrameException {
        return read(payload, in -> in.readUTF());
    }

    private interface Encoder {
        void write(DataOutputStream out) throws IOException;
    }

    private interface Decoder<T> {
        T read(DataInputStream in) throws IOException;
    }

    private static byte[] write(Encoder encoder) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            encoder.write(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    private static <T> T read(byte[] payload, Decoder<T> decoder) throws FrameException {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(payload))) {
            T value = decoder.read(in);
            if (in.available() > 0) throw new FrameException("control payload has " + in.available() + " trailing bytes");
            return value;
        } catch (FrameException e) {
            throw e;
        } catch (IOException | IllegalArgumentException e) {
            throw new FrameException("malformed control payload: " + e.getMessage());
        }
    }
}
