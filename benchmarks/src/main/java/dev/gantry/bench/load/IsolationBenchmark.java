package dev.gantry.bench.load;

import org.HdrHistogram.Histogram;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The cost of process isolation, interleaved: the {@code gantry-batching} and {@code gantry-isolated} arms of the
 * load benchmark run side by side (both servers pinned to the same CPU, the load generator to the other), and
 * every point (workload x clients) is measured in rounds that alternate which arm goes first, so a change in the
 * machine's load during the run falls on both arms alike. The arms of {@code benchmarks-load.jar --arms
 * gantry-batching,gantry-isolated} run one after the other instead, and on a shared machine their ratio then
 * measures the neighbours as much as isolation.
 *
 * <p>Run from the repository root after {@code mvn -pl benchmarks -am package -DskipTests} (~4 min):
 * <pre>
 * java -cp benchmarks/target/benchmarks-load.jar dev.gantry.bench.load.IsolationBenchmark
 * </pre>
 * Options: {@code --warmup-seconds S} (30, per server, then 5 per further workload), {@code --run-seconds S}
 * (5, one window), {@code --rounds N} (2: each point gets N windows per arm), {@code --clients 1,16,64},
 * {@code --models DIR} ({@code models}), {@code --out DIR} ({@code benchmarks/results}); writes
 * {@code isolation-<timestamp>.md} and {@code .csv}.
 */
public final class IsolationBenchmark {
    private static final String HOST = "127.0.0.1";
    private static final List<String> SERVER_JVM = List.of("-Xms2g", "-Xmx2g", "--enable-native-access=ALL-UNNAMED");
    private static final List<Workload> WORKLOADS = List.of(Workload.MLP, Workload.MINILM_16);

    private IsolationBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        Duration warmup = Duration.ofSeconds(30);
        Duration run = Duration.ofSeconds(5);
        int rounds = 2;
        List<Integer> clients = List.of(1, 16, 64);
        Path models = Path.of("models");
        Path out = Path.of("benchmarks", "results");
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--warmup-seconds" -> warmup = Duration.ofSeconds(Long.parseLong(args[++i]));
                case "--run-seconds" -> run = Duration.ofSeconds(Long.parseLong(args[++i]));
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--clients" -> clients = Stream.of(args[++i].split(",")).map(Integer::parseInt).toList();
                case "--models" -> models = Path.of(args[++i]);
                case "--out" -> out = Path.of(args[++i]);
                default -> throw new IllegalArgumentException("unknown option " + args[i] + "; options:"
                        + " --warmup-seconds S --run-seconds S --rounds N --clients 1,16,64 --models DIR --out DIR");
            }
        }
        String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
        String loadBefore = BenchHost.loadAverage();
        int cpus = Runtime.getRuntime().availableProcessors();
        boolean pinned = Files.isExecutable(Path.of("/usr/bin/taskset")) && cpus >= 2;
        if (pinned) {
            new ProcessBuilder("taskset", "-a", "-pc", "0", Long.toString(ProcessHandle.current().pid()))
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor();
        }
        List<ServerArm> arms = ServerArm.all().stream().filter(a -> a.name().equals(IsolationArm.IN_PROCESS)
                || a.name().equals(IsolationArm.NAME)).toList();
        Map<String, Server> servers = new LinkedHashMap<>();
        List<ArmResult> windows = new ArrayList<>();
        long started = System.nanoTime();
        try {
            for (ServerArm arm : arms) {
                servers.put(arm.name(), Server.start(arm, models, out, stamp, pinned ? "1" : ""));
            }
            boolean first = true;
            for (Workload w : WORKLOADS) {
                for (Server s : servers.values()) {
                    Duration d = first ? warmup : Duration.ofSeconds(5);
                    System.out.printf("[%s %s] warm-up %d s (load average %s)%n", s.arm.name(), w.label(),
                            d.toSeconds(), BenchHost.loadAverage());
                    s.generator.closedLoop(w.request(), 16, d);
                }
                first = false;
                for (int c : clients) {
                    for (int r = 0; r < rounds; r++) {
                        List<Server> order = new ArrayList<>(servers.values());
                        if (r % 2 == 1) {
                            java.util.Collections.reverse(order);
                        }
                        for (Server s : order) {
                            Measurement m = s.generator.closedLoop(w.request(), c, run);
                            windows.add(new ArmResult(s.arm.name(), w, m, "round " + (r + 1)));
                            System.out.printf(Locale.ROOT, "[%s %s] clients %d round %d: %.1f req/s, p50 %.2f ms,"
                                    + " p99 %.2f ms, errors %d%n", s.arm.name(), w.label(), c, r + 1, m.throughput(),
                                    m.percentileMillis(50), m.percentileMillis(99), m.errors());
                        }
                    }
                }
            }
        } finally {
            for (Server s : servers.values()) {
                s.close();
            }
        }
        Duration took = Duration.ofNanos(System.nanoTime() - started);
        String header = String.format(Locale.ROOT, "Command: `java -cp benchmarks/target/benchmarks-load.jar %s %s`%n%n"
                        + "- both servers: Gantry, the same flags (one event loop, one ORT intra-op thread, batching as"
                        + " configured), JVM %s, %s; the isolated one's models (and so its worker JVMs) inherit the"
                        + " pinning%n- closed loop over HTTP/1.1 keep-alive, %d rounds of %d s per point and arm,"
                        + " alternating which arm goes first; figures merge the rounds (latency is service time)%n"
                        + "- warm-up: %d s per server on its first workload, 5 s per further one; took %d min %d s%n"
                        + "- machine: %d CPUs, JDK %s; load average (1, 5, 15 min) before: %s, after: %s (above %d"
                        + " means other processes competed for the CPUs)%n%n",
                IsolationBenchmark.class.getName(), String.join(" ", args), SERVER_JVM,
                pinned ? "both pinned to CPU 1, the load generator to CPU 0" : "not pinned", rounds,
                run.toSeconds(), warmup.toSeconds(), took.toMinutes(), took.toSecondsPart(),
                cpus, Runtime.version(), loadBefore, BenchHost.loadAverage(), cpus);
        List<ArmResult> merged = merge(windows);
        StringBuilder md = new StringBuilder("# Cost of process isolation (" + stamp + ")\n\n").append(header)
                .append(IsolationArm.comparison(merged)).append("## Every window\n\n")
                .append("| arm | workload | clients | round | req/s | p50 ms | p99 ms | errors |\n")
                .append("|---|---|---:|---|---:|---:|---:|---:|\n");
        StringBuilder csv = new StringBuilder("arm,workload,clients,round,throughput,p50_ms,p99_ms,ok,errors\n");
        for (ArmResult r : windows) {
            Measurement m = r.measurement();
            md.append(String.format(Locale.ROOT, "| %s | %s | %d | %s | %.1f | %.2f | %.2f | %d |%n", r.arm(),
                    r.workload().label(), m.concurrency(), r.phase(), m.throughput(), m.percentileMillis(50),
                    m.percentileMillis(99), m.errors()));
            csv.append(String.format(Locale.ROOT, "%s,%s,%d,%s,%.3f,%.3f,%.3f,%d,%d%n", r.arm(), r.workload().label(),
                    m.concurrency(), r.phase().replace("round ", ""), m.throughput(), m.percentileMillis(50),
                    m.percentileMillis(99), m.ok(), m.errors()));
        }
        Files.createDirectories(out);
        Files.writeString(out.resolve("isolation-" + stamp + ".md"), md);
        Files.writeString(out.resolve("isolation-" + stamp + ".csv"), csv);
        System.out.println(IsolationArm.comparison(merged));
        System.out.println("wrote " + out.resolve("isolation-" + stamp + ".md"));
    }

    /** The rounds of each arm, workload and client count as one measurement: counts and times added. */
    static List<ArmResult> merge(List<ArmResult> windows) {
        Map<String, ArmResult> merged = new LinkedHashMap<>();
        for (ArmResult r : windows) {
            String key = r.arm() + "|" + r.workload() + "|" + r.measurement().concurrency();
            ArmResult prior = merged.get(key);
            Measurement m = r.measurement();
            if (prior == null) {
                merged.put(key, new ArmResult(r.arm(), r.workload(), m));
                continue;
            }
            Measurement p = prior.measurement();
            Histogram latency = p.latency().copy();
            latency.add(m.latency());
            Histogram service = p.serviceTime().copy();
            service.add(m.serviceTime());
            Map<String, Long> kinds = new HashMap<>(p.errorKinds());
            m.errorKinds().forEach((k, v) -> kinds.merge(k, v, Long::sum));
            merged.put(key, new ArmResult(r.arm(), r.workload(), new Measurement(m.mode(), 0, m.concurrency(),
                    p.elapsedSeconds() + m.elapsedSeconds(), p.sent() + m.sent(), p.ok() + m.ok(),
                    p.errors() + m.errors(), kinds, latency, service,
                    Math.max(p.maxSendLagMicros(), m.maxSendLagMicros()))));
        }
        return List.copyOf(merged.values());
    }


    /** One arm's server, its scratch directories and its load generator. */
    private record Server(ServerArm arm, ServerProcess process, HttpLoadGenerator generator, Path repo, Path data)
            implements AutoCloseable {
        static Server start(ServerArm arm, Path models, Path out, String stamp, String cpus) throws Exception {
            Path repo = Files.createTempDirectory("gantry-isolation-models");
            for (Workload w : WORKLOADS) {
                copyTree(models.resolve(w.model()), repo.resolve(w.model()));
            }
            IsolationArm.prepare(arm, repo);
            Path data = Files.createTempDirectory("gantry-isolation-data");
            int port = freePort();
            int grpcPort = freePort();
            Path log = out.resolve("logs").resolve("isolation-" + stamp + "-" + arm.name() + ".log");
            System.out.printf("[%s] starting (log %s; load average %s)%n", arm.name(), log, BenchHost.loadAverage());
            ServerProcess p = ServerProcess.start(cpus, SERVER_JVM, arm.mainClass(),
                    arm.argsFor(HOST, port, grpcPort, repo.toString(), data.toString()), log, arm.ready(),
                    Duration.ofMinutes(5));
            return new Server(arm, p, new HttpLoadGenerator(HOST, port, 256, Duration.ofSeconds(30), 20_000), repo,
                    data);
        }

        @Override
        public void close() throws Exception {
            generator.close();
            process.close();
            deleteTree(repo);
            deleteTree(data);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static void copyTree(Path src, Path dst) throws IOException {
        try (Stream<Path> files = Files.walk(src)) {
            for (Path p : files.toList()) {
                Path target = dst.resolve(src.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target);
                }
            }
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
