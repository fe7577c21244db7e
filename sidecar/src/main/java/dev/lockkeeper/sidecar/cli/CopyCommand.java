package dev.lockkeeper.sidecar.cli;

import dev.lockkeeper.sidecar.copy.Content;
import dev.lockkeeper.sidecar.copy.CopyException;
import dev.lockkeeper.sidecar.copy.CopyReport;
import dev.lockkeeper.sidecar.copy.CopyRequest;
import dev.lockkeeper.sidecar.copy.ProgressListener;
import dev.lockkeeper.sidecar.copy.Sizes;
import dev.lockkeeper.sidecar.copy.VolumeCopier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "copy", sortOptions = false, usageHelpAutoWidth = true,
        description = {
                "Copies a volume: SRC and DST are each a block device, a regular file, or a directory (a filesystem volume's root).",
                "  block|file -> block|file   raw image, holes kept (zeroed on a device)",
                "  block|file -> directory    DST/disk.img, sparse (--content kubevirt)",
                "  directory  -> block|file   SRC/disk.img written raw (--content kubevirt)",
                "  directory  -> directory    the whole tree except lost+found",
                "Success is reported only once data and metadata are on disk."},
        exitCodeListHeading = "Exit codes:%n",
        exitCodeList = {"0:copied (and verified, with --verify)", "1:copy refused or failed; the target is not complete",
                "2:bad command line", "70:internal error (a bug; please report it)"})
public final class CopyCommand implements Callable<Integer> {
    static final int FAILED = 1;
    static final int INTERNAL_ERROR = 70;

    enum ProgressStyle { AUTO, JSON, NONE }

    @Parameters(index = "0", paramLabel = "SRC", description = "block device, image file, or volume directory to copy from")
    Path source;

    @Parameters(index = "1", paramLabel = "DST", description = "block device, image file (created or replaced), or directory to copy into")
    Path target;

    @Option(names = "--content", paramLabel = "kubevirt|archive", defaultValue = "kubevirt",
            description = "what a filesystem volume holds: kubevirt = one disk.img (lets directories and devices exchange data), "
                    + "archive = any tree (directory to directory only). Default: ${DEFAULT-VALUE}")
    Content content;

    @Option(names = "--preallocate", description = "allocate/write every byte of the target instead of keeping holes")
    boolean preallocate;

    @Option(names = "--target-is-zero", description = "the target device already reads as zeros: skip zeroing the source's holes")
    boolean targetIsZero;

    @Option(names = "--verify", description = "after the copy, checksum source and target (holes count as zeros), fail on mismatch, print the checksum")
    boolean verify;

    @Option(names = "--progress", paramLabel = "auto|json|none", defaultValue = "auto",
            description = "auto = a live line when stdout is a terminal; json = one JSON object per second on stdout. Default: ${DEFAULT-VALUE}")
    ProgressStyle progress;

    @Option(names = "--max-rate", paramLabel = "SIZE", converter = Units.SizeConverter.class, defaultValue = "0",
            description = "limit data copied per second, e.g. 200M (default: no limit)")
    long maxRate;

    @Option(names = "--filesystem-overhead", paramLabel = "FRACTION", defaultValue = "0.06",
            description = "share of a filesystem volume reserved for metadata when sizing disk.img (upstream CDI default: ${DEFAULT-VALUE})")
    double filesystemOverhead;

    @Override
    public Integer call() {
        PrintStream out = System.out;
        if (filesystemOverhead < 0 || filesystemOverhead >= 1) {
            return fail("--filesystem-overhead must be at least 0 and below 1, got " + filesystemOverhead);
        }
        ProgressReporter reporter = reporterFor(out);
        CopyRequest request = new CopyRequest(source, target, content, preallocate, targetIsZero, verify,
                filesystemOverhead, maxRate, reporter == null ? ProgressListener.NONE : reporter);
        long start = System.nanoTime();
        try {
            CopyReport report;
            try {
                report = new VolumeCopier().copy(request);
            } finally {
                if (reporter != null) reporter.close();
            }
            printSummary(out, report, (System.nanoTime() - start) / 1e9);
            return 0;
        } catch (CopyException e) {
            if (progress == ProgressStyle.JSON) out.println("{\"event\":\"error\",\"message\":" + Json.quote(e.getMessage()) + "}");
            return fail(e.getMessage());
        } catch (RuntimeException | Error e) {
            System.err.println("lockkeeper-sidecar copy: internal error: " + e);
            return INTERNAL_ERROR;
        }
    }

    private ProgressReporter reporterFor(PrintStream out) {
        return switch (progress) {
            case JSON -> new ProgressReporter(ProgressReporter.Style.JSON, out);
            case AUTO -> System.console() != null && System.console().isTerminal()
                    ? new ProgressReporter(ProgressReporter.Style.LINE, out) : null;
            case NONE -> null;
        };
    }

    private void printSummary(PrintStream out, CopyReport report, double seconds) {
        for (String skipped : report.skipped()) System.err.println("lockkeeper-sidecar copy: skipped " + skipped);
        if (progress == ProgressStyle.JSON) {
            out.printf(Locale.ROOT, "{\"event\":\"done\",\"kind\":\"%s\",\"target\":%s,\"bytes\":%d,\"dataBytes\":%d,"
                            + "\"holeBytes\":%d,\"files\":%d,\"seconds\":%.3f,\"scan\":\"%s\",\"checksum\":%s,\"skipped\":%d}%n",
                    report.kind(), Json.quote(report.writtenTo().toString()), report.logicalBytes(), report.dataBytes(),
                    report.holeBytes(), report.files(), seconds, report.scan(),
                    report.checksum().map(Json::quote).orElse("null"), report.skipped().size());
            return;
        }
        out.printf(Locale.ROOT, "copied %s to %s: %s (%s data, %s holes)%s in %.2f s%n", source, report.writtenTo(),
                Sizes.human(report.logicalBytes()), Sizes.human(report.dataBytes()), Sizes.human(report.holeBytes()),
                report.kind() == CopyReport.Kind.TREE ? ", " + report.files() + " files" : "", seconds);
        report.checksum().ifPresent(sum -> out.println("verified: " + sum));
    }

    private static int fail(String message) {
        System.err.println("lockkeeper-sidecar copy: error: " + message);
        return FAILED;
    }
}
