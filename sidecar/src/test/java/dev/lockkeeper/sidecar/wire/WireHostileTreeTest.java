package dev.lockkeeper.sidecar.wire;

import static org.junit.jupiter.api.Assertions.*;

import dev.lockkeeper.sidecar.copy.Content;
import dev.lockkeeper.sidecar.testing.NodeIdentities;
import dev.lockkeeper.sidecar.transfer.TransferException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A forged source (a valid node certificate, a hostile tree stream) against the target side: every record that would
 * write outside the target's staging directory, or write through something the stream made, is refused before a
 * byte is written, and nothing appears outside.
 */
class WireHostileTreeTest {
    private static final int DIRECTORY = 0;
    private static final int FILE = 2;
    private static final int SYMLINK = 3;
    private static final int HARD_LINK = 4;

    @TempDir
    Path dir;

    private NodeIdentities identities;
    private Path outside;
    private Path target;

    @BeforeEach
    void nodes() throws IOException {
        identities = new NodeIdentities(dir.resolve("pki"));
        outside = Files.createDirectories(dir.resolve("outside"));
        Files.writeString(outside.resolve("secret"), "keep me");
        target = Files.createDirectories(dir.resolve("volumes/target"));
    }

    private static byte[] b(String name) {
        return name.getBytes(StandardCharsets.UTF_8);
    }

    /** Runs the forged stream into the target and returns the failure's message. */
    private String refused(ForgedSource.Script script) throws Exception {
        try (ForgedSource forged = new ForgedSource(NodeTls.load(identities.node("src")), script)) {
            TlsPuller puller = new TlsPuller(
                    NodeTls.load(identities.node("dst")), TlsPuller.Options.DEFAULT.withStall(Duration.ofSeconds(5)));
            TransferException failed = assertThrows(
                    TransferException.class,
                    () -> puller.pull(
                            WireNodes.request("h", forged.address(), target, Content.ARCHIVE),
                            new MemoryCheckpoints(),
                            WireNodes.QUIET,
                            () -> false));
            assertNothingOutside();
            return failed.getMessage();
        }
    }

    private void assertNothingOutside() throws IOException {
        try (Stream<Path> all = Files.walk(dir.resolve("volumes"))) {
            Path staging = target.resolve(".lockkeeper-partial");
            List<String> found = all.filter(p -> !p.startsWith(staging))
                    .map(p -> dir.relativize(p).toString())
                    .sorted()
                    .toList();
            // besides its staging directory (which marks it unfinished) the target holds nothing: nothing published
            assertEquals(List.of("volumes", "volumes/target"), found);
            assertTrue(Files.isDirectory(staging));
        }
        try (Stream<Path> all = Files.list(outside)) {
            assertEquals(
                    List.of("secret"), all.map(p -> p.getFileName().toString()).toList());
        }
        assertEquals("keep me", Files.readString(outside.resolve("secret")));
        assertFalse(Files.exists(dir.resolve("escaped")));
        assertFalse(Files.exists(dir.resolve("volumes/escaped")));
    }

    private static void file(Frames.Writer out, long ordinal, List<byte[]> names, byte[] data) throws IOException {
        out.control(FrameType.ENTRY, 0, ordinal, data.length, ForgedSource.entry(FILE, names, data.length, null, null));
        if (data.length > 0) {
            try (var arena = java.lang.foreign.Arena.ofConfined()) {
                var segment = arena.allocate(data.length);
                segment.copyFrom(java.lang.foreign.MemorySegment.ofArray(data));
                out.data(segment, 0, Frames.dataCrc(segment, 0));
            }
        }
        out.control(FrameType.END, 0, data.length, ordinal, new byte[0]);
    }

    @Test
    void dotDotNamesAreRefused() throws Exception {
        String message = refused((out, raw) -> {
            ForgedSource.root(out);
            file(out, 1, List.of(b(".."), b(".."), b("escaped")), b("owned"));
        });
        assertTrue(message.contains("name .. is a dot entry"), message);
    }

    @Test
    void anAbsoluteNameIsRefused() throws Exception {
        String message = refused((out, raw) -> {
            ForgedSource.root(out);
            file(out, 1, List.of(b(outside.resolve("planted").toString())), b("owned"));
        });
        assertTrue(message.contains("holds a '/'"), message);
    }

    @Test
    void anEmptyNameIsRefused() throws Exception {
        String message = refused((out, raw) -> {
            ForgedSource.root(out);
            file(out, 1, List.of(b(""), b("etc")), b("owned"));
        });
        assertTrue(message.contains("is empty"), message);
    }

    @Test
    void aNameWithASlashIsRefusedEvenInsideADirectoryTheStreamMade() throws Exception {
        String message = refused((out, raw) -> {
            ForgedSource.root(out);
            out.control(FrameType.ENTRY, 0, 1, 0, ForgedSource.entry(DIRECTORY, List.of(b("a")), 0, null, null));
            out.control(FrameType.END, 0, 0, 1, new byte[0]);
            file(out, 2, List.of(b("a/../../../escaped")), b("owned"));
        });
        assertTrue(message.contains("holds a '/'"), message);
    }

    @Test
    void aSymlinkThenAWriteThroughItIsRefused() throws Exception {
        String message = refused((out, raw) -> {
            ForgedSource.root(out);
            out.control(
                    FrameType.ENTRY,
                    0,
                    1,
                    0,
                    ForgedSource.entry(SYMLINK, List.of(b("link")), 0, b(outside.toString()), null));
            out.control(FrameType.END, 0, 0, 1, new byte[0]);
            file(out, 2, List.of(b("link"), b("planted")), b("owned"));
        });
        assertTrue(message.contains("entry link/planted is not inside a directory this copy made"), message);
    }

    @Test
    void aHardLinkToSomethingTheStreamDidNotMakeIsRefused() throws Exception {
        String message = refused((out, raw) -> {
            ForgedSource.root(out);
            out.control(
                    FrameType.ENTRY,
                    0,
                    1,
                    0,
                    ForgedSource.entry(
                            SYMLINK,
                            List.of(b("link")),
                            0,
                            b(outside.resolve("secret").toString()),
                            null));
            out.control(FrameType.END, 0, 0, 1, new byte[0]);
            out.control(
                    FrameType.ENTRY,
                    0,
                    2,
                    0,
                    ForgedSource.entry(HARD_LINK, List.of(b("copy-of-secret")), 0, null, List.of(b("link"))));
        });
        assertTrue(message.contains("names link, which is not a file this copy made"), message);
    }

    @Test
    void aHugeRecordLengthIsRefusedBeforeItIsRead() throws Exception {
        String message = refused((out, raw) -> {
            ForgedSource.root(out);
            out.flush();
            byte[] header = new byte[Frames.HEADER_BYTES];
            ByteBuffer.wrap(header)
                    .put(0, (byte) FrameType.ENTRY.code)
                    .putInt(4, 1 << 30)
                    .putLong(8, 1);
            raw.write(header);
        });
        assertTrue(
                message.contains("ENTRY frame announces 1073741824 payload bytes; at most 65536 are allowed"), message);
    }

    @Test
    void aFieldLongerThanItsRecordIsRefused() throws Exception {
        String message = refused((out, raw) -> {
            ForgedSource.root(out);
            byte[] record = ForgedSource.entry(FILE, List.of(b("x")), 0, null, null);
            ByteBuffer.wrap(record).putShort(3, (short) 60_000); // the first name's length
            out.control(FrameType.ENTRY, 0, 1, 0, record);
        });
        assertTrue(message.contains("a field of 60000 bytes in a frame with"), message);
    }

    @Test
    void dataBeyondTheAnnouncedSizeIsRefused() throws Exception {
        String message = refused((out, raw) -> {
            ForgedSource.root(out);
            out.control(FrameType.ENTRY, 0, 1, 2, ForgedSource.entry(FILE, List.of(b("small")), 2, null, null));
            try (var arena = java.lang.foreign.Arena.ofConfined()) {
                var data = arena.allocate(4096);
                out.data(data, 0, Frames.dataCrc(data, 0));
            }
        });
        assertTrue(message.contains("[0, +4096) for small where 0 of its 2 bytes was due"), message);
    }
}
