package dev.lockkeeper.sidecar.wire;

import dev.lockkeeper.sidecar.copy.Content;
import dev.lockkeeper.sidecar.copy.CopyException;
import dev.lockkeeper.sidecar.copy.ImageStreamSource;
import dev.lockkeeper.sidecar.copy.TreeEntry;
import dev.lockkeeper.sidecar.copy.TreeStreamSource;
import dev.lockkeeper.sidecar.linux.ExtendedAttribute;
import dev.lockkeeper.sidecar.transfer.RateLimiter;
import dev.lockkeeper.sidecar.transfer.ServedSource;
import dev.lockkeeper.sidecar.transfer.SourceCatalog;
import dev.lockkeeper.sidecar.transfer.TransferException;
import dev.lockkeeper.sidecar.wire.Frames.Header;
import dev.lockkeeper.sidecar.wire.WireMetrics.Kind;
import dev.lockkeeper.sidecar.wire.WireMetrics.Role;
import java.io.Closeable;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.lang.foreign.MemorySegment;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.net.StandardSocketOptions;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLEngine;

/**
 * The source side of the data plane: serves a task's source image to the target node that pulls it. Each connection
 * runs on its own virtual thread over a {@link TlsChannel} (TLS 1.3, client certificate required); the caller is
 * the node its verified certificate names, and a task is served only when {@link SourceCatalog#open} accepts that
 * node, before any byte of the source is read. The source is stateless: the target names every range it wants, or
 * for a tree the ordinal it resumes after.
 */
public final class DataServer implements AutoCloseable {
    private static final Logger LOG = System.getLogger(DataServer.class.getName());

    /**
     * @param stall          a connection without progress for this long is closed
     * @param keepalive      how often a busy source (computing its digest) tells the target it is alive
     * @param maxHandshakes  connections still in their TLS handshake at once; a new one closes the oldest of them
     */
    public record Options(Duration stall, Duration keepalive, WireMetrics metrics, int maxHandshakes) {
        /**
         * 64 handshakes: a node's agents rarely open more than a few connections at once, and a flood of peers that
         * never finish a handshake then holds at most ~64 × 40 KiB of heap instead of growing until the heap is gone.
         */
        public static final Options DEFAULT =
                new Options(Duration.ofSeconds(30), Duration.ofSeconds(5), WireMetrics.NONE, 64);

        public Options {
            if (maxHandshakes < 1) throw new IllegalArgumentException("maxHandshakes " + maxHandshakes);
        }

        public Options withStall(Duration value) {
            return new Options(value, keepalive, metrics, maxHandshakes);
        }

        public Options withMetrics(WireMetrics value) {
            return new Options(stall, keepalive, value, maxHandshakes);
        }
    }

    private final ServerSocketChannel listener;
    private final NodeTls tls;
    private final SourceCatalog catalog;
    private final RateLimiter rate;
    private final Options options;
    private final Set<SocketChannel> open = ConcurrentHashMap.newKeySet();
    /**
     * Connections still in their handshake, oldest first: the only state a peer without a certificate can make this
     * side hold. Evicting the oldest rather than refusing the newest means a flood cannot lock a real agent out: its
     * connection is always let in, and it finishes its handshake in milliseconds.
     */
    private final Deque<SocketChannel> handshaking = new ArrayDeque<>();

    private final Thread acceptor;

    private DataServer(
            ServerSocketChannel listener, NodeTls tls, SourceCatalog catalog, RateLimiter rate, Options options) {
        this.listener = listener;
        this.tls = tls;
        this.catalog = catalog;
        this.rate = rate;
        this.options = options;
        this.acceptor = Thread.ofVirtual().name("lk-data-accept").start(this::acceptLoop);
    }

    public static DataServer start(InetSocketAddress bind, NodeTls tls, SourceCatalog catalog, RateLimiter rate)
            throws IOException {
        return start(bind, tls, catalog, rate, Options.DEFAULT);
    }

    public static DataServer start(
            InetSocketAddress bind, NodeTls tls, SourceCatalog catalog, RateLimiter rate, Options options)
            throws IOException {
        ServerSocketChannel listener = ServerSocketChannel.open();
        listener.setOption(StandardSocketOptions.SO_REUSEADDR, true);
        listener.bind(bind);
        return new DataServer(listener, tls, catalog, rate, options);
    }

    public int port() {
        return listener.socket().getLocalPort();
    }

    private void acceptLoop() {
        while (listener.isOpen()) {
            try {
                SocketChannel raw = listener.accept();
                open.add(raw);
                admit(raw);
                Thread.ofVirtual().name("lk-data-serve").start(() -> {
                    try {
                        serve(raw);
                    } finally {
                        handshakeOver(raw);
                        open.remove(raw);
                        closeQuietly(raw);
                    }
                });
            } catch (IOException e) {
                if (listener.isOpen()) LOG.log(Level.WARNING, "data port accept failed: " + e.getMessage());
            }
        }
    }

    private void admit(SocketChannel raw) {
        SocketChannel oldest = null;
        synchronized (handshaking) {
            if (handshaking.size() >= options.maxHandshakes()) oldest = handshaking.pollFirst();
            handshaking.addLast(raw);
        }
        if (oldest != null) {
            LOG.log(
                    Level.INFO,
                    "closing the data connection from " + remoteAddress(oldest) + ": " + options.maxHandshakes()
                            + " connections are in their handshake, it is the oldest");
            closeQuietly(oldest);
        }
    }

    private void handshakeOver(SocketChannel raw) {
        synchronized (handshaking) {
            handshaking.remove(raw);
        }
    }

    private void serve(SocketChannel raw) {
        String peer = remoteAddress(raw);
        try (Watchdog watchdog = new Watchdog(raw.socket(), options.stall())) {
            raw.setOption(StandardSocketOptions.TCP_NODELAY, true);
            raw.setOption(StandardSocketOptions.SO_KEEPALIVE, true);
            SSLEngine engine = tls.context().createSSLEngine();
            engine.setUseClientMode(false);
            engine.setSSLParameters(tls.serverParameters());
            // closed (close_notify) while the watchdog still guards a peer that stopped reading
            TlsChannel socket = TlsChannel.handshake(raw, engine);
            handshakeOver(raw);
            watchdog.touch();
            Session session = new Session(socket, watchdog);
            try (socket) {
                try {
                    session.run();
                } catch (SocketException | java.io.EOFException | ClosedChannelException e) {
                    LOG.log(
                            Level.INFO,
                            "data connection from " + peer + " ended: "
                                    + (watchdog.stalled()
                                            ? "no progress for "
                                                    + options.stall().toSeconds() + " s"
                                            : TlsChannel.reason(e)));
                } catch (IOException e) {
                    LOG.log(Level.INFO, "data connection from " + peer + " failed: " + TlsChannel.reason(e));
                    session.tryError(TlsChannel.reason(e), false);
                }
            }
        } catch (IOException e) {
            LOG.log(Level.INFO, "data connection from " + peer + " failed: " + TlsChannel.reason(e));
        }
    }

    private static String remoteAddress(SocketChannel channel) {
        try {
            return String.valueOf(channel.getRemoteAddress());
        } catch (IOException e) {
            return "a closed connection";
        }
    }

    /** One target's session: HELLO, then its ranges and digest requests until BYE. */
    private final class Session {
        private final TlsChannel socket;
        private final Watchdog watchdog;
        private final Frames.Reader in;
        private final Frames.Writer out;

        Session(TlsChannel socket, Watchdog watchdog) {
            this.socket = socket;
            this.watchdog = watchdog;
            this.in = new Frames.Reader(socket.input());
            this.out = new Frames.Writer(socket.output());
        }

        void run() throws IOException {
            Optional<String> caller = NodeTls.peerNode(socket.session());
            if (caller.isEmpty()) {
                error("your certificate names no node (SAN URI " + NodeTls.URI_PREFIX + "<node>)", false);
                return;
            }
            Header hello = in.next();
            watchdog.touch();
            if (hello.type() != FrameType.HELLO) throw new FrameException("expected HELLO, got " + hello.type());
            if (hello.flags() != Frames.VERSION) {
                error(
                        "protocol version " + hello.flags() + " is not spoken here (version " + Frames.VERSION + ")",
                        false);
                return;
            }
            Messages.Hello request = Messages.Hello.decode(in.payload(hello));
            ServedSource served;
            try {
                served = catalog.open(request.taskId(), caller.get());
            } catch (TransferException e) {
                error(e.getMessage(), e.retryable());
                return;
            }
            if (served.content() == Content.ARCHIVE) {
                try (TreeStreamSource tree = TreeStreamSource.open(served.source())) {
                    out.control(
                            FrameType.INFO,
                            0,
                            0,
                            0,
                            new Messages.Info(
                                            tree.size(),
                                            tree.allocatedBytes(),
                                            0,
                                            true,
                                            Content.ARCHIVE,
                                            tree.fingerprint())
                                    .encode());
                    out.flush();
                    treeRequests(tree);
                } catch (CopyException e) {
                    error(e.getMessage(), false);
                }
                return;
            }
            try (ImageStreamSource source = ImageStreamSource.open(served.source(), served.content())) {
                out.control(
                        FrameType.INFO,
                        0,
                        0,
                        0,
                        new Messages.Info(
                                        source.size(),
                                        source.allocatedBytes(),
                                        source.permissions(),
                                        source.extents(),
                                        served.content(),
                                        source.fingerprint())
                                .encode());
                out.flush();
                requests(source);
            } catch (CopyException e) {
                error(e.getMessage(), false);
            }
        }

        private void treeRequests(TreeStreamSource tree) throws IOException, CopyException {
            while (true) {
                Header request = in.next();
                watchdog.touch();
                switch (request.type()) {
                    case TREE -> tree(tree, request.offset(), request.span());
                    case DIGEST_REQUEST -> digest(() -> Messages.treeDigest(tree.digest()));
                    case KEEPALIVE -> {}
                    case BYE -> {
                        return;
                    }
                    default -> throw new FrameException("a target does not send " + request.type() + " for a tree");
                }
            }
        }

        private void tree(TreeStreamSource tree, long durable, long dataFrom) throws IOException, CopyException {
            long[] counts = new long[2];
            long last = tree.stream(durable, dataFrom, new TreeStreamSource.Records() {
                @Override
                public void entry(long ordinal, TreeEntry entry, List<ExtendedAttribute> attributes)
                        throws IOException {
                    for (ExtendedAttribute attribute : attributes)
                        out.control(FrameType.XATTR, 0, ordinal, 0, Messages.attribute(attribute));
                    out.control(FrameType.ENTRY, 0, ordinal, entry.size(), Messages.entry(entry));
                    watchdog.touch();
                }

                @Override
                public void data(MemorySegment bytes, long offset, int length) throws IOException {
                    send(bytes, offset, length, Frames.dataCrc(bytes, offset));
                    counts[0] += length;
                }

                @Override
                public void zero(long offset, long length) throws IOException {
                    out.control(FrameType.ZERO, offset, length);
                    counts[1] += length;
                    options.metrics().bytes(Role.SOURCE, Kind.ZERO, length);
                }

                @Override
                public void end(long ordinal, long size) throws IOException {
                    out.control(FrameType.END, 0, size, ordinal, new byte[0]);
                }
            });
            out.control(FrameType.TREE_END, 0, last, 0, new Messages.End(counts[0], counts[1]).encode());
            out.flush();
            options.metrics().wireBytes(Role.SOURCE, out.bytesWritten());
            if (!tree.skipped().isEmpty())
                LOG.log(Level.INFO, "tree " + tree.fingerprint() + " left out: " + String.join("; ", tree.skipped()));
        }

        private void send(MemorySegment bytes, long offset, int length, int crc) throws IOException {
            try {
                rate.acquire(length);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException("stopped while throttled");
            }
            out.data(bytes, offset, crc);
            watchdog.touch();
            options.metrics().bytes(Role.SOURCE, Kind.DATA, length);
        }

        private void requests(ImageStreamSource source) throws IOException, CopyException {
            while (true) {
                Header request = in.next();
                watchdog.touch();
                switch (request.type()) {
                    case RANGE -> range(source, request.offset(), request.offset() + request.span());
                    case DIGEST_REQUEST -> digest(() -> Messages.text(source.digest()));
                    case KEEPALIVE -> {}
                    case BYE -> {
                        return;
                    }
                    default -> throw new FrameException("a target does not send " + request.type());
                }
            }
        }

        private void range(ImageStreamSource source, long from, long to) throws IOException, CopyException {
            if (to < from || to > source.size()) {
                error("range [" + from + ", " + to + ") is outside the source's " + source.size() + " bytes", false);
                throw new SocketException("refused a range outside the source");
            }
            long[] counts = new long[2];
            source.stream(from, to, new ImageStreamSource.Extents() {
                @Override
                public int checksum(MemorySegment bytes, long offset) {
                    return Frames.dataCrc(bytes, offset);
                }

                @Override
                public void data(MemorySegment bytes, long offset, int length, int crc) throws IOException {
                    send(bytes, offset, length, crc);
                    counts[0] += length;
                }

                @Override
                public void zero(long offset, long length) throws IOException {
                    out.control(FrameType.ZERO, offset, length);
                    counts[1] += length;
                    options.metrics().bytes(Role.SOURCE, Kind.ZERO, length);
                }
            });
            out.control(FrameType.END, 0, to, 0, new Messages.End(counts[0], counts[1]).encode());
            out.flush();
            options.metrics().wireBytes(Role.SOURCE, out.bytesWritten());
        }

        /** The digest reads the whole source; keepalives tell the waiting target that this side is still at it. */
        private interface Digest {
            byte[] compute() throws CopyException;
        }

        private void digest(Digest source) throws IOException, CopyException {
            CompletableFuture<byte[]> digest = new CompletableFuture<>();
            Thread.ofVirtual().name("lk-data-digest").start(() -> {
                try {
                    digest.complete(source.compute());
                } catch (Throwable e) {
                    digest.completeExceptionally(e);
                }
            });
            while (true) {
                try {
                    byte[] value = digest.get(options.keepalive().toMillis(), TimeUnit.MILLISECONDS);
                    out.control(FrameType.DIGEST, 0, 0, 0, value);
                    out.flush();
                    return;
                } catch (TimeoutException e) {
                    out.control(FrameType.KEEPALIVE, 0, 0);
                    out.flush();
                    watchdog.touch();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new java.io.InterruptedIOException("stopped while computing the digest");
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof CopyException failure) throw failure;
                    throw new IOException(e.getCause());
                }
            }
        }

        private void error(String message, boolean retryable) throws IOException {
            out.control(FrameType.ERROR, retryable ? Frames.RETRYABLE : 0, 0, 0, Messages.text(message));
            out.flush();
        }

        void tryError(String message, boolean retryable) {
            try {
                error(String.valueOf(message), retryable);
            } catch (IOException | RuntimeException e) {
                // the connection is gone; the target sees the reset
            }
        }
    }

    private static void closeQuietly(Closeable socket) {
        try {
            socket.close();
        } catch (IOException e) {
            // nothing left to release
        }
    }

    @Override
    public void close() throws IOException {
        listener.close();
        for (SocketChannel socket : open) closeQuietly(socket);
        try {
            acceptor.join(Duration.ofSeconds(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
