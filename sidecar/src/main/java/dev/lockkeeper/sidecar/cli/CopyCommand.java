package dev.lockkeeper.sidecar.cli;

import dev.lockkeeper.sidecar.copy.Content;
import dev.lockkeeper.sidecar.copy.CopyCheckpoints;
import dev.lockkeeper.sidecar.copy.CopyException;
import dev.lockkeeper.sidecar.copy.CopyReport;
import dev.lockkeeper.sidecar.copy.CopyRequest;
import dev.lockkeeper.sidecar.copy.ProgressListener;
import dev.lockkeeper.sidecar.copy.Sizes;
import dev.lockkeeper.sidecar.copy.VolumeCopier;
import dev.lockkeeper.sidecar.linux.UnsupportedPlatformException;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.DefaultParser;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;
import org.apache.commons.cli.ParseException;
import org.apache.commons.cli.help.HelpFormatter;
import org.apache.commons.cli.help.TextHelpAppendable;

/**
 * {@code copy SRC DST [options]}: parses the command line (commons-cli), runs {@link VolumeCopier}, reports.
 * Exit codes: 0 copied, 1 refused or failed, 2 bad command line, 70 internal error.
 */
public final class CopyCommand {
    static final int FAILED = 1;
    static final int USAGE_ERROR = 2;
    static final int INTERNAL_ERROR = 70;

    enum ProgressStyle {
        AUTO,
        JSON,
        NONE
    }

    private static final String SYNTAX = "lockkeeper-sidecar copy SRC DST [options]";
    private static final String DESCRIPTION = """
            Copies a volume: SRC and DST are each a block device, a regular file, or a directory (a filesystem volume's root).
              block|file -> block|file   raw image, holes kept (zeroed on a device)
              block|file -> directory    DST/disk.img, sparse (--content kubevirt)
              directory  -> block|file   SRC/disk.img written raw (--content kubevirt)
              directory  -> directory    the whole tree except lost+found
            Success is reported only once data and metadata are on disk.""";
    private static final String EXIT_CODES = """
            Exit codes: 0 copied (and verified, with --verify); 1 copy refused or failed, the target is not complete;
            2 bad command line; 70 internal error (a bug; please report it).""";

    private static final Option CONTENT = valued(
            "content",
            "kubevirt|archive",
            "what a filesystem volume holds: kubevirt "
                    + "= one disk.img (lets directories and devices exchange data), archive = any tree (directory to directory only). "
                    + "Default: kubevirt");
    private static final Option PREALLOCATE =
            flag("preallocate", "allocate/write every byte of the target instead of keeping holes");
    private static final Option TARGET_IS_ZERO =
            flag("target-is-zero", "the target device already reads as zeros: skip zeroing the source's holes");
    private static final Option VERIFY = flag(
            "verify",
            "after the copy, checksum source and target (holes count as zeros), "
                    + "fail on mismatch, print the checksum");
    private static final Option PROGRESS = valued(
            "progress",
            "auto|json|none",
            "auto = a live line when stdout is a terminal; "
                    + "json = one JSON object per second on stdout. Default: auto");
    private static final Option MAX_RATE =
            valued("max-rate", "SIZE", "limit data copied per second, e.g. 200M (default: no limit)");
    private static final Option FILESYSTEM_OVERHEAD = valued(
            "filesystem-overhead",
            "FRACTION",
            "share of a filesystem "
                    + "volume reserved for metadata when sizing disk.img (upstream CDI default: 0.06)");
    private static final Option HELP =
            Option.builder("h").longOpt("help").desc("show this help").get();
    private static final Options OPTIONS = new Options()
            .addOption(CONTENT)
            .addOption(PREALLOCATE)
            .addOption(TARGET_IS_ZERO)
            .addOption(VERIFY)
            .addOption(PROGRESS)
            .addOption(MAX_RATE)
            .addOption(FILESYSTEM_OVERHEAD)
            .addOption(HELP);

    private final Path source;
    private final Path target;
    private final Content content;
    private final boolean preallocate;
    private final boolean targetIsZero;
    private final boolean verify;
    private final ProgressStyle progress;
    private final long maxRate;
    private final double filesystemOverhead;

    private CopyCommand(CommandLine line) throws ParseException {
        List<String> operands = line.getArgList();
        if (operands.size() != 2) {
            throw new ParseException(
                    operands.size() < 2
                            ? "expected SRC and DST, got " + operands.size() + " operand(s)"
                            : "expected SRC and DST, got " + operands.size() + " operands: "
                                    + String.join(" ", operands));
        }
        Set<String> seen = new HashSet<>();
        for (Option given : line.getOptions()) {
            if (!seen.add(given.getLongOpt()))
                throw new ParseException("--" + given.getLongOpt() + " is given more than once");
        }
        source = path(operands.get(0));
        target = path(operands.get(1));
        content = choice(line, CONTENT, Content.class, Content.KUBEVIRT);
        preallocate = line.hasOption(PREALLOCATE);
        targetIsZero = line.hasOption(TARGET_IS_ZERO);
        verify = line.hasOption(VERIFY);
        progress = choice(line, PROGRESS, ProgressStyle.class, ProgressStyle.AUTO);
        maxRate = line.hasOption(MAX_RATE) ? size(line.getOptionValue(MAX_RATE)) : 0;
        filesystemOverhead = line.hasOption(FILESYSTEM_OVERHEAD)
                ? fraction(line.getOptionValue(FILESYSTEM_OVERHEAD))
                : CopyRequest.UPSTREAM_FILESYSTEM_OVERHEAD;
    }

    /** Runs {@code copy} with the arguments after the command name. */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        CopyCommand command;
        try {
            CommandLine line =
                    DefaultParser.builder().setAllowPartialMatching(false).get().parse(OPTIONS, args);
            if (line.hasOption(HELP)) {
                printHelp(out);
                return 0;
            }
            command = new CopyCommand(line);
        } catch (ParseException e) {
            err.println("lockkeeper-sidecar copy: " + e.getMessage());
            err.println("Usage: " + SYNTAX + " (try: lockkeeper-sidecar copy --help)");
            return USAGE_ERROR;
        }
        return command.call(out, err);
    }

    private int call(PrintStream out, PrintStream err) {
        ProgressReporter reporter = reporterFor(out);
        CopyRequest request = new CopyRequest(
                source,
                target,
                content,
                preallocate,
                targetIsZero,
                verify,
                filesystemOverhead,
                maxRate,
                reporter == null ? ProgressListener.NONE : reporter,
                CopyCheckpoints.NONE);
        long start = System.nanoTime();
        try {
            CopyReport report;
            try {
                report = new VolumeCopier().copy(request);
            } finally {
                if (reporter != null) reporter.close();
            }
            printSummary(out, err, report, (System.nanoTime() - start) / 1e9);
            return 0;
        } catch (CopyException e) {
            if (progress == ProgressStyle.JSON)
                out.println("{\"event\":\"error\",\"message\":" + Json.quote(e.getMessage()) + "}");
            return fail(err, e.getMessage());
        } catch (RuntimeException | Error e) {
            Optional<UnsupportedPlatformException> unsupported = UnsupportedPlatformException.in(e);
            if (unsupported.isPresent()) return fail(err, unsupported.get().getMessage());
            err.println("lockkeeper-sidecar copy: internal error: " + e);
            return INTERNAL_ERROR;
        }
    }

    private ProgressReporter reporterFor(PrintStream out) {
        return switch (progress) {
            case JSON -> new ProgressReporter(ProgressReporter.Style.JSON, out);
            case AUTO ->
                System.console() != null && System.console().isTerminal()
                        ? new ProgressReporter(ProgressReporter.Style.LINE, out)
                        : null;
            case NONE -> null;
        };
    }

    private void printSummary(PrintStream out, PrintStream err, CopyReport report, double seconds) {
        for (String skipped : report.skipped()) err.println("lockkeeper-sidecar copy: skipped " + skipped);
        if (progress == ProgressStyle.JSON) {
            out.printf(
                    Locale.ROOT,
                    "{\"event\":\"done\",\"kind\":\"%s\",\"target\":%s,\"bytes\":%d,\"dataBytes\":%d,"
                            + "\"holeBytes\":%d,\"files\":%d,\"hardLinks\":%d,\"seconds\":%.3f,\"scan\":\"%s\",\"checksum\":%s,\"skipped\":%d}%n",
                    report.kind(),
                    Json.quote(report.writtenTo().toString()),
                    report.logicalBytes(),
                    report.dataBytes(),
                    report.holeBytes(),
                    report.files(),
                    report.hardLinks(),
                    seconds,
                    report.scan(),
                    report.checksum().map(Json::quote).orElse("null"),
                    report.skipped().size());
            return;
        }
        out.printf(
                Locale.ROOT,
                "copied %s to %s: %s (%s data, %s holes)%s in %.2f s%n",
                source,
                report.writtenTo(),
                Sizes.human(report.logicalBytes()),
                Sizes.human(report.dataBytes()),
                Sizes.human(report.holeBytes()),
                report.kind() == CopyReport.Kind.TREE
                        ? ", " + report.files() + " files"
                                + (report.hardLinks() > 0
                                        ? " and " + report.hardLinks() + " more hard links to them"
                                        : "")
                        : "",
                seconds);
        report.checksum().ifPresent(sum -> out.println("verified: " + sum));
    }

    private static int fail(PrintStream err, String message) {
        err.println("lockkeeper-sidecar copy: error: " + message);
        return FAILED;
    }

    private static void printHelp(PrintStream out) {
        out.println("Usage: " + SYNTAX);
        out.println(DESCRIPTION);
        try {
            TextHelpAppendable text = new TextHelpAppendable(out);
            text.setMaxWidth(100);
            HelpFormatter.builder()
                    .setShowSince(false)
                    .setHelpAppendable(text)
                    .get()
                    .printOptions(OPTIONS);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        out.println(EXIT_CODES);
    }

    private static Option flag(String name, String description) {
        return Option.builder().longOpt(name).desc(description).get();
    }

    private static Option valued(String name, String argument, String description) {
        return Option.builder()
                .longOpt(name)
                .hasArg()
                .argName(argument)
                .desc(description)
                .get();
    }

    private static Path path(String operand) throws ParseException {
        if (operand.isEmpty()) throw new ParseException("SRC and DST must not be empty");
        try {
            return Path.of(operand);
        } catch (InvalidPathException e) {
            throw new ParseException("not a path: " + e.getMessage());
        }
    }

    private static <E extends Enum<E>> E choice(CommandLine line, Option option, Class<E> type, E fallback)
            throws ParseException {
        String value = line.getOptionValue(option);
        if (value == null) return fallback;
        for (E candidate : type.getEnumConstants()) {
            if (candidate.name().equalsIgnoreCase(value)) return candidate;
        }
        throw new ParseException(
                "--" + option.getLongOpt() + " must be one of " + option.getArgName() + ", got '" + value + "'");
    }

    private static long size(String value) throws ParseException {
        long bytesPerSecond;
        try {
            bytesPerSecond = Units.parseSize(value);
        } catch (IllegalArgumentException e) {
            throw new ParseException("--" + MAX_RATE.getLongOpt() + ": " + e.getMessage());
        }
        // 0 means "no limit" inside: a limit that rounds to nothing must not silently become none
        if (bytesPerSecond == 0) {
            throw new ParseException("--" + MAX_RATE.getLongOpt() + " must be at least 1 byte per second, got '" + value
                    + "' (omit it for no limit)");
        }
        return bytesPerSecond;
    }

    private static double fraction(String value) throws ParseException {
        double fraction;
        try {
            fraction = Double.parseDouble(value);
        } catch (NumberFormatException e) {
            throw new ParseException(
                    "--" + FILESYSTEM_OVERHEAD.getLongOpt() + " must be a number such as 0.06, got '" + value + "'");
        }
        if (!(fraction >= 0 && fraction < 1)) { // NaN fails both comparisons
            throw new ParseException(
                    "--" + FILESYSTEM_OVERHEAD.getLongOpt() + " must be at least 0 and below 1, got " + value);
        }
        return fraction;
    }
}
