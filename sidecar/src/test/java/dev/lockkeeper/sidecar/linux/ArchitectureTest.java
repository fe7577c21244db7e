package dev.lockkeeper.sidecar.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lockkeeper.sidecar.linux.Syscalls.Architecture;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The system call table is chosen by os.arch, and an architecture without one is refused, never guessed. */
class ArchitectureTest {

    @Test
    void knownArchitecturesGetTheirTable() {
        assertEquals(Architecture.X86_64, Architecture.of("amd64"));
        assertEquals(Architecture.X86_64, Architecture.of("x86_64"));
        assertEquals(Architecture.AARCH64, Architecture.of("aarch64"));
    }

    @Test
    void otherArchitecturesAreRefusedByName() {
        for (String arch : new String[] {"s390x", "ppc64le", "riscv64", "arm", "x86"}) {
            UnsupportedPlatformException refused =
                    assertThrows(UnsupportedPlatformException.class, () -> Architecture.of(arch));
            assertTrue(
                    refused.getMessage().contains("architecture " + arch + " is not supported"), refused.getMessage());
        }
    }

    @Test
    void thisMachinesTableIsTheOneInUseAndWorks() throws Exception {
        assertEquals(Architecture.of(System.getProperty("os.arch")), Syscalls.ARCHITECTURE);
        // statx through the table: a wrong number would fail or answer garbage
        FileStat root = NativeFile.statNoFollow(Path.of("/"));
        assertEquals(FileStat.FileType.DIRECTORY, root.type());
    }
}
