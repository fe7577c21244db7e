package dev.lockkeeper.sidecar.wire;

import dev.lockkeeper.sidecar.copy.Content;
import dev.lockkeeper.sidecar.copy.CopyException;
import dev.lockkeeper.sidecar.copy.ImageStreamTarget;
import dev.lockkeeper.sidecar.copy.TreeDigest;
import dev.lockkeeper.sidecar.copy.TreeEntry;
import dev.lockkeeper.sidecar.copy.TreeStreamTarget;
import dev.lockkeeper.sidecar.linux.ExtendedAttribute;
import dev.lockkeeper.sidecar.linux.NativeFile;
import dev.lockkeeper.sidecar.transfer.Checkpoint;
import dev.lockkeeper.sidecar.transfer.CheckpointStore;
import dev.lockkeeper.sidecar.transfer.PullRequest;
import dev.lockkeeper.sidecar.transfer.Puller;
import dev.lockkeeper.sidecar.transfer.TransferException;
import dev.lockkeeper.sidecar.transfer.TransferOutcome;
import dev.lockkeeper.sidecar.transfer.TransferProgress;
import dev.lockkeeper.sidecar.wire.Frames.Header;
import dev.lockkeeper.sidecar.wire.WireMetrics.Kind;
import dev.lockkeeper.sidecar.wire.WireMetrics.Role;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.ConnectException;
import java.net.StandardSocketOptions;
import java.nio.channels.SocketChannel;
import java.security.cert.CertificateException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.BooleanSupplier;
import java.util.function.UnaryOperator;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLHandshakeException;

/**
 * The target side of the data plane: connects to the source node's data port over TLS 1.3 with this node's
 * certificate, checks that the server's certificate names {@code request.sourceNode()}, and pulls the task's image
 * onto the target with the engine's target rules ({@link ImageStreamTarget}).
 * <ul>
 * <li>Frames arrive in offset order; each is checked (type, bounds, contiguity, CRC32C) before a byte is written.</li>
 * <li>Every {@link Options#checkpointBytes} bytes or {@link Options#checkpointInterval} the target is synced, and only
 *     then the checkpoint (the contiguous watermark) is saved; a failing attempt syncs and saves what it has too.</li>
 * <li>A device's body [window, size) is pulled before its header window [0, window); a checkpoint covers the body.</li>
 * <li>With {@code verify}, both sides compute the engine's content digest at once (the target reading back with
 *     O_DIRECT) and the target is published only when they match.</li>
 * </ul>
 * One connection and one reading thread; an image's frames are written behind it by {@link Options#writers} threads
 * from {@link Options#writeBehindSlots} 4 MiB buffers, and a checkpoint is recorded only once everything received
 * before it is written and synced. With every buffer queued the reader stops reading, so the source sends no faster
 * than this side writes.
 */
public final class TlsPuller implements Puller {
    /**
     * @param writeBehindSlots 4 MiB buffers an image target receives into ahead of its disk ({@link WriteBehind})
     * @param writers          threads writing them
     */
    public record Options(
            long checkpointBytes,
            Duration checkpointInterval,
            Duration stall,
            Duration connectTimeout,
            WireMetrics metrics,
            int writeBehindSlots,
            int writers) {
        public static final Options DEFAULT = new Options(
                1L << 30,
                Duration.ofSeconds(10),
                Duration.ofSeconds(30),
                Duration.ofSeconds(10),
                WireMetrics.NONE,
                // two being written while the reader fills the third: the disk outruns the network, so a fourth
                // buffer only held 4 MiB more per pull (two pulls at once: target RSS ~150 MiB against a 160 goal)
                3,
                2);

        public Options withCheckpointBytes(long bytes) {
            return new Options(bytes, checkpointInterval, stall, connectTimeout, metrics, writeBehindSlots, writers);
        }

        public Options withStall(Duration value) {
            return new Options(
                    checkpointBytes, checkpointInterval, value, connectTimeout, metrics, writeBehindSlots, writers);
        }

        public Options withMetrics(WireMetrics value) {
            return new Options(
                    checkpointBytes, checkpointInterval, stall, connectTimeout, value, writeBehindSlots, writers);
        }

        public Options withWriteBehind(int slots, int writerCount) {
            return new Options(checkpointBytes, checkpointInterval, stall, connectTimeout, metrics, slots, writerCount);
        }
    }

    private static final int ALIGNMENT = NativeFile.DIRECT_IO_ALIGNMENT;
    /** What one tree entry may carry in extended attributes (ext4 holds one block of them, XFS a few 64 KiB values). */
    private static final int MAX_ATTRIBUTES = 1024;

    private static final long MAX_ATTRIBUTE_BYTES = 1 << 20;

    private final NodeTls tls;
    private final Options options;
    /** What stands between the write-behind and an image target: nothing, or a test's seam. */
    private final UnaryOperator<WriteBehind.Disk> disk;

    public TlsPuller(NodeTls tls) {
        this(tls, Options.DEFAULT);
    }

    public TlsPuller(NodeTls tls, Options options) {
        this(tls, options, UnaryOperator.identity());
    }

    TlsPuller(NodeTls tls, Options options, UnaryOperator<WriteBehind.Disk> disk) {
        this.tls = tls;
        this.options = options;
        this.disk = disk;
    }

    @Override
    public TransferOutcome pull(
            PullRequest request, CheckpointStore checkpoints, TransferProgress progress, BooleanSupplier canceled)
            throws TransferException {
        if (canceled.getAsBoolean()) throw new TransferException("canceled", false);
        SocketChannel raw;
        try {
            raw = SocketChannel.open();
        } catch (IOException e) {
            throw new TransferException("cannot open a connection: " + e.getMessage(), true, e);
        }
        try (raw) {
            TlsChannel socket = connect(raw, request);
            // the channel is closed (close_notify) while the watchdog still guards a source that stopped reading
            try (Watchdog watchdog = new Watchdog(raw.socket(), options.stall());
                    socket) {
                Attempt attempt = new Attempt(request, checkpoints, progress, canceled, socket, watchdog);
                try {
                    return attempt.run();
                } catch (IOException e) {
                    throw attempt.interrupted(e);
                }
            }
        } catch (IOException e) {
            throw new TransferException(
                    "cannot close the connection to " + request.sourceAddress() + ": " + e.getMessage(), true, e);
        }
    }

    private TlsChannel connect(SocketChannel raw, PullRequest request) throws TransferException {
        try {
            raw.socket()
                    .connect(
                            request.sourceAddress(),
                            Math.toIntExact(options.connectTimeout().toMillis()));
            raw.setOption(StandardSocketOptions.TCP_NODELAY, true);
            raw.setOption(StandardSocketOptions.SO_KEEPALIVE, true);
            SSLEngine engine = tls.context()
                    .createSSLEngine(
                            request.sourceAddress().getHostString(),
                            request.sourceAddress().getPort());
            engine.setUseClientMode(true);
            engine.setSSLParameters(tls.clientParameters());
            TlsChannel socket;
            // a server that accepts and then says nothing is cut off after the stall time
            try (Watchdog handshake = new Watchdog(raw.socket(), options.stall())) {
                socket = TlsChannel.handshake(raw, engine);
            }
            Optional<String> server = NodeTls.peerNode(socket.session());
            if (!server.equals(Optional.of(request.sourceNode()))) {
                throw new TransferException(
                        "the data port at " + request.sourceAddress() + " presents a certificate for "
                                + server.map(n -> "node " + n).orElse("no node") + ", not for the task's source node "
                                + request.sourceNode() + "; refusing to pull from it",
                        false);
            }
            return socket;
        } catch (SSLHandshakeException e) {
            boolean identity =
                    causedByCertificate(e) || String.valueOf(e.getMessage()).contains("certificate");
            throw new TransferException(
                    "TLS handshake with " + request.sourceAddress() + " failed"
                            + (identity ? " (the peers do not trust each other's node certificates)" : "") + ": "
                            + e.getMessage(),
                    !identity,
                    e);
        } catch (ConnectException e) {
            throw TransferException.refused(
                    "the source agent at " + request.sourceAddress() + " refused the connection: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new TransferException(
                    "cannot reach the source agent at " + request.sourceAddress() + ": " + TlsChannel.reason(e),
                    true,
                    e);
        }
    }

    private static boolean causedByCertificate(Throwable e) {
        for (Throwable cause = e; cause != null; cause = cause.getCause()) {
            if (cause instanceof CertificateException) return true;
        }
        return false;
    }

    private final class Attempt {
        private final PullRequest request;
        private final CheckpointStore checkpoints;
        private final TransferProgress progress;
        private final BooleanSupplier canceled;
        private final Watchdog watchdog;
        private final Frames.Reader in;
        private final Frames.Writer out;
        private ImageStreamTarget target;
        private TreeStreamTarget tree;
        private String fingerprint;
        /** Bytes [bodyStart, watermark) of the range being pulled are written (not necessarily synced). */
        private long watermark;

        private boolean inBody;
        private long settledBefore;
        private long dataBytes;
        private long holeBytes;
        private long sinceCheckpoint;
        private long lastCheckpointNanos = System.nanoTime();

        Attempt(
                PullRequest request,
                CheckpointStore checkpoints,
                TransferProgress progress,
                BooleanSupplier canceled,
                TlsChannel socket,
                Watchdog watchdog) {
            this.request = request;
            this.checkpoints = checkpoints;
            this.progress = progress;
            this.canceled = canceled;
            this.watchdog = watchdog;
            this.in = new Frames.Reader(socket.input());
            this.out = new Frames.Writer(socket.output());
        }

        TransferOutcome run() throws IOException, TransferException {
            out.control(
                    FrameType.HELLO,
                    Frames.VERSION,
                    0,
                    0,
                    new Messages.Hello(request.taskId(), request.attempt()).encode());
            out.flush();
            Messages.Info info = Messages.Info.decode(in.payload(expect(FrameType.INFO)));
            fingerprint = info.fingerprint();
            if (info.content() != request.content()) {
                throw new TransferException(
                        "the source serves content " + info.content() + " but the task says " + request.content(),
                        false);
            }
            Optional<Checkpoint> saved = checkpoints.load();
            if (saved.isPresent() && !saved.get().sourceFingerprint().equals(fingerprint)) {
                checkpoints.clear();
                discardPartial(info);
                throw new TransferException(
                        "the source changed between attempts (it was "
                                + saved.get().sourceFingerprint() + ", it is " + fingerprint
                                + "); the copy so far is discarded",
                        false);
            }
            if (info.content() == Content.ARCHIVE) return pullTree(info, saved);
            try {
                target = ImageStreamTarget.open(
                        request.target(),
                        new ImageStreamTarget.SourceImage(info.size(), info.allocatedBytes(), info.permissions()),
                        new ImageStreamTarget.Options(
                                request.content(),
                                request.preallocate(),
                                request.targetIsZero(),
                                request.filesystemOverhead()),
                        saved.map(Checkpoint::offset).orElse(-1L));
            } catch (CopyException e) {
                throw new TransferException(e.getMessage(), false, e);
            }
            try (ImageStreamTarget opened = target;
                    WriteBehind writes = new WriteBehind(
                            disk.apply(diskOf(opened)), options.writeBehindSlots(), options.writers())) {
                return pullInto(opened, writes);
            } catch (CopyException e) {
                // a local failure (ENOSPC, EIO, a refused size): nothing is claimed, the next attempt starts afresh
                target.discard();
                checkpoints.clear();
                throw new TransferException(e.getMessage(), false, e);
            }
        }

        private static WriteBehind.Disk diskOf(ImageStreamTarget target) {
            return new WriteBehind.Disk() {
                @Override
                public void data(MemorySegment buffer, long bufferStart, long offset, long length)
                        throws CopyException {
                    target.data(buffer, bufferStart, offset, length);
                }

                @Override
                public void zero(long offset, long length) throws CopyException {
                    target.zero(offset, length);
                }

                @Override
                public void makeDurable() throws CopyException {
                    target.makeDurable();
                }
            };
        }

        private TransferOutcome pullInto(ImageStreamTarget target, WriteBehind writes)
                throws IOException, TransferException, CopyException {
            try {
                return pullImage(target, writes);
            } catch (IOException e) {
                saveWhatArrived(target, writes, e);
                throw e;
            }
        }

        /**
         * The connection failed mid-attempt: what arrived in order (up to a frame that failed its CRC, if one did) is
         * written, made durable and checkpointed (while the target is still open), so the next attempt continues from
         * here rather than from the last periodic checkpoint. A writer's failure (ENOSPC, EIO) is the attempt's failure
         * instead.
         */
        private void saveWhatArrived(ImageStreamTarget target, WriteBehind writes, IOException e) throws CopyException {
            writes.drain();
            long written = writes.claimable(watermark);
            if (!inBody || written <= target.resumeFrom()) return;
            try {
                target.makeDurable();
                checkpoints.save(new Checkpoint(written, 0, fingerprint));
            } catch (CopyException | RuntimeException failed) {
                e.addSuppressed(failed);
            }
        }

        private TransferOutcome pullImage(ImageStreamTarget target, WriteBehind writes)
                throws IOException, TransferException, CopyException {
            long size = target.size();
            long resumedFrom = target.resumeFrom();
            boolean resumed = resumedFrom > target.bodyStart();
            if (resumed) options.metrics().resumed();
            long body = size - target.bodyStart();
            settledBefore = 0;
            inBody = true;
            pullRange(target, writes, resumedFrom, size, resumedFrom - target.bodyStart());
            target.makeDurable();
            checkpoints.save(new Checkpoint(size, 0, fingerprint));
            if (target.bodyStart() > 0) {
                inBody = false;
                pullRange(target, writes, 0, target.bodyStart(), body);
                target.makeDurable();
            }
            Optional<String> digest = Optional.empty();
            if (request.verify()) digest = Optional.of(verify(target, resumed));
            target.publish();
            checkpoints.clear();
            try {
                out.control(FrameType.BYE, 0, 0);
                out.flush();
            } catch (IOException e) {
                // the target is complete; a source that already hung up changes nothing
            }
            return new TransferOutcome(
                    size, dataBytes, holeBytes, resumed ? resumedFrom : 0, in.bytesRead() + out.bytesWritten(), digest);
        }

        /** Receives {@code [from, to)}; returns once all of it is written (not synced) and every frame passed its CRC. */
        private void pullRange(ImageStreamTarget target, WriteBehind writes, long from, long to, long settled)
                throws IOException, TransferException, CopyException {
            settledBefore = settled;
            watermark = from;
            if (from == to) return;
            out.control(FrameType.RANGE, from, to - from);
            out.flush();
            while (true) {
                if (canceled.getAsBoolean()) {
                    throw new CopyException("canceled");
                }
                Header frame = in.next();
                watchdog.touch();
                switch (frame.type()) {
                    case DATA -> {
                        checkPlace(frame, to);
                        writes.throwIfCorrupt();
                        MemorySegment buffer = writes.slot();
                        long bufferStart = frame.offset() / ALIGNMENT * ALIGNMENT;
                        // the writer checks the CRC, before the write, while this thread receives the next frame
                        in.receive(frame, buffer.asSlice(frame.offset() - bufferStart, frame.length()));
                        try {
                            request.rate().acquire(frame.length());
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            throw new TransferException("interrupted", true);
                        }
                        writes.data(buffer, bufferStart, frame);
                        dataBytes += frame.length();
                        options.metrics().bytes(Role.TARGET, Kind.DATA, frame.length());
                        advance(target, writes, frame.span());
                    }
                    case ZERO -> {
                        checkPlace(frame, to);
                        writes.zero(frame.offset(), frame.span());
                        holeBytes += frame.span();
                        options.metrics().bytes(Role.TARGET, Kind.ZERO, frame.span());
                        advance(target, writes, frame.span());
                    }
                    case END -> {
                        in.payload(frame);
                        if (frame.offset() != to || watermark != to) {
                            throw new FrameException("END of range at " + frame.offset() + " after data up to "
                                    + watermark + ", range ends at " + to);
                        }
                        writes.drain();
                        writes.throwIfCorrupt();
                        return;
                    }
                    case KEEPALIVE -> {}
                    case ERROR -> throw remoteError(frame);
                    default -> throw new FrameException("unexpected " + frame.type() + " frame inside a range");
                }
            }
        }

        /**
         * A tree: asks for the walk after the checkpoint's ordinal and builds it in the target's staging directory,
         * checkpointing (syncfs first) every {@link Options#checkpointBytes} or {@link Options#checkpointInterval}.
         */
        private TransferOutcome pullTree(Messages.Info info, Optional<Checkpoint> saved)
                throws IOException, TransferException {
            long needed = request.preallocate() ? info.size() : info.allocatedBytes();
            try {
                tree = TreeStreamTarget.open(
                        request.target(),
                        saved.map(c -> new TreeStreamTarget.Resume(c.entries(), c.offset())),
                        needed,
                        request.preallocate());
            } catch (CopyException e) {
                throw new TransferException(e.getMessage(), false, e);
            }
            try (TreeStreamTarget opened = tree;
                    Arena arena = Arena.ofConfined()) {
                boolean resumed = opened.resuming();
                if (resumed) options.metrics().resumed();
                MemorySegment buffer = NativeFile.directBuffer(arena, Frames.MAX_DATA_PAYLOAD);
                out.control(FrameType.TREE, opened.resumedEntries(), opened.resumedOffset());
                out.flush();
                long last;
                try {
                    last = receiveTree(opened, buffer, info.size());
                } catch (IOException e) {
                    // what arrived is made durable and checkpointed while the tree is still open
                    try {
                        checkpointTree(opened);
                    } catch (CopyException | RuntimeException failed) {
                        e.addSuppressed(failed);
                    }
                    throw e;
                }
                opened.finish(last);
                Optional<String> digest = Optional.empty();
                if (request.verify()) digest = Optional.of(verifyTree(opened, resumed));
                opened.publish();
                checkpoints.clear();
                bye();
                return new TransferOutcome(
                        info.size(),
                        dataBytes,
                        holeBytes,
                        resumed ? opened.resumedEntries() : 0,
                        in.bytesRead() + out.bytesWritten(),
                        digest);
            } catch (CopyException e) {
                tree.discard();
                checkpoints.clear();
                throw new TransferException(e.getMessage(), false, e);
            }
        }

        /** Returns the walk's last ordinal, once TREE_END arrived. */
        private long receiveTree(TreeStreamTarget tree, MemorySegment buffer, long total)
                throws IOException, TransferException, CopyException {
            List<ExtendedAttribute> attributes = new ArrayList<>();
            long attributeBytes = 0;
            long attributesOf = -1;
            long filesBefore = 0;
            while (true) {
                if (canceled.getAsBoolean()) throw new CopyException("canceled");
                Header frame = in.next();
                watchdog.touch();
                switch (frame.type()) {
                    case XATTR -> {
                        if (!attributes.isEmpty() && frame.offset() != attributesOf) {
                            throw new FrameException("extended attributes of entries " + attributesOf + " and "
                                    + frame.offset() + " mixed");
                        }
                        attributesOf = frame.offset();
                        attributeBytes += frame.length();
                        if (attributes.size() >= MAX_ATTRIBUTES || attributeBytes > MAX_ATTRIBUTE_BYTES) {
                            throw new FrameException("more than " + MAX_ATTRIBUTES + " extended attributes or "
                                    + MAX_ATTRIBUTE_BYTES + " bytes of them for entry " + frame.offset());
                        }
                        attributes.add(Messages.attribute(in.payload(frame)));
                    }
                    case ENTRY -> {
                        TreeEntry entry = Messages.entry(in.payload(frame));
                        if (!attributes.isEmpty() && frame.offset() != attributesOf) {
                            throw new FrameException(
                                    "extended attributes of entry " + attributesOf + " before entry " + frame.offset());
                        }
                        tree.entry(frame.offset(), entry, List.copyOf(attributes));
                        attributes.clear();
                        attributeBytes = 0;
                        filesBefore = entry.filesBefore();
                    }
                    case DATA -> {
                        MemorySegment slot = buffer.asSlice(0, frame.length());
                        in.payloadInto(frame, slot);
                        try {
                            request.rate().acquire(frame.length());
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            throw new TransferException("interrupted", true);
                        }
                        tree.data(slot, frame.offset(), frame.length());
                        dataBytes += frame.length();
                        sinceCheckpoint += frame.length();
                        options.metrics().bytes(Role.TARGET, Kind.DATA, frame.length());
                        progress.update(filesBefore + frame.offset() + frame.length(), total, dataBytes, holeBytes);
                    }
                    case ZERO -> {
                        tree.zero(frame.offset(), frame.span());
                        holeBytes += frame.span();
                        options.metrics().bytes(Role.TARGET, Kind.ZERO, frame.span());
                    }
                    case END -> {
                        in.payload(frame);
                        tree.end(frame.span(), frame.offset());
                        maybeCheckpointTree(tree);
                    }
                    case TREE_END -> {
                        in.payload(frame);
                        if (!attributes.isEmpty())
                            throw new FrameException("extended attributes without an entry at the end of the tree");
                        progress.update(total, total, dataBytes, holeBytes);
                        return frame.offset();
                    }
                    case KEEPALIVE -> {}
                    case ERROR -> throw remoteError(frame);
                    default -> throw new FrameException("unexpected " + frame.type() + " frame inside a tree");
                }
                if (frame.type() == FrameType.DATA) maybeCheckpointTree(tree);
            }
        }

        private void maybeCheckpointTree(TreeStreamTarget tree) throws CopyException {
            if (sinceCheckpoint >= options.checkpointBytes()
                    || System.nanoTime() - lastCheckpointNanos
                            >= options.checkpointInterval().toNanos()) {
                checkpointTree(tree);
            }
        }

        private void checkpointTree(TreeStreamTarget tree) throws CopyException {
            TreeStreamTarget.Resume durable = tree.makeDurable();
            checkpoints.save(new Checkpoint(durable.offset(), durable.entries(), fingerprint));
            sinceCheckpoint = 0;
            lastCheckpointNanos = System.nanoTime();
        }

        private String verifyTree(TreeStreamTarget tree, boolean resumed)
                throws IOException, TransferException, CopyException {
            progress.verifying();
            out.control(FrameType.DIGEST_REQUEST, 0, 0);
            out.flush();
            CompletableFuture<TreeDigest.Summary> local = CompletableFuture.supplyAsync(
                    () -> {
                        try {
                            return tree.digest();
                        } catch (CopyException e) {
                            throw new CompletionException(e);
                        }
                    },
                    command -> Thread.ofVirtual().name("lk-target-digest").start(command));
            TreeDigest.Summary remote = null;
            while (remote == null) {
                Header frame = in.next();
                watchdog.touch();
                switch (frame.type()) {
                    case DIGEST -> remote = Messages.treeDigest(in.payload(frame));
                    case KEEPALIVE -> {}
                    case ERROR -> throw remoteError(frame);
                    default -> throw new FrameException("expected DIGEST, got " + frame.type());
                }
            }
            TreeDigest.Summary written;
            try {
                written = local.join();
            } catch (CompletionException e) {
                if (e.getCause() instanceof CopyException failure) throw failure;
                throw e;
            }
            if (!remote.equals(written)) {
                tree.discard();
                checkpoints.clear();
                String what = remote.content().equals(written.content()) ? "hard links" : "content";
                throw new TransferException(
                        "verification failed: the source tree's " + what + " digest is "
                                + (what.equals("content") ? remote.content() : remote.links()) + " but the target "
                                + request.target() + " has "
                                + (what.equals("content") ? written.content() : written.links())
                                + (resumed ? "; the next attempt starts afresh" : ""),
                        resumed);
            }
            return written.content();
        }

        private void bye() {
            try {
                out.control(FrameType.BYE, 0, 0);
                out.flush();
            } catch (IOException e) {
                // the target is complete; a source that already hung up changes nothing
            }
        }

        private void checkPlace(Header frame, long rangeEnd) throws FrameException {
            if (frame.offset() != watermark) {
                throw new FrameException(
                        frame.type() + " frame at offset " + frame.offset() + " where " + watermark + " was due");
            }
            if (frame.span() == 0 || frame.span() > rangeEnd - watermark) {
                throw new FrameException(frame.type() + " frame of " + frame.span() + " bytes at " + frame.offset()
                        + " runs past the range's end at " + rangeEnd);
            }
        }

        private void advance(ImageStreamTarget target, WriteBehind writes, long span) throws CopyException {
            watermark += span;
            sinceCheckpoint += span;
            progress.update(
                    settledBefore + watermark - (inBody ? target.bodyStart() : 0), target.size(), dataBytes, holeBytes);
            if (inBody
                    && (sinceCheckpoint >= options.checkpointBytes()
                            || System.nanoTime() - lastCheckpointNanos
                                    >= options.checkpointInterval().toNanos())) {
                // recorded by a writer once everything before it is written and synced; the reader goes on receiving
                Checkpoint reached = new Checkpoint(watermark, 0, fingerprint);
                writes.durable(() -> checkpoints.save(reached));
                sinceCheckpoint = 0;
                lastCheckpointNanos = System.nanoTime();
            }
        }

        private String verify(ImageStreamTarget target, boolean resumed)
                throws IOException, TransferException, CopyException {
            progress.verifying();
            out.control(FrameType.DIGEST_REQUEST, 0, 0);
            out.flush();
            CompletableFuture<String> local = CompletableFuture.supplyAsync(
                    () -> {
                        try {
                            return target.digest();
                        } catch (CopyException e) {
                            throw new CompletionException(e);
                        }
                    },
                    command -> Thread.ofVirtual().name("lk-target-digest").start(command));
            String remote = null;
            while (remote == null) {
                Header frame = in.next();
                watchdog.touch();
                switch (frame.type()) {
                    case DIGEST -> remote = Messages.text(in.payload(frame));
                    case KEEPALIVE -> {}
                    case ERROR -> throw remoteError(frame);
                    default -> throw new FrameException("expected DIGEST, got " + frame.type());
                }
            }
            String written;
            try {
                written = local.join();
            } catch (CompletionException e) {
                if (e.getCause() instanceof CopyException failure) throw failure;
                throw e;
            }
            if (!remote.equals(written)) {
                target.discard();
                checkpoints.clear();
                // a resumed copy may have stitched in something stale: one fresh attempt; a fresh copy that differs
                // fails
                throw new TransferException(
                        "verification failed: the source has checksum " + remote + " but the target " + request.target()
                                + " has " + written + (resumed ? "; the next attempt starts afresh" : ""),
                        resumed);
            }
            return written;
        }

        private Header expect(FrameType type) throws IOException, TransferException {
            Header frame = in.next();
            watchdog.touch();
            if (frame.type() == FrameType.ERROR) throw remoteError(frame);
            if (frame.type() != type) throw new FrameException("expected " + type + ", got " + frame.type());
            return frame;
        }

        private TransferException remoteError(Header frame) throws IOException {
            String message = Messages.text(in.payload(frame));
            return new TransferException(
                    "source agent " + request.sourceNode() + ": " + message, (frame.flags() & Frames.RETRYABLE) != 0);
        }

        private void discardPartial(Messages.Info info) {
            try {
                ImageStreamTarget.open(
                                request.target(),
                                new ImageStreamTarget.SourceImage(info.size(), 0, 0644),
                                new ImageStreamTarget.Options(
                                        request.content(), false, true, request.filesystemOverhead()),
                                -1)
                        .discard();
            } catch (CopyException e) {
                // nothing to discard that could be opened
            }
        }

        /** The connection failed mid-attempt (what arrived was checkpointed before the target was closed). */
        TransferException interrupted(IOException e) {
            if (e instanceof FrameException.Corrupt) options.metrics().crcError();
            String what = watchdog.stalled()
                    ? "no progress for " + options.stall().toSeconds() + " s; the connection was closed"
                    : TlsChannel.reason(e);
            return new TransferException(
                    "pull of task " + request.taskId() + " from " + request.sourceNode() + " at "
                            + request.sourceAddress() + " interrupted at " + watermark + ": " + what,
                    true,
                    e);
        }
    }
}
