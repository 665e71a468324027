package dev.gantry.http.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gantry.core.lifecycle.ExecutorFactory;
import dev.gantry.http.testing.Bodies;
import dev.gantry.http.testing.ServerFixture;
import dev.gantry.http.testing.TempRepository;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import static dev.gantry.http.deploy.DeployApi.ONLY_VERSION_1;
import static dev.gantry.http.deploy.DeployApi.ok;
import static dev.gantry.http.deploy.DeployApi.routes;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Zero-drop hot swap: while 32 clients send unversioned requests without pause, the test repeatedly loads a
 * version B, shifts traffic from A to B in steps, rolls back to A and unloads B. Every request must be
 * answered with 200, by a version that was routable at some moment while the request was outstanding.
 */
class HotSwapUnderLoadTest {
    /*
     * The routable set of each policy is known only to within the PUT (or rollback) call that applied it: the
     * policy took effect somewhere in [send, receive] of that call and stayed until the next one took effect,
     * so it was in force at most from its call's send to the next call's receive. A response from version v is
     * consistent when some policy routing v was (possibly) in force during the request's own [send, receive].
     */
    static final String MODEL = "swap";
    static final long A = 1;
    static final int CLIENTS = 32;
    static final int CYCLES = 20;
    static final long PAUSE_MS = 75;
    static final long CLIENT_DEADLINE_MINUTES = 5;

    @TempDir
    static Path dir;
    static ServerFixture server;
    static DeployApi api;

    /** A policy as applied: the admin call's send and receive times and the versions with weight > 0. */
    record Applied(long sendNanos, long receiveNanos, Set<Long> routable, String step) {
    }

    /** One inference call: send and receive times, status, version (0 when none) or the client error. */
    record Sample(long sendNanos, long receiveNanos, int status, long version, String error) {
    }

    @BeforeAll
    static void start() throws Exception {
        TempRepository repo = new TempRepository(dir.resolve("models"));
        repo.copy("mlp", MODEL, 1, ONLY_VERSION_1).copy("mlp", MODEL, 2, null).copy("mlp", MODEL, 3, null);
        server = ServerFixture.start(ServerFixture.config(repo.root(), dir.resolve("data")),
                ExecutorFactory.onnxRuntime());
        api = DeployApi.of(server);
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void swapCycles_underConstantLoad_answerEveryRequest_fromAVersionRoutableWhileItWasOutstanding()
            throws Exception {
        JsonNode initial = api.model(MODEL);
        assertEquals(Map.of(A, 100), DeployApi.weights(initial.path("policy")), initial.toString());
        List<Applied> timeline = new CopyOnWriteArrayList<>();
        timeline.add(new Applied(Long.MIN_VALUE, Long.MIN_VALUE, Set.of(A), "initial"));
        long baseRevision = initial.path("revision").asLong();

        ConcurrentLinkedQueue<Sample> samples = new ConcurrentLinkedQueue<>();
        Load load = new Load(samples);
        load.start();
        Map<String, List<Double>> stepMillis = new LinkedHashMap<>();
        List<long[]> drains = new ArrayList<>();
        long swapStart;
        try {
            load.awaitSamples(CLIENTS * 4);
            swapStart = System.nanoTime();
            for (int cycle = 0; cycle < CYCLES; cycle++) {
                long b = 2 + cycle % 2;
                timed(stepMillis, "load B", () -> api.load(MODEL, b));
                applyWeights(timeline, stepMillis, "A100/B0", b, 100, 0);
                applyWeights(timeline, stepMillis, "A90/B10", b, 90, 10);
                applyWeights(timeline, stepMillis, "A50/B50", b, 50, 50);
                applyWeights(timeline, stepMillis, "A0/B100", b, 0, 100);

                long rollbackSend = System.nanoTime();
                String rollbackBody = "{\"to_revision\":" + baseRevision + "}";
                JsonNode rolled = timed(stepMillis, "rollback", () -> ok(api.rollback(MODEL, rollbackBody)));
                timeline.add(new Applied(rollbackSend, System.nanoTime(), Set.of(A), "rollback"));
                assertEquals(baseRevision, rolled.path("to").asLong(), rolled.toString());
                assertEquals(Map.of(A, 100), DeployApi.weights(rolled.path("policy")), rolled.toString());
                baseRevision = rolled.path("revision").asLong();

                timed(stepMillis, "unload B", () -> ok(api.unload(MODEL, b)));
                drains.add(new long[] {b, rollbackSend, System.nanoTime()});
                assertEquals("UNAVAILABLE", api.state(MODEL, b), "version " + b + " should be unloaded");
                sleep(PAUSE_MS);
            }
        } finally {
            load.stop();
        }
        double swapSeconds = (System.nanoTime() - swapStart) / 1e9;

        List<Sample> all = new ArrayList<>(samples);
        List<String> failures = new ArrayList<>();
        List<String> inconsistent = new ArrayList<>();
        Map<Long, Integer> byVersion = new TreeMap<>();
        for (Sample s : all) {
            if (s.status() != 200) {
                failures.add(s.toString());
                continue;
            }
            byVersion.merge(s.version(), 1, Integer::sum);
            if (!routableDuring(timeline, s)) {
                inconsistent.add(s.toString());
            }
        }
        /* B answers received between the rollback call and the end of B's unload: admitted, then drained. */
        long bAnsweredWhileLeaving = all.stream().filter(s -> s.status() == 200 && drains.stream().anyMatch(d ->
                s.version() == d[0] && s.receiveNanos() >= d[1] && s.receiveNanos() <= d[2])).count();
        long[] latencies = all.stream().mapToLong(s -> s.receiveNanos() - s.sendNanos()).sorted().toArray();
        System.out.printf("hot swap: %d requests from %d clients over %d cycles in %.1f s (%.0f requests/s); by"
                        + " version %s; %d failed; B answers received between rollback and the end of its unload: %d%n",
                all.size(), CLIENTS, CYCLES, swapSeconds, all.size() / swapSeconds, byVersion, failures.size(),
                bAnsweredWhileLeaving);
        System.out.printf("hot swap latency: p50 %.2f ms, p99 %.2f ms, max %.2f ms%n", percentile(latencies, 0.50),
                percentile(latencies, 0.99), latencies.length == 0 ? 0 : latencies[latencies.length - 1] / 1e6);
        stepMillis.forEach((step, ms) -> System.out.printf("  step %-9s n=%d mean %.1f ms, max %.1f ms%n", step,
                ms.size(), ms.stream().mapToDouble(Double::doubleValue).average().orElse(0),
                ms.stream().mapToDouble(Double::doubleValue).max().orElse(0)));

        assertTrue(failures.isEmpty(), failures.size() + " of " + all.size() + " requests failed, e.g. "
                + failures.subList(0, Math.min(5, failures.size())));
        assertTrue(inconsistent.isEmpty(), inconsistent.size() + " answers came from a version not routable while"
                + " they were outstanding, e.g. " + inconsistent.subList(0, Math.min(3, inconsistent.size())));
        assertTrue(byVersion.getOrDefault(2L, 0) > 0 && byVersion.getOrDefault(3L, 0) > 0,
                "both B versions should have served traffic during the swaps: " + byVersion);
    }

    private static void applyWeights(List<Applied> timeline, Map<String, List<Double>> stepMillis, String step, long b,
                                     int weightA, int weightB) {
        long send = System.nanoTime();
        JsonNode r = timed(stepMillis, step, () -> ok(api.traffic(MODEL, routes(A, weightA, b, weightB))));
        long receive = System.nanoTime();
        Set<Long> routable = weightA == 0 ? Set.of(b) : weightB == 0 ? Set.of(A) : Set.of(A, b);
        timeline.add(new Applied(send, receive, routable, step));
        assertEquals(Map.of(A, weightA, b, weightB), DeployApi.weights(r.path("policy")), r.toString());
        sleep(PAUSE_MS);
    }

    static boolean routableDuring(List<Applied> timeline, Sample s) {
        for (int i = 0; i < timeline.size(); i++) {
            Applied p = timeline.get(i);
            long inForceUntil = i + 1 < timeline.size() ? timeline.get(i + 1).receiveNanos() : Long.MAX_VALUE;
            if (p.routable().contains(s.version()) && p.sendNanos() <= s.receiveNanos()
                    && inForceUntil >= s.sendNanos()) {
                return true;
            }
        }
        return false;
    }

    private static <T> T timed(Map<String, List<Double>> stepMillis, String step, Supplier<T> action) {
        long start = System.nanoTime();
        T result = action.get();
        stepMillis.computeIfAbsent(step, k -> new ArrayList<>()).add((System.nanoTime() - start) / 1e6);
        return result;
    }

    private static double percentile(long[] sorted, double q) {
        if (sorted.length == 0) {
            return 0;
        }
        int i = (int) Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1);
        return sorted[Math.max(0, i)] / 1e6;
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** CLIENTS threads, each with its own HTTP client, sending one request after another until stopped. */
    static final class Load {
        private final ConcurrentLinkedQueue<Sample> samples;
        private final List<Thread> threads = new ArrayList<>();
        private volatile boolean running = true;

        Load(ConcurrentLinkedQueue<Sample> samples) {
            this.samples = samples;
        }

        void start() {
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(CLIENT_DEADLINE_MINUTES);
            for (int c = 0; c < CLIENTS; c++) {
                int client = c;
                threads.add(Thread.ofPlatform().name("swap-client-" + c).start(() -> {
                    HttpClient http = DeployApi.newClient();
                    DeployApi mine = api.withClient(http);
                    String body = DeployApi.mlpBody(client, null);
                    while (running && System.nanoTime() < deadline) {
                        samples.add(call(mine, body));
                    }
                }));
            }
        }

        private static Sample call(DeployApi mine, String body) {
            long send = System.nanoTime();
            try {
                HttpResponse<String> r = mine.infer(MODEL, body, Map.of());
                long receive = System.nanoTime();
                if (r.statusCode() != 200) {
                    return new Sample(send, receive, r.statusCode(), 0, r.body());
                }
                String v = Bodies.parse(r.body()).path("model_version").asText();
                String header = r.headers().firstValue("Gantry-Model-Version").orElse("missing");
                if (!v.equals(header)) {
                    return new Sample(send, receive, -2, 0, "body names version " + v + ", header " + header);
                }
                return new Sample(send, receive, 200, Long.parseLong(v), null);
            } catch (RuntimeException e) {
                return new Sample(send, System.nanoTime(), -1, 0, String.valueOf(e.getCause() == null ? e
                        : e.getCause()));
            }
        }

        void awaitSamples(int n) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (samples.size() < n && System.nanoTime() < deadline) {
                sleep(10);
            }
            assertTrue(samples.size() >= n, "load did not start: " + samples.size() + " answers in 30 s");
        }

        void stop() throws InterruptedException {
            running = false;
            for (Thread t : threads) {
                t.join(TimeUnit.SECONDS.toMillis(70));
            }
            assertTrue(threads.stream().noneMatch(Thread::isAlive), "a client thread did not stop: "
                    + Arrays.toString(threads.stream().filter(Thread::isAlive).toArray()));
        }
    }
}
