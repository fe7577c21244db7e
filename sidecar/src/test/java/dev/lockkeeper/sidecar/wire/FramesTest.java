package dev.lockkeeper.sidecar.wire;

import static org.junit.jupiter.api.Assertions.*;

import dev.lockkeeper.sidecar.copy.Content;
import dev.lockkeeper.sidecar.wire.Frames.Header;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class FramesTest {
    private static byte[] frames(IoAction action) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Frames.Writer writer = new Frames.Writer(bytes);
        action.run(writer);
        writer.flush();
        return bytes.toByteArray();
    }

    private interface IoAction {
        void run(Frames.Writer writer) throws IOException;
    }

    private static Frames.Reader reader(byte[] bytes) {
        return new Frames.Reader(new ByteArrayInputStream(bytes));
    }

    @Test
    void dataZeroAndControlFramesRoundTrip() throws IOException {
        byte[] payload = new byte[(1 << 20) + 123];
        new Random(1).nextBytes(payload);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment data = arena.allocate(payload.length);
            MemorySegment.copy(payload, 0, data, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, payload.length);
            Messages.Info info = new Messages.Info(1L << 40, 12345, 0640, true, Content.KUBEVIRT, "file:1:2:3:4.5");
            byte[] stream = frames(w -> {
                w.control(FrameType.INFO, 0, 0, 0, info.encode());
                w.control(FrameType.ZERO, 4096, 1L << 39);
                w.data(data, 8192, Frames.dataCrc(data, 8192));
                w.control(FrameType.END, 0, 1L << 40, 0, new Messages.End(payload.length, 1L << 39).encode());
            });
            Frames.Reader reader = reader(stream);
            assertEquals(info, Messages.Info.decode(reader.payload(reader.next())));
            Header zero = reader.next();
            assertEquals(new Header(FrameType.ZERO, 0, 0, 4096, 1L << 39, zero.crc()), zero);
            Header frame = reader.next();
            assertEquals(FrameType.DATA, frame.type());
            assertEquals(8192, frame.offset());
            assertEquals(payload.length, frame.span());
            MemorySegment received = arena.allocate(payload.length);
            reader.payloadInto(frame, received);
            assertArrayEquals(payload, received.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
            Header end = reader.next();
            assertEquals(new Messages.End(payload.length, 1L << 39), Messages.End.decode(reader.payload(end)));
            assertEquals(stream.length, reader.bytesRead());
            assertEquals(stream.length - 4 * Frames.HEADER_BYTES, info.encode().length + payload.length + 16);
        }
    }

    @Test
    void aCrcComputedAheadCoversTheOffsetNotOnlyThePayload() throws Exception {
        byte[] payload = new byte[64 << 10];
        new Random(2).nextBytes(payload);
        MemorySegment data = MemorySegment.ofArray(payload);
        // as the source does it: the reading thread computes the CRC, the sending thread writes the frame
        int[] ahead = new int[2];
        Thread reading = Thread.ofPlatform().start(() -> {
            ahead[0] = Frames.dataCrc(data, 8192);
            ahead[1] = Frames.dataCrc(data, 4096);
        });
        reading.join();
        Frames.Reader good = reader(frames(w -> w.data(data, 8192, ahead[0])));
        Frames.Reader misplaced = reader(frames(w -> w.data(data, 8192, ahead[1])));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment received = arena.allocate(payload.length);
            good.payloadInto(good.next(), received);
            assertArrayEquals(payload, received.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
            Header frame = misplaced.next();
            assertThrows(FrameException.Corrupt.class, () -> misplaced.payloadInto(frame, received));
        }
    }

    @Test
    void aFlippedPayloadByteFailsTheCrcBeforeTheFrameIsUsed() throws IOException {
        byte[] stream = dataFrame(4096, 64 << 10);
        stream[Frames.HEADER_BYTES + 1000] ^= 0x10;
        Frames.Reader reader = reader(stream);
        Header frame = reader.next();
        try (Arena arena = Arena.ofConfined()) {
            var failure = assertThrows(
                    FrameException.Corrupt.class, () -> reader.payloadInto(frame, arena.allocate(frame.length())));
            assertTrue(
                    failure.getMessage().startsWith("DATA frame at offset 4096 failed its CRC32C check"),
                    failure.getMessage());
        }
    }

    @Test
    void aFlippedOffsetFailsTheCrcToo() throws IOException {
        byte[] stream = dataFrame(4096, 4096);
        stream[14] ^= 0x01; // inside the u64 offset
        Frames.Reader reader = reader(stream);
        Header frame = reader.next();
        try (Arena arena = Arena.ofConfined()) {
            assertThrows(FrameException.Corrupt.class, () -> reader.payloadInto(frame, arena.allocate(frame.length())));
        }
    }

    @Test
    void hostileHeadersAreRefusedBeforeAnyPayloadIsRead() {
        assertRefused(
                header(4, 0xffffffffL, 0, 0xffffffffL),
                "DATA frame announces 4294967295 payload bytes; at most 4194304 are allowed");
        assertRefused(
                header(4, (4 << 20) + 1, 0, (4 << 20) + 1),
                "DATA frame announces 4194305 payload bytes; at most 4194304 are allowed");
        assertRefused(
                header(2, (64 << 10) + 1, 0, 0), "INFO frame announces 65537 payload bytes; at most 65536 are allowed");
        assertRefused(header(5, 10, 0, 10), "ZERO frame announces 10 payload bytes; at most 0 are allowed");
        assertRefused(header(99, 0, 0, 0), "unknown frame type 99");
        assertRefused(header(0, 0, 0, 0), "unknown frame type 0");
        assertRefused(header(4, 100, 0, 200), "DATA frame of 100 bytes spans 200");
        assertRefused(header(5, 0, -1, 10), "ZERO frame with a negative offset or span");
        byte[] reserved = header(10, 0, 0, 0);
        reserved[3] = 1;
        assertRefused(reserved, "KEEPALIVE frame with reserved bits set");
    }

    @Test
    void truncatedFramesAreCleanEndsOfStream() throws IOException {
        byte[] stream = dataFrame(0, 8192);
        var inHeader = assertThrows(
                EOFException.class, () -> reader(Arrays.copyOf(stream, 10)).next());
        assertEquals("the peer closed the connection inside a frame header (10 of 28 bytes)", inHeader.getMessage());
        assertEquals(
                "the peer closed the connection",
                assertThrows(EOFException.class, () -> reader(new byte[0]).next())
                        .getMessage());
        Frames.Reader reader = reader(Arrays.copyOf(stream, Frames.HEADER_BYTES + 5000));
        Header frame = reader.next();
        try (Arena arena = Arena.ofConfined()) {
            var inPayload = assertThrows(EOFException.class, () -> reader.payloadInto(frame, arena.allocate(8192)));
            assertEquals(
                    "the peer closed the connection inside a DATA payload (5000 of 8192 bytes)",
                    inPayload.getMessage());
        }
    }

    @Test
    void malformedControlPayloadsAreRefused() {
        assertThrows(FrameException.class, () -> Messages.Hello.decode(new byte[] {0, 5, 'a'}));
        assertThrows(FrameException.class, () -> Messages.End.decode(new byte[17]));
        byte[] info = new Messages.Info(-5, 0, 0, false, Content.KUBEVIRT, "x").encode();
        assertEquals(
                "INFO with a negative size",
                assertThrows(FrameException.class, () -> Messages.Info.decode(info))
                        .getMessage());
    }

    private static byte[] dataFrame(long offset, int length) throws IOException {
        byte[] payload = new byte[length];
        new Random(length).nextBytes(payload);
        MemorySegment data = MemorySegment.ofArray(payload);
        return frames(w -> w.data(data, offset, Frames.dataCrc(data, offset)));
    }

    private static byte[] header(int type, long length, long offset, long span) {
        ByteBuffer header = ByteBuffer.allocate(Frames.HEADER_BYTES);
        header.put(0, (byte) type).putInt(4, (int) length).putLong(8, offset).putLong(16, span);
        return header.array();
    }

    private static void assertRefused(byte[] header, String message) {
        FrameException refused =
                assertThrows(FrameException.class, () -> reader(header).next());
        assertEquals(message, refused.getMessage());
    }
}
