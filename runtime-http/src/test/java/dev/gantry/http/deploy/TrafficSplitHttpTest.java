package dev.gantry.http.deploy;

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
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;

import static dev.gantry.http.deploy.DeployApi.ONLY_VERSION_1;
import static dev.gantry.http.deploy.DeployApi.ok;
import static dev.gantry.http.deploy.DeployApi.routes;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * How unversioned requests are split over HTTP: unkeyed requests follow the weights (chi-square goodness of
 * fit), keyed requests stick to a version while the weights stay, and a weight change moves only the share of
 * keys it must, only towards the version that gained. Each test owns one model with versions 1 and 2 loaded.
 */
class TrafficSplitHttpTest {
    static final int CLIENTS = 16;
    /** Chi-square critical value for one degree of freedom at p = 0.001. */
    static final double CHI2_CRITICAL_DF1_P001 = 10.828;
    static final int KEYS = 2_000;

    @TempDir
    static Path dir;
    static ServerFixture server;
    static DeployApi api;
    static ExecutorService pool;
    static List<HttpClient> clients = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        TempRepository repo = new TempRepository(dir.resolve("models"));
        List<String> models = List.of("weighted", "sticky", "moving", "body");
        for (String model : models) {
            repo.copy("mlp", model, 1, ONLY_VERSION_1).copy("mlp", model, 2, null);
        }
        server = ServerFixture.start(ServerFixture.config(repo.root(), dir.resolve("data")),
                ExecutorFactory.onnxRuntime());
        api = DeployApi.of(server);
        for (String model : models) {
            api.load(model, 2);
        }
        pool = Executors.newFixedThreadPool(CLIENTS);
        for (int i = 0; i < CLIENTS; i++) {
            clients.add(DeployApi.newClient());
        }
    }

    @AfterAll
    static void stop() {
        if (pool != null) {
            pool.shutdownNow();
        }
        if (server != null) {
            server.close();
        }
    }

    @Test
    void unkeyedRequests_at70to30_passChiSquareGoodnessOfFit() throws Exception {
        ok(api.traffic("weighted", routes(1, 70, 2, 30)));
        int n = 10_000;

        long start = System.nanoTime();
        long[] versions = run(n, i -> new Call("weighted", DeployApi.mlpBody(i, null), Map.of()));
        double seconds = (System.nanoTime() - start) / 1e9;

        long ones = count(versions, 1);
        long twos = count(versions, 2);
        assertEquals(n, ones + twos, "every answer comes from version 1 or 2");
        double e1 = n * 0.7;
        double e2 = n * 0.3;
        double chi2 = (ones - e1) * (ones - e1) / e1 + (twos - e2) * (twos - e2) / e2;
        System.out.printf("70/30 over %d unkeyed requests: version 1 %d, version 2 %d, chi2 %.3f (critical %.3f);"
                + " %.0f requests/s%n", n, ones, twos, chi2, CHI2_CRITICAL_DF1_P001, n / seconds);
        assertTrue(chi2 < CHI2_CRITICAL_DF1_P001, "shares " + ones + "/" + twos + " do not fit 70/30: chi2 = " + chi2);
    }

    @Test
    void routingKey_keepsItsVersionAcrossRepeats_whileWeightsStay() throws Exception {
        ok(api.traffic("sticky", routes(1, 90, 2, 10)));

        long[] first = byHeaderKey("sticky");
        long[] second = byHeaderKey("sticky");
        long[] third = byHeaderKey("sticky");

        for (int k = 0; k < KEYS; k++) {
            assertEquals(first[k], second[k], "key " + key(k) + " changed version on its second request");
            assertEquals(first[k], third[k], "key " + key(k) + " changed version on its third request");
        }
        long twos = count(first, 2);
        System.out.printf("90/10 sticky: %d of %d keys on version 2%n", twos, KEYS);
        assertTrue(twos > KEYS * 0.07 && twos < KEYS * 0.13,
                "keys should split about 90/10 as well, but " + twos + " of " + KEYS + " are on version 2");
    }

    @Test
    void weightChange_90to80_movesSevenToThirteenPercentOfKeys_allFromShrinkingToGrowingVersion() throws Exception {
        ok(api.traffic("moving", routes(1, 90, 2, 10)));
        long[] before = byHeaderKey("moving");

        ok(api.traffic("moving", routes(1, 80, 2, 20)));
        long[] after = byHeaderKey("moving");

        int moved = 0;
        for (int k = 0; k < KEYS; k++) {
            if (before[k] != after[k]) {
                moved++;
                assertEquals(1, before[k], "key " + key(k) + " moved away from version 2, whose weight grew");
                assertEquals(2, after[k], "key " + key(k) + " moved to " + after[k]);
            }
        }
        System.out.printf("90/10 -> 80/20: %d of %d keys moved (%.1f%%; expected about 10%%)%n", moved, KEYS,
                100.0 * moved / KEYS);
        assertTrue(moved >= KEYS * 0.07 && moved <= KEYS * 0.13,
                moved + " of " + KEYS + " keys moved; expected between 7% and 13%");
    }

    @Test
    void routingKeyInBodyParameters_routesLikeTheHeader() throws Exception {
        ok(api.traffic("body", routes(1, 50, 2, 50)));
        int keys = 500;

        long[] byHeader = run(keys, k -> new Call("body", DeployApi.mlpBody(k, null),
                Map.of("Gantry-Route-Key", key(k))));
        long[] byBody = run(keys, k -> new Call("body",
                DeployApi.mlpBody(k + 7, "\"parameters\":{\"routing_key\":\"" + key(k) + "\"}"), Map.of()));

        for (int k = 0; k < keys; k++) {
            assertEquals(byHeader[k], byBody[k], "key " + key(k) + ": header and body disagree");
        }
        long twos = count(byHeader, 2);
        assertTrue(twos > 0 && twos < keys, "at 50/50 both versions should get keys, version 2 got " + twos);
    }

    private static long[] byHeaderKey(String model) throws Exception {
        return run(KEYS, k -> new Call(model, DeployApi.mlpBody(k, null), Map.of("Gantry-Route-Key", key(k))));
    }

    private static String key(int k) {
        return "user-" + k;
    }

    private record Call(String model, String body, Map<String, String> headers) {
    }

    /** Sends calls 0..n-1 from CLIENTS threads; the model_version each answer came from, by call index. */
    private static long[] run(int n, IntFunction<Call> call) throws Exception {
        long[] versions = new long[n];
        List<Future<?>> parts = new ArrayList<>();
        for (int c = 0; c < CLIENTS; c++) {
            int client = c;
            DeployApi mine = api.withClient(clients.get(c));
            parts.add(pool.submit(() -> {
                for (int i = client; i < n; i += CLIENTS) {
                    Call x = call.apply(i);
                    HttpResponse<String> r = mine.infer(x.model(), x.body(), x.headers());
                    assertEquals(200, r.statusCode(), r.body());
                    String v = Bodies.parse(r.body()).path("model_version").asText();
                    assertEquals(v, r.headers().firstValue("Gantry-Model-Version").orElse("missing"),
                            "header and body name different versions");
                    versions[i] = Long.parseLong(v);
                }
                return null;
            }));
        }
        for (Future<?> f : parts) {
            f.get(120, TimeUnit.SECONDS);
        }
        return versions;
    }

    private static long count(long[] versions, long version) {
        long n = 0;
        for (long v : versions) {
            if (v == version) {
                n++;
            }
        }
        return n;
    }
}
