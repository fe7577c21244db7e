package dev.lockkeeper.sidecar.copy;

import dev.lockkeeper.sidecar.linux.Errno;
import dev.lockkeeper.sidecar.linux.ErrnoException;
import dev.lockkeeper.sidecar.linux.FileStat;
import dev.lockkeeper.sidecar.linux.NativeFile;
import dev.lockkeeper.sidecar.linux.NativeFile.Mode;
import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * One raw image onto a regular file or a block device, including the completion protocol:
 * <ul>
 * <li>file targets are written as {@code .NAME.lockkeeper-partial} beside the final name, synced, then renamed
 *     (and the directory synced), so the final name only ever holds a complete image;</li>
 * <li>a block device cannot be renamed, so its first {@value #HEADER_WINDOW_BYTES} bytes — where partition
 *     tables, filesystem superblocks and image headers live — are zeroed before any other byte is written and
 *     written last, after everything else is on disk. A device whose copy stopped part-way therefore carries
 *     no recognisable disk header: it probes as blank rather than as a damaged copy of the source.</li>
 * </ul>
 */
final class ImageTransfer {
    static final long HEADER_WINDOW_BYTES = 1 << 20;
    static final String PARTIAL_SUFFIX = ".lockkeeper-partial";

    private final CopyRequest request;
    private final int workers;
    private final Throttle throttle;
    /** One counter across the body and header passes of a device copy. */
    private ProgressCounter progress;

    ImageTransfer(CopyRequest request, int workers) {
        this.request = request;
        this.workers = workers;
        this.throttle = new Throttle(request.maxBytesPerSecond());
    }

    static Path partialNameFor(Path target) {
        return target.resolveSibling("." + target.getFileName() + PARTIAL_SUFFIX);
    }

    /**
     * @param volumeImage the target is {@code disk.img} on a filesystem volume, so upstream's filesystem
     *                    overhead limits how large an image it may hold
     */
    CopyReport toFile(Path source, boolean noFollow, Path target, boolean volumeImage, CopyReport.Kind kind)
            throws CopyException {
        try (ImageSource image = ImageSource.open(source, noFollow)) {
            FileStat sourceStat = image.file.stat();
            SizelessContent.refuse(image.file, sourceStat);
            Path partial = partialNameFor(target);
            String fingerprint = fingerprintOf(sourceStat, image.size);
            long resumeFrom = resumePoint(fingerprint, image.size, partial);
            checkRoomInFilesystem(
                    image,
                    sourceStat,
                    target,
                    volumeImage,
                    resumeFrom < 0 ? 0 : NativeFile.stat(partial).allocatedBytes());
            // a resumable copy keeps its partial file when the process stops, for the next attempt to continue
            if (!resumable()) PartialResults.track(partial);
            try {
                CopyStats stats;
                try (ImageSink sink =
                        resumeFrom < 0 ? freshFile(image, partial) : resumedFile(image, partial, resumeFrom)) {
                    startProgress(image.size, Math.max(resumeFrom, 0));
                    stats = run(image, sink, Math.max(resumeFrom, 0), image.size, fingerprint);
                    Files.setPosixFilePermissions(
                            partial,
                            PosixFilePermissions.fromString(
                                    sourceStat.type() == FileStat.FileType.REGULAR
                                            ? permissionString(sourceStat.permissions())
                                            : "rw-r--r--"));
                    sink.makeDurable();
                }
                checkUnchanged(image, sourceStat);
                Optional<String> checksum = request.verify() ? Optional.of(verify(image, partial)) : Optional.empty();
                if (!resumable() && !PartialResults.claim(partial)) {
                    throw new CopyException("stopped before the copy of " + source + " was finished");
                }
                Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                syncDirectory(target.toAbsolutePath().getParent());
                request.checkpoints().forget();
                return new CopyReport(
                        kind, target, image.scan, image.size, stats.data(), stats.holes(), 1, checksum, List.of());
            } catch (CopyCheckpoints.Pause e) {
                throw e;
            } catch (CopyException | IOException | RuntimeException e) {
                PartialResults.claim(partial);
                Files.deleteIfExists(partial);
                request.checkpoints().forget();
                throw e;
            }
        } catch (IOException e) {
            throw Failures.explain(e);
        }
    }

    private boolean resumable() {
        return request.checkpoints() != CopyCheckpoints.NONE;
    }

    /**
     * Where an earlier attempt's durable data ends, or -1 to start afresh (no mark, or no partial file it could
     * belong to). A source that changed since the mark is never stitched to what was copied of it: the partial file
     * and the mark go, and the copy fails, as it does between two nodes.
     */
    private long resumePoint(String fingerprint, long size, Path partial) throws IOException, CopyException {
        Optional<CopyCheckpoints.Mark> mark = request.checkpoints().last();
        if (mark.isEmpty()) return -1;
        if (!mark.get().sourceFingerprint().equals(fingerprint)) {
            request.checkpoints().forget();
            Files.deleteIfExists(partial);
            throw new CopyException("the source changed between attempts (it was "
                    + mark.get().sourceFingerprint() + ", it is " + fingerprint + "); the copy so far is discarded");
        }
        FileStat existing;
        try {
            existing = NativeFile.statNoFollow(partial);
        } catch (ErrnoException e) {
            if (e.errno() != Errno.ENOENT) throw e;
            existing = null;
        }
        if (existing == null || existing.type() != FileStat.FileType.REGULAR || existing.size() != size) {
            request.checkpoints().forget();
            return -1;
        }
        return Math.min(mark.get().offset(), size);
    }

    private ImageSink freshFile(ImageSource image, Path partial) throws IOException {
        Files.deleteIfExists(partial);
        NativeFile file = NativeFile.open(partial, Mode.WRITE, Mode.CREATE_NEW, Mode.NO_FOLLOW);
        ImageSink sink =
                request.preallocate() ? ImageSink.overAllocated(file, Holes.LEAVE) : ImageSink.overNewFile(file);
        try {
            // final size first: ext4 and XFS serialise O_DIRECT writes that extend a file (and journal
            // each size change), but let writes inside the size proceed side by side
            file.truncate(image.size);
            if (request.preallocate() && image.size > 0) file.allocate(0, image.size);
            return sink;
        } catch (IOException | RuntimeException e) {
            sink.close();
            throw e;
        }
    }

    /** The partial file of an earlier attempt: what it may hold after the mark is cleared, since holes are not written. */
    private ImageSink resumedFile(ImageSource image, Path partial, long from) throws IOException {
        NativeFile file = NativeFile.open(partial, Mode.WRITE, Mode.NO_FOLLOW);
        ImageSink sink =
                request.preallocate() ? ImageSink.overAllocated(file, Holes.LEAVE) : ImageSink.overNewFile(file);
        try {
            if (from < image.size) {
                file.punchHole(from, image.size - from);
                if (request.preallocate()) file.allocate(from, image.size - from);
            }
            sink.makeDurable();
            request.checkpoints().resuming(from);
            return sink;
        } catch (IOException | RuntimeException e) {
            sink.close();
            throw e;
        }
    }

    CopyReport toDevice(Path source, boolean noFollow, Path device, CopyReport.Kind kind) throws CopyException {
        try (ImageSource image = ImageSource.open(source, noFollow)) {
            FileStat sourceStat = image.file.stat();
            SizelessContent.refuse(image.file, sourceStat);
            String fingerprint = fingerprintOf(sourceStat, image.size);
            Optional<CopyCheckpoints.Mark> mark = request.checkpoints().last();
            if (mark.isPresent() && !mark.get().sourceFingerprint().equals(fingerprint)) {
                request.checkpoints().forget();
                throw new CopyException("the source changed between attempts (it was "
                        + mark.get().sourceFingerprint() + ", it is " + fingerprint
                        + "); the copy so far is discarded");
            }
            NativeFile target;
            try {
                target = NativeFile.open(device, Mode.READ_WRITE, Mode.EXCLUSIVE);
            } catch (ErrnoException e) {
                if (e.errno() == Errno.EBUSY) {
                    throw new CopyException("target device " + device
                            + " is in use (mounted, or held open exclusively by another program)");
                }
                throw e;
            }
            Holes holes = Holes.forDevice(request.preallocate(), request.targetIsZero());
            try (ImageSink sink = ImageSink.overAllocated(target, holes)) {
                long capacity = target.blockDeviceSize();
                if (capacity < image.size) {
                    throw new CopyException(
                            "target device " + device + " is too small: it holds " + Sizes.describe(capacity)
                                    + " but the source " + source + " is " + Sizes.describe(image.size));
                }
                long header = Math.min(HEADER_WINDOW_BYTES, image.size);
                long bodyFrom = mark.map(m -> Math.clamp(m.offset(), header, image.size))
                        .orElse(header);
                // same policy as any hole: with --target-is-zero the window already reads as zeros; a resumed copy
                // zeroes it again even then, in case the attempt it continues was stopped while writing it
                if (mark.isPresent() && holes == Holes.LEAVE)
                    Holes.DEALLOCATE.fill(target, new Holes.Offloads(), 0, header);
                else sink.fillHole(0, header);
                if (bodyFrom > header) {
                    // holes are not written on a device declared zero: what the earlier attempt wrote after its mark
                    // must go
                    if (holes == Holes.LEAVE)
                        Holes.DEALLOCATE.fill(target, new Holes.Offloads(), bodyFrom, image.size - bodyFrom);
                    request.checkpoints().resuming(bodyFrom);
                }
                sink.makeDurable();
                startProgress(image.size, bodyFrom - header);
                CopyStats body = run(image, sink, bodyFrom, image.size, fingerprint);
                sink.makeDurable();
                request.checkpoints().record(new CopyCheckpoints.Mark(image.size, fingerprint));
                checkUnchanged(image, sourceStat);
                CopyStats head = run(image, sink, 0, header, null);
                sink.makeDurable();
                try {
                    checkUnchanged(image, sourceStat);
                } catch (CopyException changed) {
                    // written while the header window was copied: take completion back before failing
                    sink.zeroHeaderWindow(header);
                    throw changed;
                }
                Optional<String> checksum = request.verify() ? Optional.of(verify(image, device)) : Optional.empty();
                request.checkpoints().forget();
                return new CopyReport(
                        kind,
                        device,
                        image.scan,
                        image.size,
                        body.data() + head.data(),
                        body.holes() + head.holes(),
                        1,
                        checksum,
                        List.of());
            } catch (CopyCheckpoints.Pause e) {
                throw e;
            } catch (CopyException | IOException | RuntimeException e) {
                // the header window is still zero (or zeroed again): nothing claims the copy is complete
                request.checkpoints().forget();
                throw e;
            }
        } catch (IOException e) {
            throw Failures.explain(e);
        }
    }

    /**
     * What the source looked like: type, identity, size and, for a file, its modification and change times. A device
     * node's times do not follow writes to the device, so for a device this names the device and its size only (the
     * content digest is what catches a device changed between attempts).
     */
    static String fingerprintOf(FileStat stat, long size) {
        boolean block = stat.type() == FileStat.FileType.BLOCK_DEVICE;
        return (block ? "block:" : "file:") + stat.device() + ":" + stat.inode() + ":" + size
                + (block ? "" : ":" + stat.modified() + ":" + stat.changed());
    }

    private record CopyStats(long data, long holes) {}

    /**
     * Copies {@code [from, to)}. With a {@code fingerprint} (the body of a resumable copy) the target is synced and the
     * watermark recorded every {@link CopyCheckpoints#everyBytes} of data or {@link CopyCheckpoints#every}.
     */
    private CopyStats run(ImageSource image, ImageSink sink, long from, long to, String fingerprint)
            throws IOException, CopyException {
        if (progress == null) startProgress(image.size, 0);
        if (fingerprint == null || !resumable()) {
            ImageCopier copier = new ImageCopier(image, sink, progress, throttle, workers, ImageCopier.Settled.NONE);
            copier.copy(from, to);
            return new CopyStats(copier.dataBytes(), copier.holeBytes());
        }
        try (Checkpointing checkpointing = new Checkpointing(sink, fingerprint)) {
            ImageCopier copier = new ImageCopier(image, sink, progress, throttle, workers, checkpointing);
            copier.copy(from, to);
            checkpointing.awaitLast();
            return new CopyStats(copier.dataBytes(), copier.holeBytes());
        }
    }

    /** {@code settledBefore}: bytes an earlier attempt made durable, counted as done from the start. */
    private void startProgress(long size, long settledBefore) {
        progress = new ProgressCounter(size, request.progress());
        if (settledBefore > 0) progress.advance(settledBefore);
    }

    /**
     * Syncs the target, then records the watermark, at the request's interval: {@link CopyCheckpoints#everyBytes} of
     * data written or {@link CopyCheckpoints#every}, whichever first. Data, not image span: what a resumed copy does
     * again is read and write the data after the mark, while holes cost it nothing (a sparse 4 GiB image with 1 GiB of
     * data was synced four times for one interval's worth of work). The
     * sync and the record (which syncs its own file and directory) run on a thread of their own: the copying threads
     * hand the watermark over and go on writing. Done under the copier's lock, they stopped every worker for three
     * fsyncs per checkpoint (sparse 4 GiB image through the agent: 1.91 s against 1.41 s without checkpoints, 5
     * rounds). The rule holds all the same: every byte below the handed-over watermark was written before the sync
     * began, so the record only ever claims durable data; bytes written meanwhile are claimed by a later one. At most
     * one checkpoint is in flight; its failure fails the copy at the next watermark or at the end.
     */
    private final class Checkpointing implements ImageCopier.Settled, AutoCloseable {
        private final ImageSink sink;
        private final String fingerprint;
        private final ExecutorService syncer = Executors.newSingleThreadExecutor(
                Thread.ofPlatform().daemon().name("lk-checkpoint").factory());
        private Future<?> inFlight;
        /** Data bytes written when the last checkpoint was handed over. */
        private long dataHandedOver;

        private long handedOverNanos = System.nanoTime();

        Checkpointing(ImageSink sink, String fingerprint) {
            this.sink = sink;
            this.fingerprint = fingerprint;
        }

        @Override
        public synchronized void upTo(long offset, long dataWritten) throws IOException {
            if (inFlight != null) {
                if (!inFlight.isDone()) return;
                settle();
            }
            CopyCheckpoints checkpoints = request.checkpoints();
            if (dataWritten - dataHandedOver < checkpoints.everyBytes()
                    && System.nanoTime() - handedOverNanos < checkpoints.every().toNanos()) return;
            dataHandedOver = dataWritten;
            handedOverNanos = System.nanoTime();
            inFlight = syncer.submit(() -> {
                sink.makeDurable();
                checkpoints.record(new CopyCheckpoints.Mark(offset, fingerprint));
                return null;
            });
        }

        /** Waits for the checkpoint in flight, if any; its failure is the copy's. */
        synchronized void awaitLast() throws IOException {
            if (inFlight != null) settle();
        }

        private void settle() throws IOException {
            Future<?> last = inFlight;
            inFlight = null;
            try {
                last.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CopyCheckpoints.Pause("interrupted while recording a checkpoint");
            } catch (ExecutionException e) {
                switch (e.getCause()) {
                    case IOException failure -> throw failure;
                    case RuntimeException failure -> throw failure;
                    case Error failure -> throw failure;
                    default -> throw new IllegalStateException(e.getCause());
                }
            }
        }

        /** A copy that failed or paused still waits for the checkpoint in flight: nothing records after it returns. */
        @Override
        public void close() {
            syncer.close();
        }
    }

    /** {@code alreadyHeld}: what the partial file of a resumed copy already occupies. */
    private void checkRoomInFilesystem(
            ImageSource image, FileStat sourceStat, Path target, boolean volumeImage, long alreadyHeld)
            throws IOException, CopyException {
        FileStore store = Files.getFileStore(target.toAbsolutePath().getParent());
        if (volumeImage) {
            long usable = usableImageSize(store.getTotalSpace(), request.filesystemOverhead());
            if (image.size > usable) {
                throw new CopyException("target volume " + target.getParent() + " is too small: its filesystem holds "
                        + Sizes.describe(store.getTotalSpace()) + ", which leaves room for a disk image of at most "
                        + Sizes.describe(usable) + " after " + Math.round(request.filesystemOverhead() * 100)
                        + "% filesystem overhead, but the source is " + Sizes.describe(image.size));
            }
        }
        // a block source's data size is unknown until it is read; a sparse copy may then still hit ENOSPC
        long needed = request.preallocate()
                ? image.size
                : sourceStat.type() == FileStat.FileType.REGULAR
                        ? Math.min(sourceStat.allocatedBytes(), image.size)
                        : 0;
        needed = Math.max(0, needed - alreadyHeld);
        long free = store.getUsableSpace();
        if (needed > free) {
            throw new CopyException("not enough free space on the target filesystem of " + target + ": the copy needs "
                    + Sizes.describe(needed) + " but only " + Sizes.describe(free) + " are free");
        }
    }

    /** Upstream CDI: usable = roundDown(size / (1 + overhead), 1 MiB). */
    static long usableImageSize(long filesystemSize, double overhead) {
        long usable = (long) Math.floor(filesystemSize / (1 + overhead));
        return usable / (1 << 20) * (1 << 20);
    }

    /**
     * A regular source written to during the copy (a VM still running on it) gives a torn image whose every block
     * was copied correctly: only the file's version tells. A block device's inode does not change when its blocks
     * are written, so a device source cannot be checked this way; it must not be in use (a snapshot, or a stopped VM).
     */
    private static void checkUnchanged(ImageSource image, FileStat before) throws IOException, CopyException {
        if (before.type() != FileStat.FileType.REGULAR) return;
        FileStat.Version now = image.file.stat().version();
        if (!now.equals(before.version())) {
            throw new CopyException("source " + image.path() + " changed during the copy (before: " + before.version()
                    + "; after: " + now
                    + "), so the copy may mix old and new data; stop whatever writes to it and copy again");
        }
    }

    private String verify(ImageSource source, Path target) throws CopyException {
        CompletableFuture<String> sourceDigest = CompletableFuture.supplyAsync(() -> digest(source, source.size));
        String targetDigest;
        try (ImageSource written = ImageSource.open(target, true)) {
            targetDigest = digest(written, source.size);
        } catch (IOException e) {
            throw Failures.explain(e);
        } catch (CompletionException e) {
            throw unwrap(e);
        }
        String expected;
        try {
            expected = sourceDigest.join();
        } catch (CompletionException e) {
            throw unwrap(e);
        }
        if (!expected.equals(targetDigest)) {
            throw new CopyException("verification failed: source " + source.path() + " has checksum " + expected
                    + " but target " + target + " has " + targetDigest);
        }
        return expected;
    }

    private static String digest(ImageSource image, long size) {
        try {
            return ContentDigest.of(image, size);
        } catch (IOException e) {
            throw new CompletionException(Failures.explain(e));
        } catch (CopyException e) {
            throw new CompletionException(e);
        }
    }

    private static CopyException unwrap(CompletionException e) {
        return e.getCause() instanceof CopyException c
                ? c
                : new CopyException(String.valueOf(e.getCause()), e.getCause());
    }

    static void syncDirectory(Path directory) throws ErrnoException {
        try (NativeFile handle = NativeFile.open(directory, Mode.READ, Mode.DIRECTORY)) {
            handle.sync();
        }
    }

    static String permissionString(int mode) {
        StringBuilder text = new StringBuilder(9);
        String letters = "rwxrwxrwx";
        for (int bit = 0; bit < 9; bit++) {
            text.append((mode & (0400 >> bit)) != 0 ? letters.charAt(bit) : '-');
        }
        return text.toString();
    }
}
