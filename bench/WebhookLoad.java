// Load generator for bench/webhook.sh. Run with the webhook jar on the classpath:
//   java -cp webhook/target/lockkeeper-webhook.jar bench/WebhookLoad.java --port P --ca CA --review NAME=FILE:PATH ...
// Open loop: requests are scheduled at a fixed rate and latency is measured from the scheduled
// time, so a slow server cannot hide its queueing (no coordinated omission). Keep-alive HTTPS,
// the server certificate verified against the webhook's CA.
import com.nimbusds.jose.JWSAlgorithm;
import dev.lockkeeper.certs.KeyPairs;
import dev.lockkeeper.certs.Pem;
import dev.lockkeeper.certs.token.CloneTokenClaims;
import dev.lockkeeper.certs.token.CloneTokenSigner;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

public class WebhookLoad {
    record Review(String name, String path, byte[] body) {}
    record Result(long sent, long failed, double seconds, long[] latenciesNanos) {
        double rate() { return sent / seconds; }
        double percentileMillis(double p) {
            if (latenciesNanos.length == 0) return Double.NaN;
            int index = (int) Math.min(latenciesNanos.length - 1, Math.ceil(p / 100.0 * latenciesNanos.length) - 1);
            return latenciesNanos[Math.max(0, index)] / 1e6;
        }
    }

    static int port;
    static SSLContext tls;

    public static void main(String[] args) throws Exception {
        Map<String, String> options = new LinkedHashMap<>();
        List<Review> reviews = new ArrayList<>();
        for (int i = 0; i < args.length; i += 2) {
            if (args[i].equals("--review")) {
                String[] parts = args[i + 1].split("[=:]", 3);
                reviews.add(new Review(parts[0], parts[2], Files.readAllBytes(Path.of(parts[1]))));
            } else {
                options.put(args[i], args[i + 1]);
            }
        }
        port = Integer.parseInt(options.get("--port"));
        tls = trusting(Path.of(options.get("--ca")));
        int rate = Integer.parseInt(options.getOrDefault("--rate", "2000"));
        int seconds = Integer.parseInt(options.getOrDefault("--seconds", "15"));
        int warmup = Integer.parseInt(options.getOrDefault("--warmup", "8"));
        int connections = Integer.parseInt(options.getOrDefault("--connections", "16"));

        if (options.containsKey("--burst")) {
            burst(reviews.getFirst(), Integer.parseInt(options.get("--burst")), Integer.parseInt(options.getOrDefault("--rounds", "5")));
            return;
        }
        System.out.printf("clone token signing, per token (median of 5 x 2000): EdDSA/Ed25519 (used) %.1f us, ES256 %.1f us, PS256/RSA-2048 (upstream) %.1f us%n",
                signMicros(KeyPairs.newEd25519().getPrivate(), JWSAlgorithm.EdDSA), signMicros(KeyPairs.newP256().getPrivate(), JWSAlgorithm.ES256),
                signMicros(rsaKey(), JWSAlgorithm.PS256));
        for (Review review : reviews) {
            openLoop(review, rate, warmup, connections);
            closedLoop(review, warmup / 2, connections);
        }
        StringBuilder header = new StringBuilder(String.format("%n%-34s", ""));
        for (Review review : reviews) header.append(String.format(" %16s", review.name()));
        System.out.println(header);
        Map<String, List<Result>> results = new LinkedHashMap<>();
        List<Double> serverP99 = new ArrayList<>();
        for (Review review : reviews) {
            String endpoint = review.path().substring(1);
            Map<Double, Double> before = reviewBuckets(endpoint);
            results.computeIfAbsent("open", k -> new ArrayList<>()).add(openLoop(review, rate, seconds, connections));
            serverP99.add(quantile(0.99, before, reviewBuckets(endpoint)));
            results.computeIfAbsent("closed", k -> new ArrayList<>()).add(closedLoop(review, seconds / 2, connections));
        }
        row("offered rate (req/s)", results.get("open"), r -> String.valueOf(rate));
        row("achieved (req/s)", results.get("open"), r -> String.format("%.0f", r.rate()));
        row("p50 (ms)", results.get("open"), r -> String.format("%.3f", r.percentileMillis(50)));
        row("p99 (ms)", results.get("open"), r -> String.format("%.3f", r.percentileMillis(99)));
        row("p99.9 (ms)", results.get("open"), r -> String.format("%.3f", r.percentileMillis(99.9)));
        row("max (ms)", results.get("open"), r -> String.format("%.3f", r.percentileMillis(100)));
        row("failed", results.get("open"), r -> String.valueOf(r.failed()));
        StringBuilder server = new StringBuilder(String.format("%-34s", "server-side p99 (ms, histogram)"));
        for (double p99 : serverP99) server.append(String.format(" %16.3f", p99 * 1000));
        System.out.println(server);
        row("max throughput (req/s)", results.get("closed"), r -> String.format("%.0f", r.rate()));
        row("  p50 / p99 at max (ms)", results.get("closed"), r -> String.format("%.2f / %.2f", r.percentileMillis(50), r.percentileMillis(99)));
        Result trivial = results.get("closed").getLast();
        StringBuilder ratio = new StringBuilder(String.format("%-34s", "  throughput / " + reviews.getLast().name()));
        for (Result r : results.get("closed")) ratio.append(String.format(" %16.2f", r.rate() / trivial.rate()));
        System.out.println(ratio);
        System.out.printf("(open loop: %d req/s for %d s over %d keep-alive connections, latency from the scheduled send; server-side p99 from "
                + "lockkeeper_admission_reviews_seconds bucket deltas over that run, interpolated as histogram_quantile does; "
                + "closed loop: %d connections back to back for %d s)%n", rate, seconds, connections, connections, seconds / 2);
    }

    /** Cumulative counts of {@code lockkeeper_admission_reviews_seconds} for one endpoint, all decisions, by upper bound (seconds). */
    static Map<Double, Double> reviewBuckets(String endpoint) throws IOException {
        Map<Double, Double> buckets = new java.util.TreeMap<>();
        try (Connection connection = new Connection()) {
            for (String line : connection.get("/metrics").split("\n")) {
                if (!line.startsWith("lockkeeper_admission_reviews_seconds_bucket{") || !line.contains("endpoint=\"" + endpoint + "\"")) continue;
                String le = line.substring(line.indexOf("le=\"") + 4, line.indexOf('"', line.indexOf("le=\"") + 4));
                double bound = le.equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(le);
                buckets.merge(bound, Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)), Double::sum);
            }
        }
        return buckets;
    }

    /** Prometheus's histogram_quantile over the increase between two scrapes: linear within the bucket that holds the rank. */
    static double quantile(double q, Map<Double, Double> before, Map<Double, Double> after) {
        List<Map.Entry<Double, Double>> increase = new ArrayList<>();
        for (var bucket : after.entrySet()) increase.add(Map.entry(bucket.getKey(), bucket.getValue() - before.getOrDefault(bucket.getKey(), 0.0)));
        double total = increase.getLast().getValue();
        if (total <= 0) return Double.NaN;
        double rank = q * total, lowerBound = 0, lowerCount = 0;
        for (var bucket : increase) {
            if (bucket.getValue() >= rank) {
                if (bucket.getKey().isInfinite()) return lowerBound;
                return lowerBound + (bucket.getKey() - lowerBound) * (rank - lowerCount) / (bucket.getValue() - lowerCount);
            }
            lowerBound = bucket.getKey();
            lowerCount = bucket.getValue();
        }
        return lowerBound;
    }

    interface Cell { String of(Result r); }

    static void row(String label, List<Result> results, Cell cell) {
        StringBuilder line = new StringBuilder(String.format("%-34s", label));
        for (Result result : results) line.append(String.format(" %16s", cell.of(result)));
        System.out.println(line);
    }

    static Result openLoop(Review review, int rate, int seconds, int connections) throws Exception {
        long total = (long) rate * seconds;
        BlockingQueue<Long> schedule = new ArrayBlockingQueue<>((int) Math.min(total + connections, 10_000_000));
        long[] latencies = new long[(int) total];
        AtomicLong done = new AtomicLong(), failed = new AtomicLong();
        CountDownLatch finished = new CountDownLatch(connections);
        for (int c = 0; c < connections; c++) {
            Thread.ofVirtual().start(() -> {
                try (Connection connection = new Connection()) {
                    while (true) {
                        long intended = schedule.take();
                        if (intended < 0) break;
                        int status = connection.post(review.path(), review.body());
                        long latency = System.nanoTime() - intended;
                        int slot = (int) done.getAndIncrement();
                        if (slot < latencies.length) latencies[slot] = latency;
                        if (status != 200) failed.incrementAndGet();
                    }
                } catch (Exception e) {
                    failed.incrementAndGet();
                } finally {
                    finished.countDown();
                }
            });
        }
        long start = System.nanoTime();
        long interval = 1_000_000_000L / rate;
        // Release every request whose time has come, then sleep briefly: no busy spin stealing a
        // core from the server on a 2-core machine; latency still counts from the scheduled time.
        for (long i = 0; i < total; ) {
            long now = System.nanoTime();
            while (i < total && start + i * interval <= now) schedule.put(start + i++ * interval);
            LockSupport.parkNanos(200_000);
        }
        for (int c = 0; c < connections; c++) schedule.put(-1L);
        finished.await(120, TimeUnit.SECONDS);
        double elapsed = (System.nanoTime() - start) / 1e9;
        long[] measured = Arrays.copyOf(latencies, (int) Math.min(done.get(), latencies.length));
        Arrays.sort(measured);
        return new Result(done.get(), failed.get(), elapsed, measured);
    }

    static Result closedLoop(Review review, int seconds, int connections) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        List<long[]> perConnection = new ArrayList<>();
        AtomicLong done = new AtomicLong(), failed = new AtomicLong();
        CountDownLatch finished = new CountDownLatch(connections);
        long start = System.nanoTime();
        for (int c = 0; c < connections; c++) {
            long[] latencies = new long[200_000];
            perConnection.add(latencies);
            Thread.ofVirtual().start(() -> {
                int n = 0;
                try (Connection connection = new Connection()) {
                    while (System.nanoTime() < deadline && n < latencies.length) {
                        long sent = System.nanoTime();
                        if (connection.post(review.path(), review.body()) != 200) failed.incrementAndGet();
                        latencies[n++] = System.nanoTime() - sent;
                    }
                } catch (Exception e) {
                    failed.incrementAndGet();
                } finally {
                    done.addAndGet(n);
                    Arrays.fill(latencies, n, latencies.length, -1);
                    finished.countDown();
                }
            });
        }
        finished.await(120, TimeUnit.SECONDS);
        double elapsed = (System.nanoTime() - start) / 1e9;
        long[] all = perConnection.stream().flatMapToLong(Arrays::stream).filter(l -> l >= 0).sorted().toArray();
        return new Result(done.get(), failed.get(), elapsed, all);
    }

    /**
     * {@code concurrent} copies of one review sent at the same moment, each on its own connection, for
     * {@code rounds} rounds: what the intake budget admits (200) and turns away (429) under a burst of
     * maximum-size reviews. The caller reads the server's peak RSS.
     */
    static void burst(Review review, int concurrent, int rounds) throws Exception {
        Map<Integer, AtomicLong> statuses = new java.util.TreeMap<>();
        AtomicLong errors = new AtomicLong();
        for (int round = 0; round < rounds; round++) {
            CountDownLatch go = new CountDownLatch(1), finished = new CountDownLatch(concurrent);
            for (int c = 0; c < concurrent; c++) {
                Thread.ofVirtual().start(() -> {
                    try (Connection connection = new Connection()) {
                        go.await();
                        int status = connection.post(review.path(), review.body());
                        synchronized (statuses) {
                            statuses.computeIfAbsent(status, k -> new AtomicLong()).incrementAndGet();
                        }
                    } catch (Exception e) {
                        errors.incrementAndGet();
                    } finally {
                        finished.countDown();
                    }
                });
            }
            go.countDown();
            finished.await(120, TimeUnit.SECONDS);
        }
        System.out.printf("%d x %d concurrent %s (%.1f MB each): statuses %s, connection errors %d%n", rounds, concurrent, review.name(),
                review.body().length / 1e6, statuses, errors.get());
    }

    static double signMicros(java.security.PrivateKey key, JWSAlgorithm expected) throws Exception {
        var signer = new CloneTokenSigner(key, Clock.systemUTC());
        if (!signer.algorithm().equals(expected)) throw new IllegalStateException(signer.algorithm() + " != " + expected);
        var claims = CloneTokenClaims.clone(CloneTokenClaims.TokenResource.PERSISTENT_VOLUME_CLAIMS, "golden-images", "fedora-40", "team-a", "disk");
        double[] runs = new double[5];
        for (int i = 0; i < 2000; i++) signer.sign(claims);
        for (int run = 0; run < runs.length; run++) {
            long start = System.nanoTime();
            for (int i = 0; i < 2000; i++) signer.sign(claims);
            runs[run] = (System.nanoTime() - start) / 2000 / 1e3;
        }
        Arrays.sort(runs);
        return runs[runs.length / 2];
    }

    static java.security.PrivateKey rsaKey() throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
        generator.initialize(2048);
        return generator.generateKeyPair().getPrivate();
    }

    static SSLContext trusting(Path ca) throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("ca", Pem.decodeCertificates(Files.readString(ca)).getFirst());
        TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        factory.init(trust);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, factory.getTrustManagers(), null);
        return context;
    }

    static final class Connection implements AutoCloseable {
        final SSLSocket socket;
        final InputStream in;
        final OutputStream out;

        Connection() throws IOException {
            socket = (SSLSocket) tls.getSocketFactory().createSocket("localhost", port);
            socket.setTcpNoDelay(true);
            socket.startHandshake();
            in = new java.io.BufferedInputStream(socket.getInputStream(), 65536);
            out = new java.io.BufferedOutputStream(socket.getOutputStream(), 65536);
        }

        int post(String path, byte[] body) throws IOException {
            out.write(("POST " + path + " HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: "
                    + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(body);
            out.flush();
            String status = line();
            int length = 0;
            for (String header = line(); !header.isEmpty(); header = line()) {
                if (header.regionMatches(true, 0, "content-length:", 0, 15)) length = Integer.parseInt(header.substring(15).trim());
            }
            in.readNBytes(length);
            return Integer.parseInt(status.split(" ")[1]);
        }

        String get(String path) throws IOException {
            out.write(("GET " + path + " HTTP/1.1\r\nHost: localhost\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            line();
            int length = 0;
            for (String header = line(); !header.isEmpty(); header = line()) {
                if (header.regionMatches(true, 0, "content-length:", 0, 15)) length = Integer.parseInt(header.substring(15).trim());
            }
            return new String(in.readNBytes(length), StandardCharsets.UTF_8);
        }

        String line() throws IOException {
            ByteArrayOutputStream buffer = new ByteArrayOutputStream(64);
            for (int b = in.read(); b != '\n'; b = in.read()) {
                if (b < 0) throw new IOException("closed");
                if (b != '\r') buffer.write(b);
            }
            return buffer.toString(StandardCharsets.US_ASCII);
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }
}
