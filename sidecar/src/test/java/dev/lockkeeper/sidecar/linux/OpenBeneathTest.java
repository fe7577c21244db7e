package dev.lockkeeper.sidecar.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.lockkeeper.sidecar.linux.NativeFile.Mode;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The containment primitive under the tree copy: what openat2 beneath a root lets through and what it refuses. */
class OpenBeneathTest {
    @TempDir
    Path dir;

    private Path root;

    @BeforeEach
    void hostileTree() throws Exception {
        root = Files.createDirectories(dir.resolve("root/inner")).getParent();
        Files.writeString(root.resolve("inner/file"), "inside");
        Files.writeString(dir.resolve("outside"), "secret");
        Files.createSymbolicLink(root.resolve("escape-dir"), dir);
        Files.createSymbolicLink(root.resolve("inner-dir-link"), root.resolve("inner"));
        Files.createSymbolicLink(root.resolve("file-link"), root.resolve("inner/file"));
    }

    private Errno refusal(String relative) throws Exception {
        try (NativeFile handle = NativeFile.open(root, Mode.READ, Mode.DIRECTORY)) {
            return assertThrows(
                            ErrnoException.class,
                            () -> NativeFile.openBeneath(handle, Path.of(relative), Mode.READ, Mode.NO_FOLLOW))
                    .errno();
        }
    }

    @Test
    void opensARegularFileInside() throws Exception {
        try (NativeFile handle = NativeFile.open(root, Mode.READ, Mode.DIRECTORY);
                NativeFile file = NativeFile.openBeneath(handle, Path.of("inner/file"), Mode.READ, Mode.NO_FOLLOW)) {
            assertEquals(6, file.stat().size());
            assertEquals(root.resolve("inner/file"), file.path());
        }
    }

    @Test
    void refusesEverySymlinkOnTheWayEvenOneThatStaysInside() throws Exception {
        assertEquals(Errno.ELOOP, refusal("escape-dir/outside"));
        assertEquals(Errno.ELOOP, refusal("inner-dir-link/file"));
        assertEquals(Errno.ELOOP, refusal("file-link"));
    }

    @Test
    void refusesDotDotOutOfTheRoot() throws Exception {
        assertEquals(Errno.EXDEV, refusal("../outside"));
        assertEquals(Errno.EXDEV, refusal("inner/../../outside"));
    }
}
