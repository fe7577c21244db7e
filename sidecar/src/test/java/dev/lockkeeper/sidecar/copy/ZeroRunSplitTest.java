package dev.lockkeeper.sidecar.copy;

import static dev.lockkeeper.sidecar.copy.ImageCopier.BLOCK;
import static dev.lockkeeper.sidecar.copy.ImageCopier.CHUNK;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.lockkeeper.sidecar.copy.ImageCopier.Chunk;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The zero scan that decides which bytes of a zero-scanned source (a block device) are holes: exact runs for every
 * layout of a chunk. Runs are cut at absolute 4 KiB block edges; a block with a single non-zero byte, wherever it is,
 * is data; bytes of the buffer outside the chunk (before an unaligned start, after an unaligned end) never count.
 */
class ZeroRunSplitTest {
    private static final byte GARBAGE = (byte) 0xA5;

    /** One run as the splitter reports it. */
    record Run(long from, long to, boolean zero) {
        static Run zero(long from, long to) {
            return new Run(from, to, true);
        }

        static Run data(long from, long to) {
            return new Run(from, to, false);
        }
    }

    /**
     * @param bufferStart the file offset of the buffer's byte 0 (block-aligned, as {@link ImageCopier#readChunk} makes it)
     * @param dataAt      file offsets of the non-zero bytes inside the chunk; every other byte of the chunk is zero
     * @param outside     file offsets of non-zero bytes in the buffer but outside the chunk, which must be ignored
     */
    record Layout(
            String name, long bufferStart, Chunk chunk, List<Long> dataAt, List<Long> outside, List<Run> expected) {
        @Override
        public String toString() {
            return name;
        }
    }

    private static Chunk chunk(long start, long end) {
        return new Chunk(start, end, false);
    }

    /** Every byte of {@code [from, to)} non-zero, as a list of offsets (only the ones that matter are listed). */
    private static List<Long> everyBlockOf(long from, long to) {
        List<Long> offsets = new ArrayList<>();
        for (long block = from; block < to; block += BLOCK) offsets.add(block + BLOCK / 2);
        return offsets;
    }

    static Stream<Layout> layouts() {
        long c = CHUNK;
        long b = BLOCK;
        return Stream.of(
                new Layout("all zero", 0, chunk(0, c), List.of(), List.of(), List.of(Run.zero(0, c))),
                new Layout("all data", 0, chunk(0, c), everyBlockOf(0, c), List.of(), List.of(Run.data(0, c))),
                new Layout(
                        "zero run at the start",
                        0,
                        chunk(0, c),
                        everyBlockOf(3 * b, c),
                        List.of(),
                        List.of(Run.zero(0, 3 * b), Run.data(3 * b, c))),
                new Layout(
                        "zero run at the end",
                        0,
                        chunk(0, c),
                        everyBlockOf(0, c - 2 * b),
                        List.of(),
                        List.of(Run.data(0, c - 2 * b), Run.zero(c - 2 * b, c))),
                new Layout(
                        "zero run in the middle",
                        0,
                        chunk(0, c),
                        Stream.concat(everyBlockOf(0, 2 * b).stream(), everyBlockOf(5 * b, c).stream())
                                .toList(),
                        List.of(),
                        List.of(Run.data(0, 2 * b), Run.zero(2 * b, 5 * b), Run.data(5 * b, c))),
                new Layout(
                        "one non-zero byte, the last of a block",
                        0,
                        chunk(0, c),
                        List.of(6 * b - 1),
                        List.of(),
                        List.of(Run.zero(0, 5 * b), Run.data(5 * b, 6 * b), Run.zero(6 * b, c))),
                new Layout(
                        "one non-zero byte, the first of the last word of a block",
                        0,
                        chunk(0, c),
                        List.of(6 * b - 8),
                        List.of(),
                        List.of(Run.zero(0, 5 * b), Run.data(5 * b, 6 * b), Run.zero(6 * b, c))),
                new Layout(
                        "one non-zero byte, the first of a block",
                        0,
                        chunk(0, c),
                        List.of(7 * b),
                        List.of(),
                        List.of(Run.zero(0, 7 * b), Run.data(7 * b, 8 * b), Run.zero(8 * b, c))),
                new Layout(
                        "one non-zero byte, the last of the chunk",
                        0,
                        chunk(0, c),
                        List.of(c - 1),
                        List.of(),
                        List.of(Run.zero(0, c - b), Run.data(c - b, c))),
                new Layout(
                        "two data blocks apart, one zero block between",
                        0,
                        chunk(0, c),
                        List.of(b - 1, 2 * b),
                        List.of(),
                        List.of(Run.data(0, b), Run.zero(b, 2 * b), Run.data(2 * b, 3 * b), Run.zero(3 * b, c))),
                new Layout(
                        "unaligned tail, all zero, garbage after it in the buffer",
                        0,
                        chunk(0, 2 * b + 1808),
                        List.of(),
                        List.of(2 * b + 1808, 3 * b - 1),
                        List.of(Run.zero(0, 2 * b + 1808))),
                new Layout(
                        "unaligned tail holding the only data",
                        0,
                        chunk(0, 2 * b + 1808),
                        List.of(2 * b + 1807),
                        List.of(2 * b + 1808),
                        List.of(Run.zero(0, 2 * b), Run.data(2 * b, 2 * b + 1808))),
                new Layout(
                        "unaligned start, garbage before it in the buffer",
                        b,
                        chunk(b + 904, 8 * b),
                        List.of(4 * b),
                        List.of(b, b + 903),
                        List.of(Run.zero(b + 904, 4 * b), Run.data(4 * b, 5 * b), Run.zero(5 * b, 8 * b))),
                new Layout(
                        "unaligned start, its partial block holding data",
                        b,
                        chunk(b + 904, 8 * b),
                        List.of(2 * b - 1),
                        List.of(b),
                        List.of(Run.data(b + 904, 2 * b), Run.zero(2 * b, 8 * b))),
                new Layout(
                        "a later chunk of the image, offsets absolute",
                        c,
                        chunk(c, 2 * c),
                        List.of(c + 3 * b + 17),
                        List.of(),
                        List.of(Run.zero(c, c + 3 * b), Run.data(c + 3 * b, c + 4 * b), Run.zero(c + 4 * b, 2 * c))));
    }

    /**
     * The zero test reads a block eight words (64 bytes) at a time: a single non-zero byte in any one of the eight, in
     * any step of the block, makes the block data.
     */
    static Stream<Layout> oneByteInEachWordOfAStep() {
        long c = CHUNK;
        long b = BLOCK;
        return IntStream.range(0, 8).mapToObj(word -> {
            long at = 9 * b + 3 * 64 + word * 8L + 5;
            return new Layout(
                    "one non-zero byte in word " + word + " of a 64-byte step",
                    0,
                    chunk(0, c),
                    List.of(at),
                    List.of(),
                    List.of(Run.zero(0, 9 * b), Run.data(9 * b, 10 * b), Run.zero(10 * b, c)));
        });
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource({"layouts", "oneByteInEachWordOfAStep"})
    void everyLayoutSplitsIntoItsExactRuns(Layout layout) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buffer = arena.allocate(CHUNK, BLOCK);
            for (long offset : layout.dataAt()) buffer.set(JAVA_BYTE, offset - layout.bufferStart(), (byte) 1);
            for (long offset : layout.outside()) buffer.set(JAVA_BYTE, offset - layout.bufferStart(), GARBAGE);
            List<Run> runs = new ArrayList<>();
            ImageCopier.splitZeroRuns(
                    buffer,
                    layout.bufferStart(),
                    layout.chunk(),
                    (from, to, zero) -> runs.add(new Run(from, to, zero)));
            assertEquals(layout.expected(), runs);
        }
    }
}
