package dev.gantry.bench.load;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * What the access log costs: two Gantry servers of the same build on the same CPU, one with {@code --access-log
 * off} and one with {@code --access-log stdout} (into its log file, as a container's stdout would be collected),
 * driven with the MLP JSON request in a closed loop at 16 connections in alternating windows (off, on, off, on,
 * ...), so load from other processes on a shared machine falls on both alike. Prints each window and the median
 * throughput and p99 of each setting, and their ratio.
 *
 * <p>Run from the repository root: {@code java -cp benchmarks/target/benchmarks.jar
 * dev.gantry.bench.load.AccessLogCost [--rounds 6] [--seconds 5] [--warmup-seconds 20] [--server-cpus 1]
 * [--client-cpus 0] [--models models]}. About 1 min + rounds x 2 x seconds.
 */
public final class AccessLogCost {
    private static final String HOST = "127.0.0.1";

    private AccessLogCost() {
    }

    public static void main(String[] args) throws Exception {
        int rounds = 6;
        Duration window = Duration.ofSeconds(5);
        Duration warmup = Duration.ofSeconds(20);
        String serverCpus = "1";
        String clientCpus = "0";
        Path models = Path.of("models");
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--seconds" -> window = Duration.ofSeconds(Long.parseLong(args[++i]));
                case "--warmup-seconds" -> warmup = Duration.ofSeconds(Long.parseLong(args[++i]));
                case "--server-cpus" -> serverCpus = args[++i];
                case "--client-cpus" -> clientCpus = args[++i];
                case "--models" -> models = Path.of(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument '" + args[i] + "'; see the javadoc of "
                        + AccessLogCost.class.getName());
            }
        }
        new ProcessBuilder("taskset", "-a", "-pc", clientCpus, Long.toString(ProcessHandle.current().pid()))
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor();
        Path repo = Files.createTempDirectory("gantry-accesslog-models");
        Path mlp = models.resolve("mlp").toAbsolutePath();
        Files.createSymbolicLink(repo.resolve("mlp"), mlp);
        Path logs = Files.createTempDirectory("gantry-accesslog-logs");
        String heap = dev.gantry.http.sizing.MachineDefaults.derive(LoadBenchmark.cpuCount(serverCpus),
                dev.gantry.http.sizing.Machine.current().memoryBytes()).heapOption();
        List<String> jvm = List.of(heap, "--enable-native-access=ALL-UNNAMED");
        List<Measurement> off = new ArrayList<>();
        List<Measurement> on = new ArrayList<>();
        try (Started a = start("off", serverCpus, jvm, repo, logs);
             Started b = start("stdout", serverCpus, jvm, repo, logs)) {
            LoadRequest request = Workload.MLP.request();
            System.out.printf("warm-up %d s each (load average %s)%n", warmup.toSeconds(), BenchHost.loadAverage());
            a.gen.closedLoop(request, 16, warmup);
            b.gen.closedLoop(request, 16, warmup);
            for (int r = 0; r < rounds; r++) {
                Measurement mOff = a.gen.closedLoop(request, 16, window);
                Measurement mOn = b.gen.closedLoop(request, 16, window);
                off.add(mOff);
                on.add(mOn);
                System.out.printf(Locale.ROOT, "round %d: off %.1f req/s p99 %.2f ms; on %.1f req/s p99 %.2f ms "
                                + "(load average %s)%n", r + 1, mOff.throughput(), mOff.percentileMillis(99),
                        mOn.throughput(), mOn.percentileMillis(99), BenchHost.loadAverage());
            }
            long bytes = Files.size(b.server.log());
            double offRate = BenchHost.median(off.stream().mapToDouble(Measurement::throughput).toArray());
            double onRate = BenchHost.median(on.stream().mapToDouble(Measurement::throughput).toArray());
            double offP99 = BenchHost.median(off.stream().mapToDouble(m -> m.percentileMillis(99)).toArray());
            double onP99 = BenchHost.median(on.stream().mapToDouble(m -> m.percentileMillis(99)).toArray());
            long lines = on.stream().mapToLong(Measurement::ok).sum();
            System.out.printf(Locale.ROOT, "median of %d rounds: off %.1f req/s, p99 %.2f ms; on %.1f req/s, p99 %.2f "
                            + "ms; on/off throughput %.3fx, p99 %.2fx; the log-on server wrote %d bytes of output for "
                            + "%d+ requests (%.0f bytes per request)%n", rounds, offRate, offP99, onRate, onP99,
                    onRate / offRate, onP99 / offP99, bytes, lines, (double) bytes / Math.max(1, lines));
        } finally {
            try (Stream<Path> s = Stream.concat(Files.walk(repo), Files.walk(logs))) {
                for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    private record Started(ServerProcess server, HttpLoadGenerator gen, Path data) implements AutoCloseable {
        @Override
        public void close() throws Exception {
            gen.close();
            server.close();
        }
    }

    private static Started start(String accessLog, String cpus, List<String> jvm, Path repo, Path logs)
            throws IOException, InterruptedException {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Path data = Files.createTempDirectory(logs, "data-" + accessLog);
        ServerProcess server = ServerProcess.start(cpus, jvm, ServerArm.GANTRY_MAIN, List.of("serve", "--host", HOST,
                        "--port", Integer.toString(port), "--grpc-port", "-1", "--models", repo.toString(), "--data",
                        data.toString(), "--event-loops", "1", "--intra-op-threads", "1", "--access-log", accessLog),
                logs.resolve("server-" + accessLog + ".log"), Pattern.compile("Gantry ready on http://"),
                Duration.ofMinutes(3));
        System.out.println("access log " + accessLog + ": server on port " + port);
        return new Started(server, new HttpLoadGenerator(HOST, port, 64, Duration.ofSeconds(30), 20_000), data);
    }


}
