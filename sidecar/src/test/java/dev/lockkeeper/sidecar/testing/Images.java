package dev.lockkeeper.sidecar.testing;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;

/** Sparse test images: a given apparent size with pseudo-random data at given ranges, holes elsewhere. */
public final class Images {
    private Images() {}

    /** {@code dataRanges} are (offset, length) pairs. */
    public static Path sparse(Path file, long size, long... dataRanges) throws IOException {
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(0);
            raf.setLength(size);
        }
        for (int i = 0; i < dataRanges.length; i += 2) writeRandom(file, dataRanges[i], dataRanges[i + 1], i);
        return file;
    }

    public static void writeRandom(Path file, long offset, long length, long seed) throws IOException {
        Random random = new Random(seed);
        byte[] block = new byte[1 << 20];
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            for (long done = 0; done < length; ) {
                random.nextBytes(block);
                int n = (int) Math.min(block.length, length - done);
                ByteBuffer buffer = ByteBuffer.wrap(block, 0, n);
                while (buffer.hasRemaining()) channel.write(buffer, offset + done + buffer.position());
                done += n;
            }
            channel.force(true);
        }
    }
}
