package dev.lockkeeper.sidecar.wire;

import dev.lockkeeper.sidecar.copy.Content;
import dev.lockkeeper.sidecar.copy.TreeDigest;
import dev.lockkeeper.sidecar.copy.TreeEntry;
import dev.lockkeeper.sidecar.copy.TreePath;
import dev.lockkeeper.sidecar.linux.ExtendedAttribute;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.DateTimeException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** The payloads of the control frames, as DataOutput fields (big-endian numbers, modified UTF-8 strings). */
final class Messages {
    private Messages() {}

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
            Info info = read(
                    payload,
                    in -> new Info(
                            in.readLong(),
                            in.readLong(),
                            in.readInt(),
                            in.readBoolean(),
                            Content.valueOf(in.readUTF()),
                            in.readUTF()));
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

    /** Source → target: one entry of a tree; names as counted bytes, so none is ever decoded or split on '/'. */
    static byte[] entry(TreeEntry entry) {
        return write(out -> {
            out.writeByte(entry.kind().ordinal());
            writePath(out, entry.path());
            out.writeInt(entry.permissions());
            out.writeInt(entry.uid());
            out.writeInt(entry.gid());
            out.writeLong(entry.modified().getEpochSecond());
            out.writeInt(entry.modified().getNano());
            out.writeLong(entry.size());
            out.writeLong(entry.dataFrom());
            out.writeLong(entry.filesBefore());
            out.writeBoolean(entry.resent());
            switch (entry.kind()) {
                case SYMLINK -> writeBytes(out, entry.linkTarget());
                case HARD_LINK -> writePath(out, entry.firstName());
                default -> {}
            }
        });
    }

    /** Every name is checked ({@link TreePath#ofNames}) and every number bounded before the entry exists. */
    static TreeEntry entry(byte[] payload) throws FrameException {
        TreeEntry entry = read(payload, in -> {
            int kind = in.readUnsignedByte();
            if (kind >= TreeEntry.Kind.values().length) throw new FrameException("ENTRY of unknown kind " + kind);
            TreeEntry.Kind type = TreeEntry.Kind.values()[kind];
            TreePath path = readPath(in);
            int permissions = in.readInt();
            int uid = in.readInt();
            int gid = in.readInt();
            Instant modified = Instant.ofEpochSecond(in.readLong(), in.readInt());
            long size = in.readLong();
            long dataFrom = in.readLong();
            long filesBefore = in.readLong();
            boolean resent = in.readBoolean();
            byte[] linkTarget = type == TreeEntry.Kind.SYMLINK ? readBytes(in) : null;
            TreePath firstName = type == TreeEntry.Kind.HARD_LINK ? readPath(in) : null;
            return new TreeEntry(
                    type,
                    path,
                    permissions,
                    uid,
                    gid,
                    modified,
                    size,
                    dataFrom,
                    filesBefore,
                    linkTarget,
                    firstName,
                    resent);
        });
        if ((entry.permissions() & ~07777) != 0)
            throw new FrameException("ENTRY " + entry.path() + " with mode bits beyond 07777");
        if (entry.size() < 0 || entry.dataFrom() < 0 || entry.filesBefore() < 0 || entry.dataFrom() > entry.size()) {
            throw new FrameException("ENTRY " + entry.path() + " with a negative or inconsistent size");
        }
        if (entry.kind() != TreeEntry.Kind.FILE && (entry.size() != 0 || entry.dataFrom() != 0)) {
            throw new FrameException("ENTRY " + entry.path() + " that is not a file but has a size");
        }
        return entry;
    }

    static byte[] attribute(ExtendedAttribute attribute) {
        return write(out -> {
            writeBytes(out, attribute.name().getBytes(StandardCharsets.ISO_8859_1));
            out.writeInt(attribute.value().length);
            out.write(attribute.value());
        });
    }

    static ExtendedAttribute attribute(byte[] payload) throws FrameException {
        return read(payload, in -> {
            byte[] name = readBytes(in);
            if (name.length == 0 || name.length > 255)
                throw new FrameException("XATTR name of " + name.length + " bytes");
            for (byte b : name) if (b == 0) throw new FrameException("XATTR name with a NUL byte");
            int length = in.readInt();
            if (length < 0 || length > in.available())
                throw new FrameException("XATTR value of " + length + " bytes in a shorter frame");
            return new ExtendedAttribute(new String(name, StandardCharsets.ISO_8859_1), in.readNBytes(length));
        });
    }

    /** Source → target, the answer to a tree's DIGEST_REQUEST. */
    static byte[] treeDigest(TreeDigest.Summary summary) {
        return write(out -> {
            out.writeUTF(summary.content());
            out.writeUTF(summary.links());
        });
    }

    static TreeDigest.Summary treeDigest(byte[] payload) throws FrameException {
        return read(payload, in -> new TreeDigest.Summary(in.readUTF(), in.readUTF()));
    }

    private static void writePath(DataOutputStream out, TreePath path) throws IOException {
        List<byte[]> names = path.names();
        out.writeShort(names.size());
        for (byte[] name : names) writeBytes(out, name);
    }

    private static TreePath readPath(DataInputStream in) throws IOException {
        int count = in.readUnsignedShort();
        // a path the kernel could take has fewer than PATH_MAX / 2 names
        if (count > 2048) throw new FrameException("a path of " + count + " names");
        List<byte[]> names = new ArrayList<>(count);
        int total = 0;
        for (int i = 0; i < count; i++) {
            byte[] name = readBytes(in);
            total += name.length + 1;
            if (total > 4096) throw new FrameException("a path longer than PATH_MAX (4096 bytes)");
            names.add(name);
        }
        try {
            return TreePath.ofNames(names);
        } catch (IllegalArgumentException e) {
            throw new FrameException("refusing a path: " + e.getMessage());
        }
    }

    private static void writeBytes(DataOutputStream out, byte[] bytes) throws IOException {
        out.writeShort(bytes.length);
        out.write(bytes);
    }

    /** Counted bytes; a count beyond what the frame still holds is refused before anything is allocated. */
    private static byte[] readBytes(DataInputStream in) throws IOException {
        int length = in.readUnsignedShort();
        if (length > in.available())
            throw new FrameException("a field of " + length + " bytes in a frame with " + in.available() + " left");
        return in.readNBytes(length);
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
            if (in.available() > 0)
                throw new FrameException("control payload has " + in.available() + " trailing bytes");
            return value;
        } catch (FrameException e) {
            throw e;
        } catch (IOException | IllegalArgumentException | DateTimeException e) {
            throw new FrameException("malformed control payload: " + e.getMessage());
        }
    }
}
