// Does compressing DATA frames pay on the node-to-node link? (issue 10, "Memory and speed"). Not a test.
//   java -cp LZ4_JAR:ZSTD_JAR bench/Compression.java IMAGE [MAX_MIB]      (bench/compression.sh makes IMAGE and runs this)
// Reads IMAGE in 4 MiB frames as the wire sends them (4 KiB all-zero blocks dropped: they cross as ZERO headers, never
// compressed), compresses each frame on one thread with lz4 (fast) and zstd (levels 1 and 3), decompresses it again,
// and prints ratio and single-core rates, then the transfer rate each would give at 1, 10 and 25 Gbit/s if every
// frame were sent compressed only when that makes it smaller (a per-frame flag):
//   rate = min(link / ratio, compress rate, decompress rate, TLS rate) against min(link, TLS rate) without.
// The TLS rate is this machine's JDK 25 TLS 1.3 figure across a veth (node-agent.md §6: 449 MB/s; override with
// TLS_MBPS); compression runs on the sending side's one read-ahead thread, so one core's rate is the bound.
import com.github.luben.zstd.Zstd;
import net.jpountz.lz4.LZ4Compressor;
import net.jpountz.lz4.LZ4Factory;
import net.jpountz.lz4.LZ4FastDecompressor;

import java.io.RandomAccessFile;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

public class Compression {
    static final int FRAME = 4 << 20;
    static final int BLOCK = 4096;

    record Codec(String name, UnaryOperator<byte[]> compress, Decompressor decompress) { }

    interface Decompressor {
        void into(byte[] compressed, byte[] original);
    }

    static final class Totals {
        long in, out, compressNanos, decompressNanos;
    }

    public static void main(String[] args) throws Exception {
        long max = args.length > 1 ? Long.parseLong(args[1]) << 20 : Long.MAX_VALUE;
        double tls = Double.parseDouble(System.getenv().getOrDefault("TLS_MBPS", "449")) * 1e6;
        LZ4Factory lz4 = LZ4Factory.fastestInstance();
        LZ4Compressor fast = lz4.fastCompressor();
        LZ4FastDecompressor lz4Out = lz4.fastDecompressor();
        List<Codec> codecs = List.of(
                new Codec("lz4", bytes -> fast.compress(bytes), (c, o) -> lz4Out.decompress(c, o)),
                new Codec("zstd-1", bytes -> Zstd.compress(bytes, 1), (c, o) -> Zstd.decompress(o, c)),
                new Codec("zstd-3", bytes -> Zstd.compress(bytes, 3), (c, o) -> Zstd.decompress(o, c)));
        List<byte[]> frames = frames(args[0], max);
        long data = frames.stream().mapToLong(f -> f.length).sum();
        System.out.printf("image %s: %d MiB of data in %d frames (zero blocks left out)%n", args[0], data >> 20, frames.size());
        // one warm-up pass so the JIT has compiled both libraries' paths before anything is timed
        for (Codec codec : codecs) for (int i = 0; i < Math.min(8, frames.size()); i++) codec.compress.apply(frames.get(i));
        System.out.printf("%-7s %6s %10s %10s | %s%n", "codec", "ratio", "comp MB/s", "dec MB/s", "rate at 1 / 10 / 25 Gbit/s vs uncompressed (MB/s)");
        for (Codec codec : codecs) {
            Totals t = new Totals();
            for (byte[] frame : frames) {
                long start = System.nanoTime();
                byte[] packed = codec.compress.apply(frame);
                long mid = System.nanoTime();
                byte[] back = new byte[frame.length];
                codec.decompress.into(packed, back);
                long end = System.nanoTime();
                t.in += frame.length;
                t.out += Math.min(packed.length, frame.length); // the per-frame flag: a frame that grows goes raw
                t.compressNanos += mid - start;
                t.decompressNanos += end - mid;
            }
            double ratio = (double) t.in / t.out;
            double compress = t.in / (t.compressNanos / 1e9);
            double decompress = t.in / (t.decompressNanos / 1e9);
            StringBuilder rates = new StringBuilder();
            for (double gbit : new double[]{1, 10, 25}) {
                double link = gbit * 1e9 / 8;
                double plain = Math.min(link, tls);
                double packed = Math.min(Math.min(link * ratio, tls * ratio), Math.min(compress, decompress));
                rates.append(String.format("  %4.0f vs %4.0f (%4.2fx)", packed / 1e6, plain / 1e6, packed / plain));
            }
            System.out.printf("%-7s %6.2f %10.0f %10.0f |%s%n", codec.name, ratio, compress / 1e6, decompress / 1e6, rates);
        }
    }

    /** The image's data as the wire would send it: 4 MiB frames of the blocks that are not all zero. */
    static List<byte[]> frames(String path, long max) throws Exception {
        List<byte[]> frames = new ArrayList<>();
        byte[] block = new byte[BLOCK];
        byte[] frame = new byte[FRAME];
        int filled = 0;
        long total = 0;
        try (RandomAccessFile in = new RandomAccessFile(path, "r")) {
            while (total < max) {
                int n = in.read(block);
                if (n <= 0) break;
                if (zero(block, n)) continue;
                System.arraycopy(block, 0, frame, filled, n);
                filled += n;
                total += n;
                if (filled == FRAME) {
                    frames.add(frame.clone());
                    filled = 0;
                }
            }
        }
        if (filled > 0) frames.add(java.util.Arrays.copyOf(frame, filled));
        return frames;
    }

    static boolean zero(byte[] block, int n) {
        for (int i = 0; i < n; i++) if (block[i] != 0) return false;
        return true;
    }
}
