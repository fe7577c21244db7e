package dev.lockkeeper.sidecar.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs the external tools the tests compare against (cmp, qemu-img, losetup, du, mkfs, mount). */
public final class Commands {
    private Commands() {}

    public record Result(int exitCode, String stdout, String stderr) {}

    public static Result run(String... command) {
        try {
            Path out = Files.createTempFile("lk-cmd", ".out");
            Path err = Files.createTempFile("lk-cmd", ".err");
            try {
                Process process = new ProcessBuilder(command)
                        .redirectOutput(out.toFile())
                        .redirectError(err.toFile())
                        .start();
                if (!process.waitFor(120, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                    throw new AssertionError("timed out: " + String.join(" ", command));
                }
                return new Result(
                        process.exitValue(),
                        Files.readString(out, StandardCharsets.UTF_8),
                        Files.readString(err, StandardCharsets.UTF_8));
            } finally {
                Files.deleteIfExists(out);
                Files.deleteIfExists(err);
            }
        } catch (IOException e) {
            throw new AssertionError("cannot run " + String.join(" ", command), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** Runs a command that must succeed and returns its standard output. */
    public static String ok(String... command) {
        Result result = run(command);
        if (result.exitCode() != 0) {
            throw new AssertionError(String.join(" ", command) + " exited " + result.exitCode() + ": " + result.stderr()
                    + result.stdout());
        }
        return result.stdout();
    }

    public static boolean available(String tool) {
        return run("sh", "-c", "command -v " + tool).exitCode() == 0;
    }

    public static boolean isRoot() {
        return ok("id", "-u").trim().equals("0");
    }

    /** {@code cmp} of the first {@code length} bytes; true when equal. */
    public static boolean sameBytes(Path a, Path b, long length) {
        return run("cmp", "-n", Long.toString(length), a.toString(), b.toString())
                        .exitCode()
                == 0;
    }

    /** {@code qemu-img compare}: raw images equal, a shorter one counting as zero-padded unless strict. */
    public static Result qemuCompare(Path a, Path b) {
        return run("qemu-img", "compare", "-f", "raw", "-F", "raw", a.toString(), b.toString());
    }

    /** Allocated bytes as {@code du} reports them. */
    public static long allocatedBytes(Path file) {
        return Long.parseLong(ok("du", "--block-size=1", file.toString()).split("\\s+")[0]);
    }

    /** java -cp (this test JVM's classpath) dev.lockkeeper.sidecar.Main ARGS, optionally behind a prefix such as setpriv. */
    public static List<String> sidecarCommand(List<String> prefix, String... args) {
        return sidecarCommand(prefix, List.of(), args);
    }

    /** The same with extra JVM options ({@code -Dos.arch=s390x}). */
    public static List<String> sidecarCommand(List<String> prefix, List<String> jvmOptions, String... args) {
        List<String> command = new ArrayList<>(prefix);
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-Xmx64m");
        command.add("--enable-native-access=ALL-UNNAMED");
        command.addAll(jvmOptions);
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add("dev.lockkeeper.sidecar.Main");
        command.addAll(List.of(args));
        return command;
    }
}
