package dev.lockkeeper.sidecar.copy;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.lockkeeper.sidecar.linux.NativeFile;
import dev.lockkeeper.sidecar.testing.Commands;
import dev.lockkeeper.sidecar.testing.Mount;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Extended attributes in a tree copy: ACLs and file capabilities are extended attributes too. Source attributes are
 * set, and copies read back, with the JDK ({@code user.*}) or with python3, setcap and getcap (other namespaces,
 * symlinks), never with the code under test.
 */
class ExtendedAttributeCopyTest {
    /** Root keeps CAP_CHOWN (so owners are copied) but may not set file capabilities or write past file modes. */
    private static final List<String> WITHOUT_SETFCAP_OR_DAC_OVERRIDE =
            List.of("setpriv", "--bounding-set", "-setfcap,-dac_override,-dac_read_search");

    @TempDir
    Path dir;

    @Test
    void userAttributesOfFilesDirectoriesAndTheRootAreCopiedByteForByte() throws Exception {
        Path source = Files.createDirectories(dir.resolve("source"));
        Path docs = Files.createDirectories(source.resolve("docs"));
        Path notes = Files.writeString(docs.resolve("notes.txt"), "hello\n");
        Files.createLink(source.resolve("notes-again"), notes);
        Files.writeString(source.resolve("plain"), "no attributes\n");
        setUserAttribute(notes, "origin", "scanner-7".getBytes(UTF_8));
        setUserAttribute(notes, "binary", new byte[] {0, 1, 2, (byte) 0xff, 0});
        setUserAttribute(notes, "empty", new byte[0]);
        setUserAttribute(docs, "project", "lockkeeper".getBytes(UTF_8));
        setUserAttribute(source, "volume", "pvc-1234".getBytes(UTF_8));
        Path target = dir.resolve("target");

        CopyReport report = new VolumeCopier().copy(CopyRequest.of(source, target));

        assertEquals(List.of(), report.skipped());
        assertEquals(
                Map.of("binary", "000102ff00", "empty", "", "origin", hex("scanner-7")),
                userAttributes(target.resolve("docs/notes.txt")));
        assertEquals(Map.of("project", hex("lockkeeper")), userAttributes(target.resolve("docs")));
        assertEquals(Map.of("volume", hex("pvc-1234")), userAttributes(target));
        assertEquals(
                userAttributes(notes),
                userAttributes(target.resolve("notes-again")),
                "a hard link shares its inode's attributes");
        assertEquals(Map.of(), userAttributes(target.resolve("plain")));
    }

    @Test
    void trustedAttributesOfFilesAndOfSymlinksThemselvesAreCopiedAsRoot() throws Exception {
        assumeTrue(
                Commands.isRoot() && Commands.available("python3"),
                "trusted.* needs CAP_SYS_ADMIN; python3 sets it on a link");
        Path source = Files.createDirectories(dir.resolve("source"));
        Path file = Files.writeString(source.resolve("file"), "x");
        Path link = Files.createSymbolicLink(source.resolve("link"), Path.of("file"));
        Files.createSymbolicLink(source.resolve("bare-link"), Path.of("file"));
        setRawAttribute(file, "trusted.note", "on the file");
        setRawAttribute(link, "trusted.note", "on the link itself");
        Path target = dir.resolve("target");

        CopyReport report = new VolumeCopier().copy(CopyRequest.of(source, target));

        assertEquals(List.of(), report.skipped());
        assertEquals(Map.of("trusted.note", hex("on the file")), rawAttributes(target.resolve("file")));
        assertEquals(Map.of("trusted.note", hex("on the link itself")), rawAttributes(target.resolve("link")));
        assertEquals(Map.of(), rawAttributes(target.resolve("bare-link")), "a link's own attributes, not its target's");
    }

    @Test
    void theSelinuxLabelStaysWithTheVolumeAndIsNotCopied() throws Exception {
        assumeTrue(Commands.isRoot() && Commands.available("python3"), "security.* is set as root");
        Path source = Files.createDirectories(dir.resolve("source"));
        Path file = Files.writeString(source.resolve("file"), "x");
        try {
            setRawAttribute(file, "security.selinux", "system_u:object_r:container_file_t:s0:c1,c2");
        } catch (RuntimeException refused) {
            assumeTrue(false, "this kernel's security module does not take a label here: " + refused.getMessage());
        }
        setRawAttribute(file, "trusted.note", "kept");
        Path target = dir.resolve("target");

        CopyReport report = new VolumeCopier().copy(CopyRequest.of(source, target));

        assertEquals(List.of(), report.skipped(), "left out on purpose, not refused");
        assertEquals(Map.of("trusted.note", hex("kept")), rawAttributes(target.resolve("file")));
    }

    @Test
    void fileCapabilitiesSurviveTheOwnerChangeThatWouldClearThem() throws Exception {
        assumeTrue(Commands.isRoot() && Commands.available("setcap"), "owners and file capabilities are set as root");
        Path source = Files.createDirectories(dir.resolve("source"));
        Path tool = Files.writeString(source.resolve("tool"), "#!/bin/sh\n");
        Commands.ok("chown", "1234:5678", tool.toString());
        Commands.ok("chmod", "0750", tool.toString());
        Commands.ok("setcap", "cap_net_raw+ep", tool.toString());
        Path target = dir.resolve("target");

        new VolumeCopier().copy(CopyRequest.of(source, target));

        assertEquals("cap_net_raw=ep", capabilities(target.resolve("tool")));
        assertEquals(1234, NativeFile.statNoFollow(target.resolve("tool")).uid());
        assertEquals(0750, NativeFile.statNoFollow(target.resolve("tool")).permissions());
    }

    @Test
    void largeValuesAndLongAttributeListsAreReadWhole() throws Exception {
        assumeTrue(
                Commands.isRoot(),
                "mounts a tmpfs, which takes values up to the kernel's 64 KiB limit (ext4: one block)");
        try (Mount tmpfs = Mount.of("tmpfs", dir.resolve("tmpfs"), "size=16m")) {
            Path volume = tmpfs.point();
            Path source = Files.createDirectories(volume.resolve("source"));
            Path file = Files.writeString(source.resolve("file"), "x");
            byte[] large = new byte[60 * 1024];
            new Random(5).nextBytes(large);
            setUserAttribute(file, "large", large);
            for (int i = 0; i < 200; i++) setUserAttribute(file, "n".repeat(90) + i, ("value " + i).getBytes(UTF_8));

            new VolumeCopier().copy(CopyRequest.of(source, volume.resolve("target")));

            Map<String, String> copied = userAttributes(volume.resolve("target/file"));
            assertEquals(201, copied.size());
            assertEquals(userAttributes(file), copied);
        }
    }

    @Test
    void attributesTheTargetFilesystemDoesNotSupportAreReportedAndSkipped() throws Exception {
        assumeTrue(Commands.isRoot(), "mounts a ramfs, which has no extended attributes at all");
        Path source = Files.createDirectories(dir.resolve("source"));
        // ramfs reports no free space, so only a tree without data passes the up-front space check
        Path empty = Files.createFile(source.resolve("empty"));
        Path sub = Files.createDirectories(source.resolve("sub"));
        setUserAttribute(empty, "a", "1".getBytes(UTF_8));
        setUserAttribute(sub, "b", "2".getBytes(UTF_8));
        setUserAttribute(source, "c", "3".getBytes(UTF_8));
        try (Mount ramfs = Mount.of("ramfs", dir.resolve("ramfs"))) {
            Path target = ramfs.point();
            CopyReport report = new VolumeCopier().copy(CopyRequest.of(source, target));

            assertEquals(
                    List.of(
                            ". (extended attribute user.c: the target filesystem does not support it, EOPNOTSUPP)",
                            "empty (extended attribute user.a: the target filesystem does not support it, EOPNOTSUPP)",
                            "sub (extended attribute user.b: the target filesystem does not support it, EOPNOTSUPP)"),
                    report.skipped().stream().sorted().toList());
            assertTrue(Files.isRegularFile(target.resolve("empty")) && Files.isDirectory(target.resolve("sub")));
        }
    }

    @Test
    void withoutThePowerToSetCapabilitiesTheyAreReportedAndReadOnlyEntriesStillGetTheirAttributes() throws Exception {
        assumeTrue(
                Commands.isRoot() && Commands.available("setpriv") && Commands.available("setcap"),
                "drops root's capabilities");
        Path source = Files.createDirectories(dir.resolve("source"));
        Path tool = Files.writeString(source.resolve("tool"), "#!/bin/sh\n");
        Commands.ok("setcap", "cap_net_raw+ep", tool.toString());
        Path readOnly = Files.writeString(source.resolve("read-only"), "x");
        // below the top level: publishing renames top-level directories, which a read-only one refuses without root
        Path sealed = Files.createDirectories(source.resolve("outer/sealed"));
        setUserAttribute(readOnly, "note", "kept".getBytes(UTF_8));
        setUserAttribute(sealed, "note", "kept".getBytes(UTF_8));
        Commands.ok("chmod", "0444", readOnly.toString());
        Commands.ok("chmod", "0555", sealed.toString());
        Path target = dir.resolve("target");

        Commands.Result result = Commands.run(
                Commands.sidecarCommand(WITHOUT_SETFCAP_OR_DAC_OVERRIDE, "copy", source.toString(), target.toString())
                        .toArray(String[]::new));

        assertEquals(0, result.exitCode(), result.stderr());
        assertEquals(
                "lockkeeper-sidecar copy: skipped tool (extended attribute security.capability: this process may not"
                        + " set it, EPERM)",
                result.stderr().strip());
        assertEquals("", capabilities(target.resolve("tool")));
        assertEquals(Map.of("note", hex("kept")), userAttributes(target.resolve("read-only")));
        assertEquals(Map.of("note", hex("kept")), userAttributes(target.resolve("outer/sealed")));
        assertEquals(0444, NativeFile.statNoFollow(target.resolve("read-only")).permissions());
        assertEquals(
                0555, NativeFile.statNoFollow(target.resolve("outer/sealed")).permissions());
    }

    private static void setUserAttribute(Path file, String name, byte[] value) throws IOException {
        Files.getFileAttributeView(file, UserDefinedFileAttributeView.class).write(name, ByteBuffer.wrap(value));
    }

    /** {@code user.*} attributes, name (without "user.") → value in hex. */
    private static Map<String, String> userAttributes(Path file) throws IOException {
        UserDefinedFileAttributeView view =
                Files.getFileAttributeView(file, UserDefinedFileAttributeView.class, LinkOption.NOFOLLOW_LINKS);
        Map<String, String> attributes = new TreeMap<>();
        for (String name : view.list()) {
            ByteBuffer value = ByteBuffer.allocate(view.size(name));
            view.read(name, value);
            attributes.put(name, HexFormat.of().formatHex(value.array(), 0, value.position()));
        }
        return attributes;
    }

    private static void setRawAttribute(Path path, String name, String value) {
        Commands.ok(
                "python3",
                "-c",
                "import os, sys; os.setxattr(sys.argv[1], sys.argv[2], sys.argv[3].encode(), follow_symlinks=False)",
                path.toString(),
                name,
                value);
    }

    /** Every attribute this process can read, of the path itself (a link is not followed): full name → value in hex. */
    private static Map<String, String> rawAttributes(Path path) {
        String listing = Commands.ok("python3", "-c", """
                import os, sys
                for name in os.listxattr(sys.argv[1], follow_symlinks=False):
                    print(name, os.getxattr(sys.argv[1], name, follow_symlinks=False).hex())
                """, path.toString());
        Map<String, String> attributes = new TreeMap<>();
        listing.lines()
                .map(line -> line.split(" ", -1))
                .forEach(nameAndValue -> attributes.put(nameAndValue[0], nameAndValue[1]));
        return attributes;
    }

    /** What getcap shows for a file ("cap_net_raw=ep"), or "" for none. */
    private static String capabilities(Path file) {
        String shown = Commands.ok("getcap", file.toString()).strip();
        return shown.isEmpty() ? "" : shown.substring(shown.indexOf(' ') + 1);
    }

    private static String hex(String text) {
        return HexFormat.of().formatHex(text.getBytes(UTF_8));
    }
}
