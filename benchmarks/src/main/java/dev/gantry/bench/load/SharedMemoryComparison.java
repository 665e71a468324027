package dev.gantry.bench.load;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Pattern;

/**
 * A 600 KB FP32 tensor [1,153600] through identity_fp32, three ways: JSON both ways, the binary extension both
 * ways, and system shared memory both ways (input and output in registered regions; the bodies are a few hundred
 * bytes of JSON). Closed loop, so the figures are capacity (requests per second) and the latency each client saw
 * at that load, not open-loop latency claims.
 *
 * <p>Gantry runs as a child JVM pinned to CPU 1 ({@code taskset}), this client on the rest. Run from the
 * repository root after {@code mvn -B -pl benchmarks -am package -DskipTests}:
 * {@code java -cp benchmarks/target/benchmarks.jar dev.gantry.bench.load.SharedMemoryComparison
 * [--seconds 10] [--warmup 10] [--clients 4]} (about 3 x (warmup + seconds) plus the server start).
 */
public final class SharedMemoryComparison {
    private static final int ELEMENTS = 153_600;
    private static final int BYTES = ELEMENTS * 4;

    private SharedMemoryComparison() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> opts = new LinkedHashMap<>(Map.of("--seconds", "10", "--warmup", "10", "--clients", "4",
                "--models", "models", "--cpus", "1"));
        for (int i = 0; i + 1 < args.length; i += 2) {
            opts.put(args[i], args[i + 1]);
        }
        int seconds = Integer.parseInt(opts.get("--seconds"));
        int warmup = Integer.parseInt(opts.get("--warmup"));
        int clients = Integer.parseInt(opts.get("--clients"));
        Path work = Files.createTempDirectory("gantry-shm-bench");
        Path repo = work.resolve("models").resolve("identity_fp32");
        Files.createDirectories(repo.resolve("1"));
        Path source = Path.of(opts.get("--models"), "identity_fp32");
        Files.copy(source.resolve("1").resolve("model.onnx"), repo.resolve("1").resolve("model.onnx"));
        Files.copy(source.resolve("config.json"), repo.resolve("config.json"));
        int port = 18000 + new SplittableRandom().nextInt(1000);
        String key = "gantry-bench-" + UUID.randomUUID();
        Path shm = Path.of("/dev/shm", key);
        try (ServerProcess server = ServerProcess.start(opts.get("--cpus"),
                List.of("-Xms2g", "-Xmx2g", "--enable-native-access=ALL-UNNAMED"), ServerArm.GANTRY_MAIN,
                List.of("serve", "--host", "127.0.0.1", "--port", Integer.toString(port), "--models",
                        work.resolve("models").toString(), "--data", work.resolve("data").toString(),
                        "--access-log", "off"),
                work.resolve("server.log"), Pattern.compile("Gantry ready on http://"), Duration.ofMinutes(3))) {
            String base = "http://127.0.0.1:" + port;
            byte[] tensor = randomTensor();
            try (FileChannel c = FileChannel.open(shm, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                    StandardOpenOption.WRITE)) {
                c.write(ByteBuffer.allocate(2 * BYTES), 0);
                c.write(ByteBuffer.wrap(tensor), 0);
            }
            HttpClient setup = HttpClient.newHttpClient();
            for (String[] r : new String[][] {{"in", "0"}, {"out", Integer.toString(BYTES)}}) {
                HttpResponse<String> reg = setup.send(HttpRequest.newBuilder(URI.create(base
                        + "/v2/systemsharedmemory/region/" + r[0] + "/register")).POST(HttpRequest.BodyPublishers
                        .ofString("{\"key\":\"/" + key + "\",\"offset\":" + r[1] + ",\"byte_size\":" + BYTES + "}"))
                        .build(), HttpResponse.BodyHandlers.ofString());
                if (reg.statusCode() != 200) {
                    throw new IllegalStateException("register " + r[0] + ": " + reg.body());
                }
            }
            Map<String, Request> arms = new LinkedHashMap<>();
            arms.put("json", json(base, tensor));
            arms.put("binary", binary(base, tensor));
            arms.put("shared-memory", sharedMemory(base));
            List<String> rows = new ArrayList<>();
            Map<String, Double> throughput = new LinkedHashMap<>();
            for (Map.Entry<String, Request> arm : arms.entrySet()) {
                run(arm.getValue(), clients, warmup);
                double[] r = run(arm.getValue(), clients, seconds);
                throughput.put(arm.getKey(), r[0]);
                rows.add(String.format(Locale.ROOT, "| %s | %.1f | %.2f | %.2f |", arm.getKey(), r[0], r[1], r[2]));
            }
            System.out.printf(Locale.ROOT, "%n600 KB FP32 [1,%d] through identity_fp32, %d clients, closed loop, %d s"
                    + " per arm after %d s warm-up; server pinned to CPU %s%n%n", ELEMENTS, clients, seconds, warmup,
                    opts.get("--cpus"));
            System.out.println("| arm | req/s | p50 ms | p99 ms |");
            System.out.println("|---|---|---|---|");
            rows.forEach(System.out::println);
            System.out.printf(Locale.ROOT, "%nshared memory / binary: %.2fx; shared memory / JSON: %.2fx;"
                    + " binary / JSON: %.2fx%n", throughput.get("shared-memory") / throughput.get("binary"),
                    throughput.get("shared-memory") / throughput.get("json"),
                    throughput.get("binary") / throughput.get("json"));
        } finally {
            Files.deleteIfExists(shm);
        }
    }

    /** One request of an arm, and the check that its answer is right. */
    private record Request(HttpRequest request, int expectedMinBytes) {
    }

    private static byte[] randomTensor() {
        SplittableRandom r = new SplittableRandom(7);
        ByteBuffer b = ByteBuffer.allocate(BYTES).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < ELEMENTS; i++) {
            b.putFloat((float) r.nextDouble(-1, 1));
        }
        return b.array();
    }

    private static Request json(String base, byte[] tensor) {
        ByteBuffer b = ByteBuffer.wrap(tensor).order(ByteOrder.LITTLE_ENDIAN);
        StringBuilder sb = new StringBuilder("{\"inputs\":[{\"name\":\"input\",\"shape\":[1," + ELEMENTS
                + "],\"datatype\":\"FP32\",\"data\":[");
        for (int i = 0; i < ELEMENTS; i++) {
            sb.append(i == 0 ? "" : ",").append(b.getFloat(i * 4));
        }
        sb.append("]}]}");
        return new Request(HttpRequest.newBuilder(URI.create(base + "/v2/models/identity_fp32/infer"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(sb.toString())).build(), ELEMENTS * 2);
    }

    private static Request binary(String base, byte[] tensor) {
        byte[] header = ("{\"inputs\":[{\"name\":\"input\",\"shape\":[1," + ELEMENTS + "],\"datatype\":\"FP32\","
                + "\"parameters\":{\"binary_data_size\":" + BYTES + "}}],\"parameters\":{\"binary_data_output\":true}}")
                .getBytes(StandardCharsets.UTF_8);
        byte[] body = Arrays.copyOf(header, header.length + BYTES);
        System.arraycopy(tensor, 0, body, header.length, BYTES);
        return new Request(HttpRequest.newBuilder(URI.create(base + "/v2/models/identity_fp32/infer"))
                .header("Inference-Header-Content-Length", Integer.toString(header.length))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), BYTES);
    }

    private static Request sharedMemory(String base) {
        String body = "{\"inputs\":[{\"name\":\"input\",\"shape\":[1," + ELEMENTS + "],\"datatype\":\"FP32\","
                + "\"parameters\":{\"shared_memory_region\":\"in\",\"shared_memory_byte_size\":" + BYTES + "}}],"
                + "\"outputs\":[{\"name\":\"output\",\"parameters\":{\"shared_memory_region\":\"out\","
                + "\"shared_memory_byte_size\":" + BYTES + "}}]}";
        return new Request(HttpRequest.newBuilder(URI.create(base + "/v2/models/identity_fp32/infer"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), 50);
    }

    /** {req/s, p50 ms, p99 ms} of {@code clients} closed loops over {@code seconds}. */
    private static double[] run(Request arm, int clients, int seconds) throws InterruptedException {
        AtomicBoolean stop = new AtomicBoolean();
        List<long[]> latencies = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        long start = System.nanoTime();
        for (int c = 0; c < clients; c++) {
            long[] own = new long[1 << 20];
            latencies.add(own);
            HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            Thread t = Thread.ofPlatform().start(() -> {
                int n = 0;
                while (!stop.get() && n + 1 < own.length) {
                    long t0 = System.nanoTime();
                    try {
                        HttpResponse<byte[]> r = client.send(arm.request(), HttpResponse.BodyHandlers.ofByteArray());
                        if (r.statusCode() != 200 || r.body().length < arm.expectedMinBytes()) {
                            throw new IllegalStateException(r.statusCode() + " " + new String(r.body(), 0,
                                    Math.min(200, r.body().length), StandardCharsets.UTF_8));
                        }
                    } catch (IOException e) {
                        throw new IllegalStateException(e);
                    } catch (InterruptedException e) {
                        return;
                    }
                    own[++n] = System.nanoTime() - t0;
                }
                own[0] = n;
            });
            threads.add(t);
        }
        Thread.sleep(seconds * 1000L);
        stop.set(true);
        for (Thread t : threads) {
            t.join();
        }
        double elapsed = (System.nanoTime() - start) / 1e9;
        int total = 0;
        for (long[] l : latencies) {
            total += (int) l[0];
        }
        long[] all = new long[total];
        int k = 0;
        for (long[] l : latencies) {
            System.arraycopy(l, 1, all, k, (int) l[0]);
            k += (int) l[0];
        }
        Arrays.sort(all);
        double p50 = all.length == 0 ? 0 : all[all.length / 2] / 1e6;
        double p99 = all.length == 0 ? 0 : all[Math.min(all.length - 1, (int) (all.length * 0.99))] / 1e6;
        return new double[] {total / elapsed, p50, p99};
    }
}
