package dev.lockkeeper.sidecar.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lockkeeper.sidecar.copy.Content;
import dev.lockkeeper.sidecar.testing.Commands;
import dev.lockkeeper.sidecar.testing.Images;
import dev.lockkeeper.sidecar.transfer.TransferOutcome;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Connections that never finish a handshake cost a source agent what they would with {@code SSLSocket}: the bulk
 * buffers (a quarter of a mebibyte each way) come only once the peer has proven its certificate. A source in its own
 * JVM with a 64 MiB heap holds 200 such connections open and still serves a real pull; with the bulk buffers allocated
 * at accept, 200 connections are over 100 MiB of heap. And there is a bound on them: past it a new connection closes
 * the oldest one still in its handshake.
 */
class WireHandshakeFloodTest {
    private static final long MiB = 1 << 20;
    private static final int IDLE_CONNECTIONS = 200;

    @TempDir
    Path dir;

    @Test
    void twoHundredConnectionsStuckBeforeTheHandshakeLeaveTheSourceServing() throws Exception {
        Path source = Images.sparse(dir.resolve("source.img"), 16 * MiB, 0, 3 * MiB, 9 * MiB, 2 * MiB);
        Path portFile = dir.resolve("port");
        List<Socket> idle = new ArrayList<>();
        try (WireNodes nodes = new WireNodes(dir)) {
            Process server = WireChild.serve(nodes, "k", source, Content.KUBEVIRT, portFile, dir.resolve("server.out"));
            try {
                InetSocketAddress address =
                        new InetSocketAddress(InetAddress.getLoopbackAddress(), WireChild.port(portFile));
                for (int i = 0; i < IDLE_CONNECTIONS; i++)
                    idle.add(new Socket(address.getAddress(), address.getPort()));
                // each pull is accepted behind the idle connections, so the later ones find all of them being served
                for (int round = 0; round < 3; round++) {
                    Path target = dir.resolve("copy-" + round + ".img");
                    TransferOutcome outcome = nodes.puller(TlsPuller.Options.DEFAULT)
                            .pull(
                                    WireNodes.request("k", address, target, Content.KUBEVIRT),
                                    new MemoryCheckpoints(),
                                    WireNodes.QUIET,
                                    () -> false);
                    assertEquals(16 * MiB, outcome.bytesTotal());
                    assertTrue(Commands.sameBytes(source, target, 16 * MiB), "round " + round);
                }
                assertTrue(server.isAlive(), () -> "the source died: " + readQuietly(dir.resolve("server.out")));
                assertTrue(
                        !readQuietly(dir.resolve("server.out")).contains("OutOfMemoryError"),
                        () -> readQuietly(dir.resolve("server.out")));
            } finally {
                for (Socket socket : idle) socket.close();
                server.destroyForcibly();
                server.waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    @Timeout(60)
    void aNewConnectionClosesTheOldestOneStillInItsHandshakeSoAFloodCannotLockAnAgentOut() throws Exception {
        int cap = 8;
        int flood = 20;
        Path source = Images.sparse(dir.resolve("source.img"), 8 * MiB, 0, 3 * MiB);
        List<Socket> idle = new ArrayList<>();
        try (WireNodes nodes = new WireNodes(
                dir, new DataServer.Options(Duration.ofSeconds(5), Duration.ofMillis(200), WireMetrics.NONE, cap))) {
            nodes.serve("f", source, Content.KUBEVIRT);
            try {
                for (int i = 0; i < flood; i++)
                    idle.add(new Socket(
                            nodes.address().getAddress(), nodes.address().getPort()));
                // the oldest are closed by the source (an end of stream, or a reset), the newest `cap` still wait
                for (int i = 0; i < flood - cap; i++) {
                    idle.get(i).setSoTimeout(20_000);
                    assertTrue(closedByThePeer(idle.get(i)), "connection " + i + " is still open");
                }
                for (int i = flood - cap; i < flood; i++) {
                    idle.get(i).setSoTimeout(300);
                    Socket waiting = idle.get(i);
                    assertThrows(
                            SocketTimeoutException.class,
                            () -> waiting.getInputStream().read(),
                            "connection " + i);
                }
                // a real agent gets in behind the flood at once, not after the stuck ones' 5 s stall
                Path target = dir.resolve("copy.img");
                nodes.puller(TlsPuller.Options.DEFAULT)
                        .pull(
                                WireNodes.request("f", nodes.address(), target, Content.KUBEVIRT),
                                new MemoryCheckpoints(),
                                WireNodes.QUIET,
                                () -> false);
                assertTrue(Commands.sameBytes(source, target, 8 * MiB));
            } finally {
                for (Socket socket : idle) socket.close();
            }
        }
    }

    private static boolean closedByThePeer(Socket socket) throws IOException {
        try {
            return socket.getInputStream().read() < 0;
        } catch (SocketException e) {
            return true; // reset
        }
    }

    private static String readQuietly(Path file) {
        try {
            return Files.readString(file);
        } catch (java.io.IOException e) {
            return "(" + file + ": " + e.getMessage() + ")";
        }
    }
}
