package dev.lockkeeper.sidecar.linux;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading an extended attribute whose size changes between the size query and the read. */
class ExtendedAttributeReadTest {
    @TempDir
    Path dir;

    @Test
    void aValueThatGrewAfterTheSizeQueryIsAskedForAgain() throws Exception {
        Path file = Files.createFile(dir.resolve("file"));
        byte[] grown = "a value another process has just made longer".repeat(8).getBytes(UTF_8);
        Files.getFileAttributeView(file, UserDefinedFileAttributeView.class).write("grows", ByteBuffer.wrap(grown));
        AtomicInteger sizeQueries = new AtomicInteger();
        try (Arena arena = Arena.ofConfined()) {
            long path = arena.allocateFrom(file.toString()).address();
            long name = arena.allocateFrom("user.grows").address();
            // the first size query answers with the size from before the value grew; the real read then gets ERANGE
            NativeFile.SizedRead grewMeanwhile = (address, size) -> size == 0 && sizeQueries.getAndIncrement() == 0
                    ? 10
                    : Syscalls.call(Syscalls.SYS_LGETXATTR, path, name, address, size);

            MemorySegment value = NativeFile.readGrowing(arena, grewMeanwhile, "lgetxattr", file.toString());

            assertArrayEquals(grown, value.toArray(JAVA_BYTE));
            assertEquals(2, sizeQueries.get(), "asked for the size again after ERANGE");
        }
    }
}
