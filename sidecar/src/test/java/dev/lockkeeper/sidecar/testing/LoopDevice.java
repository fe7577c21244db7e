package dev.lockkeeper.sidecar.testing;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Path;

/** A real block device: a loop device over a backing file, detached on close. */
public final class LoopDevice implements AutoCloseable {
    private final Path backingFile;
    private final Path device;

    private LoopDevice(Path backingFile, Path device) {
        this.backingFile = backingFile;
        this.device = device;
    }

    /** A device of {@code size} bytes that reads as zeros (the backing file is sparse). */
    public static LoopDevice create(Path backingFile, long size) throws IOException {
        try (RandomAccessFile file = new RandomAccessFile(backingFile.toFile(), "rw")) {
            file.setLength(size);
        }
        return new LoopDevice(
                backingFile,
                Path.of(Commands.ok("losetup", "-f", "--show", backingFile.toString())
                        .trim()));
    }

    /** Fills the whole device with pseudo-random bytes: "old data" that a copy must not leave visible. */
    public LoopDevice filledWithOldData() throws IOException {
        long size = Long.parseLong(
                Commands.ok("blockdev", "--getsize64", device.toString()).trim());
        Images.writeRandom(device, 0, size, 99);
        return this;
    }

    public Path path() {
        return device;
    }

    public Path backingFile() {
        return backingFile;
    }

    @Override
    public void close() {
        Commands.run("losetup", "-d", device.toString());
    }
}
