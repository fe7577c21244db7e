package dev.lockkeeper.sidecar.wire;

import dev.lockkeeper.sidecar.copy.Content;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;

/**
 * A source node that holds a valid certificate for "src" but speaks a forged stream: it answers HELLO with the
 * {@link Messages.Info} it is given, then lets a {@link Conversation} read the target's requests and write frames by
 * hand (with valid CRCs unless the conversation says otherwise).
 */
final class ForgedSource implements AutoCloseable {
    /** Everything after INFO; {@code raw} reaches the socket without framing. */
    interface Conversation {
        void talk(Frames.Reader in, Frames.Writer out, OutputStream raw) throws IOException;
    }

    /** A tree stream's frames, written once the target has asked for the tree. */
    interface Script {
        void send(Frames.Writer out, OutputStream raw) throws IOException;
    }

    private final SSLServerSocket listener;
    private final Thread server;

    /** A tree source whose walk is {@code script}. */
    ForgedSource(NodeTls tls, Script script) throws IOException {
        this(tls, new Messages.Info(1 << 20, 1 << 20, 0, true, Content.ARCHIVE, "tree:forged"), (in, out, raw) -> {
            in.next(); // TREE
            script.send(out, raw);
        });
    }

    ForgedSource(NodeTls tls, Messages.Info info, Conversation conversation) throws IOException {
        listener = (SSLServerSocket)
                tls.context().getServerSocketFactory().createServerSocket(0, 1, InetAddress.getLoopbackAddress());
        listener.setSSLParameters(tls.serverParameters());
        server = Thread.ofVirtual().start(() -> {
            try (SSLSocket socket = (SSLSocket) listener.accept()) {
                Frames.Reader in = new Frames.Reader(new BufferedInputStream(socket.getInputStream()));
                BufferedOutputStream raw = new BufferedOutputStream(socket.getOutputStream());
                Frames.Writer out = new Frames.Writer(raw);
                in.payload(in.next()); // HELLO
                out.control(FrameType.INFO, 0, 0, 0, info.encode());
                out.flush();
                conversation.talk(in, out, raw);
                out.flush();
                raw.flush();
                while (true) in.payload(in.next()); // until the target hangs up
            } catch (IOException e) {
                // the target hung up: what the test expects
            }
        });
    }

    InetSocketAddress address() {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), listener.getLocalPort());
    }

    /** The root entry every stream starts with. */
    static void root(Frames.Writer out) throws IOException {
        out.control(FrameType.ENTRY, 0, 0, 0, entry(0, List.of(), 0, null, null));
        out.control(FrameType.END, 0, 0, 0, new byte[0]);
    }

    /** An ENTRY payload with names exactly as given (none split, none checked), kind as in TreeEntry.Kind's order. */
    static byte[] entry(int kind, List<byte[]> names, long size, byte[] linkTarget, List<byte[]> firstName)
            throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        out.writeByte(kind);
        names(out, names);
        out.writeInt(0644);
        out.writeInt(0);
        out.writeInt(0);
        out.writeLong(0);
        out.writeInt(0);
        out.writeLong(size);
        out.writeLong(0);
        out.writeLong(0);
        out.writeBoolean(false);
        if (linkTarget != null) {
            out.writeShort(linkTarget.length);
            out.write(linkTarget);
        }
        if (firstName != null) names(out, firstName);
        return bytes.toByteArray();
    }

    private static void names(DataOutputStream out, List<byte[]> names) throws IOException {
        out.writeShort(names.size());
        for (byte[] name : names) {
            out.writeShort(name.length);
            out.write(name);
        }
    }

    @Override
    public void close() throws IOException {
        listener.close();
        server.interrupt();
    }
}
