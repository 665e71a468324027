package dev.gantry.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gantry.core.access.Role;
import dev.gantry.core.lifecycle.ExecutorFactory;
import dev.gantry.core.model.ModelId;
import dev.gantry.http.testing.ServerFixture;
import dev.gantry.http.testing.TempRepository;
import dev.gantry.http.logging.WarmupRequests;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The start-up warm-up: before readiness the server has sent itself reads and changes it refused, and nothing
 * it refused left a trace (no revision, no audit entry); a change that is accepted stops the warm-up.
 */
class StartupWarmupTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /* The answers of a full warm-up without API keys; ready answers 400 since it runs before the server is ready. */
    private static final Map<String, Integer> REFUSED_WITHOUT_KEYS = Map.of("live 200", StartupWarmup.ROUNDS,
            "ready 400", StartupWarmup.ROUNDS, "model 200", StartupWarmup.ROUNDS, "traffic 409", StartupWarmup.ROUNDS,
            "rollback 404", StartupWarmup.ROUNDS);

    @TempDir
    Path dir;

    @ParameterizedTest(name = "separate admin port: {0}")
    @ValueSource(booleans = {false, true})
    void start_sendsRefusedChangesBeforeReady_andLeavesNoRevisionOrAudit(boolean separateAdmin) throws Exception {
        try (ServerFixture server = start(separateAdmin)) {
            assertWarmedUpWithoutTrace(server, REFUSED_WITHOUT_KEYS, Optional.empty());
        }
    }

    @Test
    void start_onIpv6Loopback_getsTheSameAnswers() throws Exception {
        try (ServerFixture server = ServerFixture.start(config(false).withHost("::1"), ExecutorFactory.onnxRuntime())) {
            assertEquals(REFUSED_WITHOUT_KEYS, server.server().startupWarmup().orElseThrow().statuses());
        }
    }

    @Test
    void start_withApiKeys_endsTheAdminRequestsAt401() throws Exception {
        String token;
        try (ServerFixture first = start(false)) {
            token = first.server().keys().create("root", Set.of(Role.ADMIN), Set.of(), Optional.empty(),
                    Optional.empty()).token();
        }
        try (ServerFixture server = ServerFixture.start(config(false), ExecutorFactory.onnxRuntime())) {
            int rounds = StartupWarmup.ROUNDS;
            /* the warm-up carries no key: health is open, every admin route asks for one */
            assertWarmedUpWithoutTrace(server, Map.of("live 200", rounds, "ready 400", rounds, "model 401", rounds,
                    "traffic 401", rounds, "rollback 401", rounds), Optional.of(token));
        }
    }

    @Test
    void start_withoutAReadyVersion_sendsOnlyReads() throws Exception {
        ServerConfig c = ServerFixture.config(dir.resolve("empty-models"), dir.resolve("data"));
        java.nio.file.Files.createDirectories(dir.resolve("empty-models"));
        try (ServerFixture server = ServerFixture.start(c, ExecutorFactory.onnxRuntime())) {
            StartupWarmup.Result r = server.server().startupWarmup().orElseThrow();
            assertEquals(Map.of("live 200", StartupWarmup.ROUNDS, "ready 400", StartupWarmup.ROUNDS), r.statuses());
            assertFalse(r.stoppedBy().isPresent(), r.toString());
        }
    }

    @Test
    void warmup_sendsTheHeadersOfEachCommonClientInTurn_eachRequestMarkedAsWarmup() throws Exception {
        Vertx vertx = Vertx.vertx();
        try {
            List<Map<String, String>> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
            List<Set<String>> names = new java.util.concurrent.CopyOnWriteArrayList<>();
            List<List<Integer>> counts = new java.util.concurrent.CopyOnWriteArrayList<>();
            io.vertx.core.http.HttpServer server = vertx.createHttpServer().requestHandler(req -> req.body()
                    .onSuccess(body -> {
                        Map<String, String> headers = new java.util.HashMap<>();
                        req.headers().forEach(h -> headers.put(h.getKey().toLowerCase(java.util.Locale.ROOT),
                                h.getValue()));
                        seen.add(headers);
                        names.add(req.headers().names());
                        counts.add(List.of(req.headers().getAll("Host").size(),
                                req.headers().getAll("Content-Length").size()));
                        req.response().end();
                    })).listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
            int n = 2 * StartupWarmup.CLIENT_HEADERS.size();
            List<StartupWarmup.Call> calls = java.util.Collections.nCopies(n,
                    new StartupWarmup.Call("put", HttpMethod.PUT, false, "/x", "{\"a\":1}", false));

            StartupWarmup.Result r = StartupWarmup.run(vertx, "127.0.0.1", server.actualPort(), server.actualPort(),
                    Optional.empty(), calls, StartupWarmup.LIMITS)
                    .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);

            assertEquals(Map.of("put 200", n), r.statuses());
            assertEquals(n, seen.size());
            for (int i = 0; i < n; i++) {
                Map<String, String> sent = seen.get(i);
                StartupWarmup.CLIENT_HEADERS.get(i % StartupWarmup.CLIENT_HEADERS.size()).forEach((name, value) ->
                        assertEquals(value, sent.get(name.toLowerCase(java.util.Locale.ROOT)), name + " in " + sent));
                assertEquals(32, sent.get(WarmupRequests.HEADER.toLowerCase(java.util.Locale.ROOT)).length(),
                        "every request carries the warm-up's token: " + sent);
                assertEquals("7", sent.get("content-length"), sent.toString());
                assertEquals(List.of(1, 1), counts.get(i), "one Host and one Content-Length: " + names.get(i));
                assertEquals("127.0.0.1:" + server.actualPort(), sent.get("host"), sent.toString());
                // the other clients write these two names capitalized, Vert.x's own client in lower case
                boolean own = i % StartupWarmup.CLIENT_HEADERS.size() == 0;
                assertEquals(own ? Set.of() : Set.of("Host", "Content-Length"), names.get(i).stream()
                        .filter(h -> h.equals("Host") || h.equals("Content-Length")).collect(
                                java.util.stream.Collectors.toSet()), "names " + names.get(i));
            }
            assertEquals(StartupWarmup.CLIENT_HEADERS.size(), seen.stream().map(h -> h.get("user-agent")).distinct()
                    .count(), "each client's User-Agent: " + seen);
        } finally {
            vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void warmup_whenAChangeIsAccepted_stopsAtOnceAndSaysSo() throws Exception {
        try (ServerFixture server = start(false)) {
            int port = server.server().port();
            String accepted = "{\"routes\":[{\"version\":\"1\",\"weight\":100}],\"expected_revision\":1}";
            // thousands of calls left after the one that stops it: the end must not have to unwind through them
            List<StartupWarmup.Call> calls = new java.util.ArrayList<>();
            calls.add(new StartupWarmup.Call("traffic", HttpMethod.PUT, true, "/admin/v1/models/m/traffic", accepted,
                    true));
            for (int i = 0; i < 20_000; i++) {
                calls.add(new StartupWarmup.Call("live", HttpMethod.GET, false, "/v2/health/live", null, false));
            }
            Vertx vertx = Vertx.vertx();
            try {
                StartupWarmup.Result r = StartupWarmup.run(vertx, "127.0.0.1", port, port, Optional.empty(), calls,
                        StartupWarmup.LIMITS)
                        .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
                assertEquals(Map.of("traffic 200", 1), r.statuses(), "the GETs after it must not be sent");
                assertTrue(r.stoppedBy().orElseThrow().startsWith(StartupWarmup.ACCEPTED), r.toString());
                assertTrue(r.millis() < StartupWarmup.LIMITS.deadlineMillis() / 3, r.toString());
            } finally {
                vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void start_repeated_everyWarmupGetsEveryAnswer() throws Exception {
        /*
         * The warm-up is started by the model loader thread that finishes the start. When its client was used
         * from that thread, about one start in fourteen got no connection and waited out the whole deadline.
         */
        for (int i = 0; i < 30; i++) {
            try (ServerFixture server = start(false)) {
                StartupWarmup.Result r = server.server().startupWarmup().orElseThrow();
                assertFalse(r.stoppedBy().isPresent(), "start " + i + ": " + r);
                assertEquals(5 * StartupWarmup.ROUNDS, r.statuses().values().stream().mapToInt(Integer::intValue)
                        .sum(), "start " + i + ": " + r);
            }
        }
    }

    @Test
    void warmup_whenTheServerIsGone_endsEarlyWithoutFailing() throws Exception {
        Vertx vertx = Vertx.vertx();
        try {
            int closedPort;
            try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
                closedPort = s.getLocalPort();
            }
            StartupWarmup.Result r = StartupWarmup.run(vertx, "127.0.0.1", closedPort, closedPort, Optional.empty(),
                    StartupWarmup.calls(Optional.of(new ModelId("m", 1))), StartupWarmup.LIMITS).toCompletionStage()
                    .toCompletableFuture().get(30, TimeUnit.SECONDS);
            assertEquals(Map.of(), r.statuses());
            assertTrue(r.stoppedBy().isPresent() && !r.stoppedBy().get().startsWith(StartupWarmup.ACCEPTED),
                    r.toString());
            // ended by the refused connection itself, not by the deadline
            assertFalse(r.stoppedBy().get().startsWith("not finished"), r.toString());
            assertTrue(r.millis() < StartupWarmup.LIMITS.deadlineMillis() / 3, r.toString());
        } finally {
            vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void warmup_whenTheServerNeverAnswers_givesUpWithinItsDeadline() throws Exception {
        Vertx vertx = Vertx.vertx();
        try (java.net.ServerSocket silent = new java.net.ServerSocket(0)) {
            /* accepts connections (the backlog does) and never answers */
            long start = System.nanoTime();
            StartupWarmup.Limits limits = new StartupWarmup.Limits(30_000, 500);
            StartupWarmup.Result r = StartupWarmup.run(vertx, "127.0.0.1", silent.getLocalPort(),
                    silent.getLocalPort(), Optional.empty(), StartupWarmup.calls(Optional.empty()), limits)
                    .toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
            long millis = (System.nanoTime() - start) / 1_000_000;
            assertEquals(Map.of(), r.statuses());
            assertTrue(r.stoppedBy().orElseThrow().contains("timeout"), r.toString());
            /* the first request's timeout ended it, long before the deadline */
            assertTrue(millis < 10_000, millis + " ms");
        } finally {
            vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void warmup_whenEveryAnswerIsSlow_stopsAtItsDeadline() throws Exception {
        Vertx vertx = Vertx.vertx();
        try {
            /* answers every request, each after 100 ms: no request times out, the warm-up as a whole does */
            io.vertx.core.http.HttpServer slow = vertx.createHttpServer()
                    .requestHandler(req -> vertx.setTimer(100, t -> req.response().end()))
                    .listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
            int port = slow.actualPort();
            long start = System.nanoTime();
            StartupWarmup.Result r = StartupWarmup.run(vertx, "127.0.0.1", port, port, Optional.empty(),
                    StartupWarmup.calls(Optional.empty()), new StartupWarmup.Limits(1_000, 5_000))
                    .toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
            long millis = (System.nanoTime() - start) / 1_000_000;
            assertEquals(Optional.of("not finished after 1000 ms"), r.stoppedBy(), r.toString());
            int answered = r.statuses().values().stream().mapToInt(Integer::intValue).sum();
            assertTrue(answered >= 5 && answered <= 10, r.toString());
            assertTrue(millis < 5_000, millis + " ms");
        } finally {
            vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void warmup_staysOutOfTheAccessLog_butAClientSendingItsHeaderDoesNot() throws Exception {
        java.nio.file.Path log = dir.resolve("access.jsonl");
        ServerConfig c = config(false);
        try (ServerFixture server = ServerFixture.start(c.withSecurity(c.security().withAccessLog(log.toString())),
                ExecutorFactory.onnxRuntime())) {
            assertEquals(REFUSED_WITHOUT_KEYS, server.server().startupWarmup().orElseThrow().statuses());
            // a header name anyone can copy, with a token the client had to guess
            HttpResponse<String> forged = server.send(java.net.http.HttpRequest.newBuilder(
                    server.uri("/v2/health/ready")).header(WarmupRequests.HEADER, "0".repeat(32)).GET().build());
            assertEquals(200, forged.statusCode());
            assertEquals(200, server.get("/admin/v1/models/m").statusCode());
        }
        List<String> lines = java.nio.file.Files.readAllLines(log);
        assertEquals(2, lines.size(), "only the test's own two requests: " + lines);
        assertEquals("/v2/health/ready", JSON.readTree(lines.get(0)).get("path").asText());
        assertEquals(200, JSON.readTree(lines.get(0)).get("status").asInt(), "the forged request is logged");
        assertEquals("/admin/v1/models/m", JSON.readTree(lines.get(1)).get("path").asText());
    }

    private ServerFixture start(boolean separateAdmin) throws Exception {
        return ServerFixture.start(config(separateAdmin), ExecutorFactory.onnxRuntime());
    }

    private ServerConfig config(boolean separateAdmin) throws Exception {
        if (!java.nio.file.Files.isDirectory(dir.resolve("models"))) {
            new TempRepository(dir.resolve("models")).copy("mlp", "m", 1, null);
        }
        ServerConfig c = ServerFixture.config(dir.resolve("models"), dir.resolve("data"));
        return separateAdmin ? c.withSecurity(c.security().withAdminPort(0)) : c;
    }

    private static void assertWarmedUpWithoutTrace(ServerFixture server, Map<String, Integer> statuses,
                                                   Optional<String> adminToken) throws Exception {
        StartupWarmup.Result r = server.server().startupWarmup().orElseThrow();
        assertEquals(statuses, r.statuses());
        assertFalse(r.stoppedBy().isPresent(), r.toString());
        assertEquals(200, server.get("/v2/health/ready").statusCode());

        String admin = "http://127.0.0.1:" + server.server().adminPort();
        JsonNode history = json(server.send(adminGet(admin + "/admin/v1/models/m/traffic/history", adminToken)));
        assertEquals(1, history.path("revisions").size(), history.toString());
        JsonNode audit = json(server.send(adminGet(admin + "/admin/v1/audit", adminToken)));
        assertFalse(audit.toString().contains("warm-up"), audit.toString());
        assertFalse(audit.toString().contains("rollback"), audit.toString());
    }

    private static java.net.http.HttpRequest adminGet(String uri, Optional<String> token) {
        java.net.http.HttpRequest.Builder b = java.net.http.HttpRequest.newBuilder(java.net.URI.create(uri)).GET();
        token.ifPresent(t -> b.header("Authorization", "Bearer " + t));
        return b.build();
    }

    private static JsonNode json(HttpResponse<String> r) throws Exception {
        assertEquals(200, r.statusCode(), r.body());
        return JSON.readTree(r.body());
    }
}
