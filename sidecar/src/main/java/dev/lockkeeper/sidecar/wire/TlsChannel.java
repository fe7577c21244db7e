package dev.lockkeeper.sidecar.wire;

import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SocketChannel;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSession;

/**
 * TLS over a blocking {@link SocketChannel} with an {@link SSLEngine}, for the data plane's bulk streams. A JDK
 * {@code SSLSocket} hands every 16 KiB record to the kernel with a system call of its own and reads each with two;
 * here records are sealed into a {@value #NET_BUFFER}-byte buffer that goes out in one write, and every read takes
 * what the socket holds, up to that size, and opens the records in it one after another. A large read is decrypted
 * straight into the caller's array and a large write encrypted straight from it, with no copy in between.
 *
 * <p>The buffers are on the heap on purpose: the JDK's AES-GCM runs its fast path on arrays, and falls back to
 * copying 768-byte pieces for direct buffers. One thread uses a channel (the data plane's sessions are sequential);
 * another thread stops it by closing the {@link SocketChannel}, which fails a blocked read or write.
 */
final class TlsChannel implements Closeable {
    /** Bytes of records gathered before a write, and the most one read takes from the socket. */
    static final int NET_BUFFER = 256 << 10;

    private static final ByteBuffer NOTHING = ByteBuffer.allocate(0);

    private final SocketChannel channel;
    private final SSLEngine engine;
    /**
     * Received bytes, in read mode: [position, limit) are records not yet opened. It is compacted only before a socket
     * read, so the partial record left at its end moves once per read, not the rest of the buffer once per record.
     */
    private ByteBuffer netIn;
    /** Sealed records, in write mode, not yet written. */
    private ByteBuffer netOut;
    /**
     * What the socket reads into and writes from. Given a heap buffer, NIO would copy through a direct buffer of its
     * own, cached per carrier thread at whatever sizes the reads asked for; this one is the connection's, of a fixed
     * size, and goes with it.
     */
    private ByteBuffer socketBuffer;
    /** Opened plaintext, in read mode, that the caller has not read yet. */
    private final ByteBuffer appIn;
    /** Small writes gathered, in write mode, into the next record. */
    private final ByteBuffer appOut;

    private final int recordPlaintext;
    private final int packet;
    private boolean endOfStream;

    /** Decrypted application data; reads native memory in without a heap array in between. */
    final class Input extends InputStream {
        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] into, int offset, int length) throws IOException {
            return TlsChannel.this.read(ByteBuffer.wrap(into, offset, length));
        }

        /** Fills {@code into} (JSSE opens a record in its own buffer; it is copied once, straight to native memory). */
        void readFully(MemorySegment into) throws IOException {
            ByteBuffer target = into.asByteBuffer();
            while (target.hasRemaining()) {
                if (TlsChannel.this.read(target) < 0) {
                    throw new EOFException("the peer closed the connection with " + target.remaining() + " of "
                            + into.byteSize() + " bytes to come");
                }
            }
        }
    }

    /** Application data to encrypt; {@link #flush} sends everything written so far. */
    final class Output extends OutputStream {
        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] from, int offset, int length) throws IOException {
            TlsChannel.this.write(ByteBuffer.wrap(from, offset, length));
        }

        /** Writes native memory: JSSE copies the plaintext into the record it encrypts in place, so no other copy. */
        void write(MemorySegment from) throws IOException {
            TlsChannel.this.write(from.asByteBuffer());
        }

        @Override
        public void flush() throws IOException {
            TlsChannel.this.flush();
        }
    }

    private final Input input = new Input();
    private final Output output = new Output();

    private TlsChannel(SocketChannel channel, SSLEngine engine) {
        this.channel = channel;
        this.engine = engine;
        SSLSession session = engine.getSession();
        this.recordPlaintext = session.getApplicationBufferSize();
        int packet = session.getPacketBufferSize();
        this.packet = packet;
        // a handshake's records, until the peer has proven its certificate: a flood of connections that never get
        // that far costs what it would with SSLSocket, not a quarter of a mebibyte each
        this.netIn = ByteBuffer.allocate(2 * packet).flip();
        this.netOut = ByteBuffer.allocate(2 * packet);
        this.socketBuffer = ByteBuffer.allocateDirect(2 * packet);
        this.appIn = ByteBuffer.allocate(recordPlaintext).flip();
        this.appOut = ByteBuffer.allocate(recordPlaintext);
    }

    /**
     * Runs the handshake of {@code engine} (client or server mode and parameters already set) over {@code channel};
     * a stalled peer is the caller's to cut off (the {@link Watchdog} closes the channel).
     */
    static TlsChannel handshake(SocketChannel channel, SSLEngine engine) throws IOException {
        TlsChannel tls = new TlsChannel(channel, engine);
        engine.beginHandshake();
        tls.finishHandshake();
        tls.enlargeBuffers();
        return tls;
    }

    /** What went wrong, for a log line: a channel closed under a blocked call says nothing by itself. */
    static String reason(IOException e) {
        if (e.getMessage() != null) return e.getMessage();
        return e instanceof ClosedChannelException
                ? "the connection was closed"
                : e.getClass().getSimpleName();
    }

    SSLSession session() {
        return engine.getSession();
    }

    /** Decrypted application data; returns -1 once the peer closed (with or without close_notify). */
    Input input() {
        return input;
    }

    /** Application data to encrypt; {@link OutputStream#flush} sends everything written so far. */
    Output output() {
        return output;
    }

    private void finishHandshake() throws IOException {
        while (true) {
            switch (engine.getHandshakeStatus()) {
                case NEED_WRAP -> {
                    seal(NOTHING);
                    sendSealed();
                }
                case NEED_UNWRAP, NEED_UNWRAP_AGAIN -> {
                    // application data right behind the peer's Finished lands in appIn for the first read
                    appIn.compact();
                    int got = open(appIn, true);
                    appIn.flip();
                    if (got < 0) throw new EOFException("the peer closed the connection in the handshake");
                }
                case NEED_TASK -> runTasks();
                case FINISHED, NOT_HANDSHAKING -> {
                    return;
                }
            }
        }
    }

    /** The bulk buffers, once the handshake is done; what arrived behind it stays. */
    private void enlargeBuffers() {
        ByteBuffer received = ByteBuffer.allocate(NET_BUFFER + packet);
        netIn = received.put(netIn).flip();
        ByteBuffer sealed = ByteBuffer.allocate(NET_BUFFER + packet);
        netOut = sealed.put(netOut.flip());
        socketBuffer = ByteBuffer.allocateDirect(NET_BUFFER + packet);
    }

    private void runTasks() {
        for (Runnable task = engine.getDelegatedTask(); task != null; task = engine.getDelegatedTask()) task.run();
    }

    /** Reads into {@code target}'s remaining bytes what is there (blocking for at least one); -1 at the end. */
    private int read(ByteBuffer target) throws IOException {
        if (!target.hasRemaining()) return 0;
        if (appIn.hasRemaining()) return moveOpened(target);
        if (target.remaining() >= recordPlaintext) {
            // large reads are opened straight into the caller's buffer
            return open(target, false);
        }
        appIn.clear();
        int got = open(appIn, false);
        appIn.flip();
        return got < 0 ? -1 : moveOpened(target);
    }

    private int moveOpened(ByteBuffer target) {
        int n = Math.min(target.remaining(), appIn.remaining());
        target.put(target.position(), appIn, appIn.position(), n);
        target.position(target.position() + n);
        appIn.position(appIn.position() + n);
        return n;
    }

    /**
     * Opens records into {@code target} (room for at least one record's plaintext): every complete record already
     * received while there is room, reading from the socket only while nothing was produced yet. Returns the bytes
     * produced, or -1 at the end of the stream. In the handshake ({@code handshaking}) it returns after one record.
     */
    private int open(ByteBuffer target, boolean handshaking) throws IOException {
        int produced = 0;
        while (true) {
            if (endOfStream) return produced > 0 ? produced : -1;
            SSLEngineResult result = engine.unwrap(netIn, target);
            produced += result.bytesProduced();
            switch (result.getStatus()) {
                case OK -> {
                    // in the handshake its own loop looks at the status
                    if (!handshaking) answerPostHandshake(result.getHandshakeStatus());
                    if (handshaking || target.remaining() < recordPlaintext) return produced;
                }
                case BUFFER_UNDERFLOW -> {
                    if (produced > 0) return produced;
                    if (receive() < 0) endOfStream = true;
                }
                case BUFFER_OVERFLOW -> {
                    if (produced > 0) return produced;
                    throw new IllegalStateException("a read buffer of " + target.remaining()
                            + " bytes cannot hold a record of " + recordPlaintext);
                }
                case CLOSED -> {
                    endOfStream = true;
                    if (result.getHandshakeStatus() == HandshakeStatus.NEED_WRAP) {
                        // the reply to the peer's close_notify; the peer may be gone already
                        try {
                            seal(NOTHING);
                            sendSealed();
                        } catch (IOException e) {
                            // nothing more to tell it
                        }
                    }
                }
            }
        }
    }

    /** TLS 1.3 messages after the handshake (a session ticket, a key update) may need a task run or an answer. */
    private void answerPostHandshake(HandshakeStatus status) throws IOException {
        switch (status) {
            case NEED_TASK -> runTasks();
            case NEED_WRAP -> {
                seal(NOTHING);
                sendSealed();
            }
            default -> {}
        }
    }

    private void write(ByteBuffer from) throws IOException {
        if (from.remaining() <= appOut.remaining()) {
            appOut.put(from);
            return;
        }
        // fill the gathered record first, so a frame header and the start of its payload share one record
        appOut.put(appOut.position(), from, from.position(), appOut.remaining());
        from.position(from.position() + appOut.remaining());
        appOut.position(appOut.limit());
        sealGathered();
        while (from.remaining() >= recordPlaintext) seal(from);
        appOut.put(from);
    }

    private void flush() throws IOException {
        sealGathered();
        sendSealed();
    }

    private void sealGathered() throws IOException {
        appOut.flip();
        while (appOut.hasRemaining()) seal(appOut);
        appOut.clear();
    }

    /** Seals one record of {@code from} (or a handshake message) into netOut, sending what is there first if full. */
    private void seal(ByteBuffer from) throws IOException {
        while (true) {
            SSLEngineResult result = engine.wrap(from, netOut);
            switch (result.getStatus()) {
                case OK -> {
                    if (result.getHandshakeStatus() == HandshakeStatus.NEED_TASK) runTasks();
                    if (netOut.position() >= NET_BUFFER) sendSealed();
                    return;
                }
                case BUFFER_OVERFLOW -> sendSealed();
                case CLOSED -> throw new SSLException("the TLS connection is closed");
                case BUFFER_UNDERFLOW -> throw new IllegalStateException("wrap reported an underflow");
            }
        }
    }

    /** Reads what the socket holds (at least one byte, blocking) behind netIn's bytes; -1 at the end of the stream. */
    private int receive() throws IOException {
        netIn.compact();
        try {
            socketBuffer.clear().limit(Math.min(socketBuffer.capacity(), netIn.remaining()));
            int got = channel.read(socketBuffer);
            if (got > 0) netIn.put(socketBuffer.flip());
            return got;
        } finally {
            netIn.flip();
        }
    }

    private void sendSealed() throws IOException {
        netOut.flip();
        try {
            while (netOut.hasRemaining()) {
                int n = Math.min(netOut.remaining(), socketBuffer.capacity());
                socketBuffer.clear().put(netOut.slice(netOut.position(), n)).flip();
                while (socketBuffer.hasRemaining()) channel.write(socketBuffer);
                netOut.position(netOut.position() + n);
            }
        } finally {
            netOut.compact();
        }
    }

    /** Sends close_notify (best effort: the peer may be gone) and closes the channel. */
    @Override
    public void close() throws IOException {
        try {
            if (channel.isOpen() && !engine.isOutboundDone()) {
                engine.closeOutbound();
                seal(NOTHING);
                sendSealed();
            }
        } catch (IOException | RuntimeException e) {
            // the connection is already gone; closing it is all that is left
        } finally {
            channel.close();
        }
    }
}
