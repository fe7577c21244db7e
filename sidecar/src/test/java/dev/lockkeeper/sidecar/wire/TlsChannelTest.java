package dev.lockkeeper.sidecar.wire;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.lockkeeper.sidecar.testing.NodeIdentities;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link TlsChannel} against the JDK's own {@link SSLSocket} on the other end: what it seals and opens is plain TLS
 * 1.3, byte for byte in order, whatever the sizes of the writes and reads (a frame header sharing a record with its
 * payload, writes across record and buffer edges, reads smaller and larger than a record), and the peer's identity
 * and its end of stream read as they do on a socket.
 */
class TlsChannelTest {
    /** Sizes around the edges that matter: a record's plaintext (16 KiB), the write buffer, a DATA frame. */
    private static final int[] SIZES = {
        1, 28, 16_383, 16_384, 16_385, 28, 100_000, TlsChannel.NET_BUFFER - 1, TlsChannel.NET_BUFFER + 17, 3, 4 << 20, 5
    };

    @TempDir
    Path dir;

    private NodeTls server;
    private NodeTls client;
    private SSLServerSocket listener;

    @BeforeEach
    void nodes() throws IOException {
        NodeIdentities identities = new NodeIdentities(dir.resolve("pki"));
        server = NodeTls.load(identities.node("src"));
        client = NodeTls.load(identities.node("dst"));
        listener = (SSLServerSocket)
                server.context().getServerSocketFactory().createServerSocket(0, 1, InetAddress.getLoopbackAddress());
        listener.setSSLParameters(server.serverParameters());
    }

    @AfterEach
    void close() throws IOException {
        listener.close();
    }

    @Test
    void everyWriteAndReadSizeRoundTripsThroughAnSslSocketThatEchoesIt() throws Exception {
        CompletableFuture<Void> echo = CompletableFuture.runAsync(() -> {
            try (SSLSocket peer = (SSLSocket) listener.accept()) {
                // echo in odd-sized pieces, so records arrive cut anywhere
                peer.getInputStream().transferTo(new OutputStream() {
                    final OutputStream out = peer.getOutputStream();

                    @Override
                    public void write(int b) throws IOException {
                        out.write(b);
                    }

                    @Override
                    public void write(byte[] b, int off, int len) throws IOException {
                        for (int done = 0; done < len; done += 7_001)
                            out.write(b, off + done, Math.min(7_001, len - done));
                        out.flush();
                    }
                });
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        });
        Random random = new Random(42);
        try (TlsChannel tls = connect()) {
            assertEquals(Optional.of("src"), NodeTls.peerNode(tls.session()));
            assertEquals("TLSv1.3", tls.session().getProtocol());
            for (int size : SIZES) {
                byte[] sent = new byte[size];
                random.nextBytes(sent);
                tls.output().write(sent);
                tls.output().flush();
                byte[] back = new byte[size];
                readInPieces(tls.input(), back, random);
                assertArrayEquals(sent, back, size + " bytes came back different");
                // and the same bytes through the native-memory paths a DATA frame takes
                try (Arena arena = Arena.ofConfined()) {
                    tls.output().write(new byte[] {(byte) size});
                    tls.output().write(arena.allocate(size).copyFrom(MemorySegment.ofArray(sent)));
                    tls.output().flush();
                    assertEquals((byte) size, (byte) tls.input().read());
                    MemorySegment received = arena.allocate(size);
                    tls.input().readFully(received);
                    assertArrayEquals(sent, received.toArray(ValueLayout.JAVA_BYTE), size + " bytes through memory");
                }
            }
        }
        echo.get(30, TimeUnit.SECONDS);
    }

    @Test
    void smallWritesAreGatheredAndArriveInOrderAfterAFlush() throws Exception {
        CompletableFuture<byte[]> received = CompletableFuture.supplyAsync(() -> {
            try (SSLSocket peer = (SSLSocket) listener.accept()) {
                peer.getOutputStream().write(1);
                peer.getOutputStream().flush();
                return peer.getInputStream().readAllBytes();
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        });
        byte[] expected = new byte[1000 * 3];
        try (TlsChannel tls = connect()) {
            // read what the peer sent first (its session ticket comes before): a socket closed with unread bytes is
            // reset, and the peer may then lose what it had not read yet
            assertEquals(1, tls.input().read());
            for (int i = 0; i < 1000; i++) {
                byte[] piece = {(byte) i, (byte) (i >> 8), 7};
                System.arraycopy(piece, 0, expected, i * 3, 3);
                tls.output().write(piece);
            }
            tls.output().flush();
        }
        // the close sent close_notify: the peer read to a clean end of stream
        assertArrayEquals(expected, received.get(30, TimeUnit.SECONDS));
    }

    @Test
    void thePeersCloseNotifyAndAConnectionDroppedWithoutOneBothReadAsTheEnd() throws Exception {
        try (ServerSocket plain = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            for (boolean closeNotify : new boolean[] {true, false}) {
                CompletableFuture<Void> peer = CompletableFuture.runAsync(() -> {
                    try {
                        Socket raw = plain.accept();
                        SSLSocket socket = (SSLSocket)
                                server.context().getSocketFactory().createSocket(raw, null, raw.getPort(), true);
                        socket.setUseClientMode(false);
                        socket.setSSLParameters(server.serverParameters());
                        socket.getOutputStream().write(new byte[] {1, 2, 3});
                        socket.getOutputStream().flush();
                        socket.getInputStream().read();
                        // SSLSocket.close sends close_notify; closing the socket under it just drops the connection
                        if (closeNotify) socket.close();
                        else raw.close();
                    } catch (IOException e) {
                        throw new RuntimeException(e);
                    }
                });
                SocketChannel channel = SocketChannel.open(plain.getLocalSocketAddress());
                try (TlsChannel tls = TlsChannel.handshake(channel, clientEngine(plain.getLocalPort()))) {
                    byte[] three = new byte[3];
                    readInPieces(tls.input(), three, new Random(1));
                    assertArrayEquals(new byte[] {1, 2, 3}, three);
                    tls.output().write(9);
                    tls.output().flush();
                    assertEquals(-1, tls.input().read(new byte[100_000], 0, 100_000), "closeNotify=" + closeNotify);
                    assertEquals(-1, tls.input().read(), "and stays at the end");
                }
                peer.get(30, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void aServerWithACertificateFromAnotherCaFailsTheHandshake() throws Exception {
        NodeTls foreign = NodeTls.load(new NodeIdentities(dir.resolve("other-pki")).node("src"));
        try (SSLServerSocket impostor = (SSLServerSocket)
                foreign.context().getServerSocketFactory().createServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            impostor.setSSLParameters(foreign.serverParameters());
            CompletableFuture.runAsync(() -> {
                try (SSLSocket socket = (SSLSocket) impostor.accept()) {
                    socket.startHandshake();
                } catch (IOException expected) {
                    // the client hangs up on it
                }
            });
            SocketChannel channel = SocketChannel.open(
                    new InetSocketAddress(InetAddress.getLoopbackAddress(), impostor.getLocalPort()));
            try (channel) {
                assertThrows(
                        SSLHandshakeException.class,
                        () -> TlsChannel.handshake(channel, clientEngine(impostor.getLocalPort())));
            }
        }
    }

    private TlsChannel connect() throws IOException {
        SocketChannel channel =
                SocketChannel.open(new InetSocketAddress(InetAddress.getLoopbackAddress(), listener.getLocalPort()));
        return TlsChannel.handshake(channel, clientEngine(listener.getLocalPort()));
    }

    private SSLEngine clientEngine(int port) {
        SSLEngine engine = client.context().createSSLEngine("localhost", port);
        engine.setUseClientMode(true);
        engine.setSSLParameters(client.clientParameters());
        return engine;
    }

    /** Reads {@code into} full with reads of random sizes, small and larger than a record. */
    private static void readInPieces(InputStream in, byte[] into, Random random) throws IOException {
        for (int done = 0; done < into.length; ) {
            int want = Math.min(
                    into.length - done,
                    random.nextBoolean() ? 1 + random.nextInt(100) : 20_000 + random.nextInt(300_000));
            int n = in.read(into, done, want);
            if (n < 0) throw new IOException("end of stream after " + done + " of " + into.length + " bytes");
            done += n;
        }
    }
}
