package dev.lockkeeper.sidecar.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.lockkeeper.sidecar.testing.Commands;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * File names are bytes: names that are not UTF-8 (Latin-1 {@code caf\xe9}, {@code \xff\xfe}), UTF-8 names ({@code été},
 * CJK), a newline and a backslash in a name, in files, directories, symlinks (and their targets) and hard links, copied
 * by a child JVM with no locale at all and with a UTF-8 one. Names are made by a shell from octal escapes, so no Java
 * string (and no locale) is involved in making them; trees are compared byte for byte by diff and by a listing of
 * every entry's name, type, mode, link count, size and mtime made with {@code LC_ALL=C}.
 */
class ByteNamesTest {
    /** caf\xe9, \xff\xfe, été, 日本語, a directory dir\xe9 with in\x80side, links of each kind, new\nline, back\slash. */
    private static final String MAKE_HOSTILE_NAMES = """
            set -e
            cd "$1"
            printf latin1 > "$(printf 'caf\\351')"
            printf ff > "$(printf '\\377\\376')"
            printf utf8 > "$(printf '\\303\\251t\\303\\251')"
            printf cjk > "$(printf '\\346\\227\\245\\346\\234\\254\\350\\252\\236')"
            mkdir "$(printf 'dir\\351')"
            printf inside > "$(printf 'dir\\351/in\\200side')"
            ln -s "$(printf 'caf\\351')" "$(printf 'link\\351')"
            ln -s "$(printf '\\377/nowhere\\376')" "$(printf 'dangling\\377')"
            ln "$(printf 'caf\\351')" "$(printf 'dir\\351/hard\\377')"
            printf nl > "$(printf 'new\\nline')"
            printf bs > 'back\\slash'
            touch -d '2001-02-03 04:05:06' "$(printf 'caf\\351')" "$(printf 'dir\\351')"
            """;
    /** Every entry, one line each, with its bytes made visible by cat -v: the same in every locale. */
    private static final String LIST_TREE = """
            cd "$1"
            LC_ALL=C find . -mindepth 1 \\( -type f -printf '%y %m %n %s %T@ %p\\n' \\) -o \\( ! -type f -printf '%y %m %T@ %p -> %l\\n' \\) \\
              | LC_ALL=C sort | cat -v
            """;

    @TempDir
    Path dir;

    @ParameterizedTest(name = "LANG={0}")
    @ValueSource(strings = {"", "C.UTF-8", "C"})
    void everyNameRoundTripsByteForByteWhateverTheLocale(String lang) throws Exception {
        Path source = Files.createDirectory(dir.resolve("source"));
        Commands.ok("sh", "-c", MAKE_HOSTILE_NAMES, "sh", source.toString());
        Path target = dir.resolve("target");

        Commands.Result copy =
                runWithLocale(lang, "copy", source.toString(), target.toString(), "--content", "archive", "--verify");

        assertEquals(0, copy.exitCode(), copy.stderr());
        assertTrue(copy.stdout().contains("verified: tree+"), copy.stdout());
        assertEquals("", Commands.ok("diff", "-r", "--no-dereference", source.toString(), target.toString()));
        String listed = Commands.ok("sh", "-c", LIST_TREE, "sh", source.toString());
        assertTrue(
                listed.contains("./cafM-i")
                        && listed.contains("./M-^?M-~")
                        && listed.contains("./dirM-i/inM-^@side")
                        && listed.contains("./M-CM-)tM-CM-)")
                        && listed.contains("./linkM-i -> cafM-i")
                        && listed.contains("./danglingM-^? -> M-^?/nowhereM-~")
                        && listed.contains("./back\\slash"),
                listed);
        assertEquals(listed, Commands.ok("sh", "-c", LIST_TREE, "sh", target.toString()));
        assertEquals(
                "same inode",
                Commands.ok(
                                "sh",
                                "-c",
                                "cd \"$1\" && [ $(stat -c %i \"$(printf 'caf\\351')\") = "
                                        + "$(stat -c %i \"$(printf 'dir\\351/hard\\377')\") ] && echo same inode",
                                "sh",
                                target.toString())
                        .trim());
    }

    @Test
    void aMessageShowsANameThatIsNotUtf8WithItsBytesEscaped() throws Exception {
        assumeTrue(Commands.isRoot() && Commands.available("setpriv"), "drops root's read-anything capabilities");
        Path source = Files.createDirectory(dir.resolve("source"));
        Commands.ok(
                "sh",
                "-c",
                "cd \"$1\" && printf secret > \"$(printf 'caf\\351')\" && chmod 000 \"$(printf 'caf\\351')\"",
                "sh",
                source.toString());
        Path target = Files.createDirectory(dir.resolve("target"));

        Commands.Result copy = run(
                List.of("setpriv", "--bounding-set", "-dac_override,-dac_read_search"),
                Map.of(),
                "copy",
                source.toString(),
                target.toString());

        assertEquals(1, copy.exitCode(), copy.stderr());
        assertTrue(
                copy.stderr().contains("permission denied") && copy.stderr().contains(source + "/caf\\xe9"),
                copy.stderr());
        assertFalse(copy.stderr().contains("ENOENT"), copy.stderr());
    }

    /** {@code lang} empty: no LANG, LC_ALL or LC_* at all, so the JVM's file-name encoding is ASCII. */
    private static Commands.Result runWithLocale(String lang, String... args) throws IOException, InterruptedException {
        return run(List.of(), lang.isEmpty() ? Map.of() : Map.of("LANG", lang), args);
    }

    private static Commands.Result run(List<String> prefix, Map<String, String> locale, String... args)
            throws IOException, InterruptedException {
        ProcessBuilder builder = new ProcessBuilder(Commands.sidecarCommand(prefix, args));
        builder.environment()
                .keySet()
                .removeIf(name -> name.equals("LANG") || name.equals("LANGUAGE") || name.startsWith("LC_"));
        builder.environment().putAll(locale);
        Path out = Files.createTempFile("lk-names", ".out");
        Path err = Files.createTempFile("lk-names", ".err");
        try {
            Process process = builder.redirectOutput(out.toFile())
                    .redirectError(err.toFile())
                    .start();
            if (!process.waitFor(120, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new AssertionError("timed out: " + builder.command());
            }
            return new Commands.Result(
                    process.exitValue(),
                    Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }
}
