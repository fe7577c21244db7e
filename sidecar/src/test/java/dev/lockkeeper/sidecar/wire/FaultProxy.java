package dev.lockkeeper.sidecar.wire;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A TCP proxy on the data path that injects one fault into the first connection's source-to-target direction, after
 * a given number of bytes: flip one byte, reset the connection, or go silent with both sockets left open (a
 * half-open peer). Later connections pass through untouched, so a retry can succeed.
 */
final class FaultProxy implements AutoCloseable {
    enum Fault {
        FLIP,
        RESET,
        STALL
    }

    private final ServerSocket listener;
    private final InetSocketAddress upstream;
    private final Fault fault;
    private final long at;
    private final AtomicBoolean armed = new AtomicBoolean(true);
    private volatile boolean fired;

    FaultProxy(InetSocketAddress upstream, Fault fault, long at) throws IOException {
        this.upstream = upstream;
        this.fault = fault;
        this.at = at;
        this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread.ofVirtual().start(this::accept);
    }

    InetSocketAddress address() {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), listener.getLocalPort());
    }

    boolean fired() {
        return fired;
    }

    private void accept() {
        while (!listener.isClosed()) {
            try {
                Socket client = listener.accept();
                Socket server = new Socket(upstream.getAddress(), upstream.getPort());
                boolean faulty = armed.getAndSet(false);
                Thread.ofVirtual().start(() -> pump(client, server, false));
                Thread.ofVirtual().start(() -> pump(server, client, faulty));
            } catch (IOException e) {
                return;
            }
        }
    }

    private void pump(Socket from, Socket to, boolean faulty) {
        byte[] buffer = new byte[16 << 10];
        long passed = 0;
        try (InputStream in = from.getInputStream();
                OutputStream out = to.getOutputStream()) {
            for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
                if (faulty && !fired && passed + n > at) {
                    int index = (int) (at - passed);
                    switch (fault) {
                        case FLIP -> buffer[index] ^= 0x40;
                        case RESET -> {
                            out.write(buffer, 0, index);
                            fired = true;
                            from.setSoLinger(true, 0);
                            to.setSoLinger(true, 0);
                            from.close();
                            to.close();
                            return;
                        }
                        case STALL -> {
                            out.write(buffer, 0, index);
                            out.flush();
                            fired = true;
                            Thread.sleep(Long.MAX_VALUE);
                        }
                    }
                    fired = true;
                }
                out.write(buffer, 0, n);
                passed += n;
            }
        } catch (IOException | InterruptedException e) {
            // one side went away: so does the other
        } finally {
            try {
                from.close();
                to.close();
            } catch (IOException e) {
                // already closed
            }
        }
    }

    @Override
    public void close() throws IOException {
        listener.close();
    }
}
