package dev.gantry.bench.load;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Memory across model churn: one Gantry server (child JVM, fixed 512 MiB heap, pre-touched) serving the MiniLM and the MLP
 * goes through N cycles of unloading and reloading both models through the admin API
 * ({@code POST /v2/repository/models/{m}/unload}, then {@code .../load}), answering one inference request
 * per model per cycle; after each cycle the server's resident memory ({@code VmRSS} of
 * {@code /proc/<pid>/status}) is recorded. The verdict compares the RSS after the last cycle with where it
 * settled after the first {@code --settle} cycles (their maximum): within 5% passes.
 *
 * <p>Run from the repository root after {@code mvn -pl benchmarks -am package -DskipTests}:
 * <pre>
 * java -cp benchmarks/target/benchmarks-load.jar dev.gantry.bench.load.ChurnBenchmark            # 100 cycles
 * java -cp benchmarks/target/benchmarks-load.jar dev.gantry.bench.load.ChurnBenchmark --cycles 20
 * </pre>
 * Options: {@code --cycles N} (100), {@code --settle N} (10), {@code --models DIR} ({@code models}),
 * {@code --out DIR} ({@code benchmarks/results}): writes {@code churn-<timestamp>.md} and {@code .csv};
 * {@code --jvm-opt OPT} (repeatable) adds a server JVM option, e.g. {@code -XX:NativeMemoryTracking=summary};
 * {@code --diagnose} also writes {@code churn-<timestamp>-diagnosis.txt} ({@link ChurnDiagnosis}). glibc malloc
 * tunables ({@code MALLOC_ARENA_MAX=2 java ...}) reach the server through the environment.
 */
public final class ChurnBenchmark {
    private static final List<String> MODELS = List.of("minilm", "mlp");
    /**
     * A fixed heap, touched in full at start: otherwise RSS grows for minutes as G1 first touches regions of
     * the heap it already reserved, which would hide (or fake) native growth.
     */
    private static final List<String> SERVER_JVM = List.of("-Xms512m", "-Xmx512m", "-XX:+AlwaysPreTouch",
            "--enable-native-access=ALL-UNNAMED");
    private static final double TOLERANCE = 0.05;

    private ChurnBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int cycles = 100;
        int settle = 10;
        Path models = Path.of("models");
        Path out = Path.of("benchmarks", "results");
        List<String> extraJvm = new ArrayList<>();
        boolean diagnose = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--cycles" -> cycles = Integer.parseInt(args[++i]);
                case "--settle" -> settle = Integer.parseInt(args[++i]);
                case "--models" -> models = Path.of(args[++i]);
                case "--out" -> out = Path.of(args[++i]);
                case "--jvm-opt" -> extraJvm.add(args[++i]);
                case "--diagnose" -> diagnose = true;
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + "; options: --cycles N --settle N --models DIR --out DIR");
            }
        }
        if (settle < 1 || cycles <= settle) {
            throw new IllegalArgumentException("need 1 <= --settle < --cycles, got " + settle + " and " + cycles);
        }
        Path repo = Files.createTempDirectory("gantry-churn-models");
        Path data = Files.createTempDirectory("gantry-churn-data");
        for (String m : MODELS) {
            copyTree(models.resolve(m), repo.resolve(m));
        }
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
        Files.createDirectories(out);
        List<Long> rss = new ArrayList<>();
        StringBuilder diagnosis = new StringBuilder();
        long started = System.nanoTime();
        long idleRss;
        List<String> jvm = new ArrayList<>(SERVER_JVM);
        jvm.addAll(extraJvm);
        try (ServerProcess server = ServerProcess.start("", jvm, ServerArm.GANTRY_MAIN,
                List.of("serve", "--host", "127.0.0.1", "--port", Integer.toString(port), "--models", repo.toString(),
                        "--data", data.toString(), "--access-log", "off", "--intra-op-threads", "1"),
                out.resolve("churn-" + stamp + "-server.log"), Pattern.compile("Gantry ready on http://"),
                Duration.ofMinutes(5))) {
            HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                    .connectTimeout(Duration.ofSeconds(5)).build();
            String base = "http://127.0.0.1:" + port;
            for (String m : MODELS) {
                infer(client, base, m);
            }
            idleRss = vmRssKib(server.pid());
            System.out.printf(Locale.ROOT, "server pid %d, RSS after start and one request per model: %d MiB%n",
                    server.pid(), idleRss / 1024);
            for (int c = 1; c <= cycles; c++) {
                for (String m : MODELS) {
                    post(client, base + "/v2/repository/models/" + m + "/unload");
                }
                for (String m : MODELS) {
                    post(client, base + "/v2/repository/models/" + m + "/load");
                    infer(client, base, m);
                }
                long kib = vmRssKib(server.pid());
                rss.add(kib);
                System.out.printf(Locale.ROOT, "cycle %3d: RSS %d MiB%n", c, kib / 1024);
                if (diagnose && (c == settle || c == cycles)) {
                    diagnosis.append(ChurnDiagnosis.snapshot(server.pid(), "after cycle " + c));
                }
            }
            if (diagnose) {
                diagnosis.append(ChurnDiagnosis.trim(server.pid()));
            }
        } finally {
            deleteTree(repo);
            deleteTree(data);
        }
        long settled = rss.subList(0, settle).stream().mapToLong(Long::longValue).max().orElseThrow();
        long last = rss.get(rss.size() - 1);
        double growth = (double) (last - settled) / settled;
        boolean pass = growth <= TOLERANCE;
        String verdict = String.format(Locale.ROOT, "RSS after cycle %d: %.1f MiB; settled (max of cycles 1-%d): %.1f"
                        + " MiB; change %+.2f%% -> %s (limit +%.0f%%)", cycles, last / 1024.0, settle,
                settled / 1024.0, growth * 100, pass ? "PASS" : "FAIL", TOLERANCE * 100);
        System.out.println(verdict);
        StringBuilder csv = new StringBuilder("cycle,rss_kib\n");
        for (int i = 0; i < rss.size(); i++) {
            csv.append(i + 1).append(',').append(rss.get(i)).append('\n');
        }
        Files.writeString(out.resolve("churn-" + stamp + ".csv"), csv);
        if (diagnose) {
            Files.writeString(out.resolve("churn-" + stamp + "-diagnosis.txt"), diagnosis);
        }
        StringBuilder md = new StringBuilder("# Memory across model churn (" + stamp + ")\n\n")
                .append("Command: `java -cp benchmarks/target/benchmarks-load.jar dev.gantry.bench.load.ChurnBenchmark")
                .append(" ").append(String.join(" ", args)).append("`\n\n")
                .append("One Gantry server (").append(String.join(" ", jvm))
                .append(", --intra-op-threads 1) serving ").append(MODELS)
                .append("; each cycle unloads both through `POST /v2/repository/models/{m}/unload`, loads them")
                .append(" again through `.../load` and sends one inference request to each; RSS is VmRSS of")
                .append(" /proc/<pid>/status after the cycle.").append(mallocEnvironment()).append("\n\n")
                .append("**").append(verdict).append("**\n\n")
                .append(String.format(Locale.ROOT, "RSS before the first cycle: %.1f MiB. Duration: %.0f s.%n%n",
                        idleRss / 1024.0, (System.nanoTime() - started) / 1e9))
                .append("| cycle | RSS (MiB) |\n|---:|---:|\n");
        for (int i = 0; i < rss.size(); i++) {
            if (i < settle || (i + 1) % 10 == 0) {
                md.append(String.format(Locale.ROOT, "| %d | %.1f |%n", i + 1, rss.get(i) / 1024.0));
            }
        }
        md.append("\nEvery cycle's figure is in the .csv of the same name.\n");
        Files.writeString(out.resolve("churn-" + stamp + ".md"), md);
        System.out.println("wrote " + out.resolve("churn-" + stamp + ".md"));
        if (!pass) {
            System.exit(1);
        }
    }

    /** The glibc malloc tunables this benchmark's environment passed on to the server, as a sentence. */
    private static String mallocEnvironment() {
        List<String> set = System.getenv().entrySet().stream().filter(e -> e.getKey().startsWith("MALLOC_")
                || e.getKey().equals("GLIBC_TUNABLES")).map(e -> e.getKey() + "=" + e.getValue()).sorted().toList();
        return set.isEmpty() ? " No malloc tunables in the environment." : " Environment: " + String.join(" ", set) + ".";
    }

    /** VmRSS of {@code pid} in KiB, from /proc/<pid>/status. */
    static long vmRssKib(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.substring("VmRSS:".length()).replace("kB", "").trim());
            }
        }
        throw new IOException("no VmRSS line in /proc/" + pid + "/status");
    }

    private static void post(HttpClient client, String url) throws IOException, InterruptedException {
        HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofMinutes(2))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IllegalStateException("POST " + url + " answered " + r.statusCode() + ": " + r.body());
        }
    }

    private static void infer(HttpClient client, String base, String model) throws IOException, InterruptedException {
        Workload w = model.equals("mlp") ? Workload.MLP : Workload.MINILM_16;
        LoadRequest req = w.request();
        HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(base + req.path()))
                .timeout(Duration.ofMinutes(1)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(req.body().getBytes())).build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IllegalStateException(model + " inference answered " + r.statusCode() + ": " + r.body());
        }
    }

    private static void copyTree(Path src, Path dst) throws IOException {
        try (Stream<Path> files = Files.walk(src)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                Path target = dst.resolve(src.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target, StandardCopyOption.REPLACE_EXISTING);
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
