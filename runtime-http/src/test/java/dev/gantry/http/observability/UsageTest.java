package dev.gantry.http.observability;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gantry.core.lifecycle.ExecutorFactory;
import dev.gantry.http.ServerConfig;
import dev.gantry.http.auth.KeyStore;
import dev.gantry.core.access.Role;
import dev.gantry.http.testing.Bodies;
import dev.gantry.http.testing.ServerFixture;
import dev.gantry.http.testing.TempRepository;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Usage per consumer: what each key sent (requests, rows, bytes both ways) is counted exactly, per model
 * version, kept in the catalogue database across a restart, and read back through GET /admin/v1/usage; a key
 * without the admin role reads only its own; a quota refuses with 429 and the reset time, and resets.
 */
class UsageTest {
    static final String MODEL = "metered";

    @TempDir
    Path dir;

    /** Per key: what the test sent and received. */
    static final class Sent {
        long requests;
        long rows;
        long bytesIn;
        long bytesOut;
    }

    private Map<String, String> keys(Path data) {
        KeyStore store = KeyStore.open(data, Clock.systemUTC());
        Map<String, String> tokens = new HashMap<>();
        tokens.put("root", store.create("root", Set.of(Role.ADMIN), Set.of(), Optional.empty(), Optional.empty()).token());
        tokens.put("app-a", store.create("app-a", Set.of(Role.INVOKE), Set.of(), Optional.empty(), Optional.empty()).token());
        tokens.put("app-b", store.create("app-b", Set.of(Role.INVOKE), Set.of(), Optional.empty(), Optional.empty()).token());
        return tokens;
    }

    private ServerFixture start(Clock clock) {
        ServerConfig c = ServerFixture.config(dir.resolve("models"), dir.resolve("data"));
        return ServerFixture.start(c.withObservability(c.observability().withClock(clock)),
                ExecutorFactory.onnxRuntime());
    }

    @Test
    void usage_countsExactlyWhatEachKeySent_andSurvivesARestart() throws Exception {
        new TempRepository(dir.resolve("models")).copy("mlp", MODEL, 1, null);
        Map<String, String> tokens = keys(dir.resolve("data"));
        Map<String, Sent> sent = new HashMap<>();
        try (ServerFixture server = start(Clock.systemUTC())) {
            for (int i = 0; i < 3; i++) {
                send(server, tokens.get("app-a"), 2, i, sent.computeIfAbsent("app-a", k -> new Sent()));
            }
            for (int i = 0; i < 2; i++) {
                send(server, tokens.get("app-b"), 5, i, sent.computeIfAbsent("app-b", k -> new Sent()));
            }
            HttpResponse<String> bad = server.send(post(server, tokens.get("app-a"),
                    "{\"inputs\":[{\"name\":\"features\",\"shape\":[1,3],\"datatype\":\"FP32\",\"data\":[1,2,3]}]}"));
            assertEquals(400, bad.statusCode(), "a refused request is not usage: " + bad.body());
            assertCounts(usage(server, tokens.get("root"), "group_by=key"), sent);
        }
        try (ServerFixture server = start(Clock.systemUTC())) {
            assertCounts(usage(server, tokens.get("root"), "group_by=key"), sent);
            send(server, tokens.get("app-a"), 1, 9, sent.get("app-a"));
            assertCounts(usage(server, tokens.get("root"), "group_by=key"), sent);
        }
    }

    @Test
    void usage_groupsByModelVersionAndDay_andFiltersByKeyName() throws Exception {
        new TempRepository(dir.resolve("models")).copy("mlp", MODEL, 1, null);
        Map<String, String> tokens = keys(dir.resolve("data"));
        Sent a = new Sent();
        try (ServerFixture server = start(Clock.systemUTC())) {
            send(server, tokens.get("app-a"), 3, 1, a);
            send(server, tokens.get("app-b"), 1, 2, new Sent());
            JsonNode r = usage(server, tokens.get("root"), "key=app-a&model=" + MODEL + "&group_by=model,version,day");
            assertEquals(1, r.path("usage").size(), r.toString());
            JsonNode row = r.path("usage").get(0);
            assertEquals(MODEL, row.path("model").asText());
            assertEquals(1, row.path("version").asLong());
            assertEquals(java.time.LocalDate.now(java.time.ZoneOffset.UTC) + "T00:00:00Z", row.path("day").asText());
            assertEquals(1, row.path("requests").asLong());
            assertEquals(3, row.path("rows").asLong());
            assertTrue(row.path("compute_seconds").asDouble() > 0, "compute time is counted: " + row);
        }
    }

    @Test
    void keyWithoutAdmin_seesOnlyItsOwnUsage() throws Exception {
        new TempRepository(dir.resolve("models")).copy("mlp", MODEL, 1, null);
        Map<String, String> tokens = keys(dir.resolve("data"));
        Map<String, Sent> sent = new HashMap<>();
        try (ServerFixture server = start(Clock.systemUTC())) {
            send(server, tokens.get("app-a"), 1, 1, sent.computeIfAbsent("app-a", k -> new Sent()));
            send(server, tokens.get("app-b"), 1, 2, sent.computeIfAbsent("app-b", k -> new Sent()));

            JsonNode own = usage(server, tokens.get("app-b"), "group_by=key");
            assertEquals(1, own.path("usage").size(), own.toString());
            assertEquals("app-b", own.path("usage").get(0).path("key_name").asText());
            assertCounts(own, Map.of("app-b", sent.get("app-b")));

            HttpResponse<String> other = server.send(get(server, tokens.get("app-b"), "/admin/v1/usage?key=app-a"));
            assertEquals(403, other.statusCode(), other.body());
            assertTrue(other.body().contains("own usage"), other.body());
        }
    }

    @Test
    void quota_refusesWith429AndTheResetTime_andResetsTheNextDay() throws Exception {
        new TempRepository(dir.resolve("models")).copy("mlp", MODEL, 1, null);
        Map<String, String> tokens = keys(dir.resolve("data"));
        Files.writeString(dir.resolve("data").resolve("quotas.json"),
                "{\"keys\": {\"app-a\": {\"requests_per_day\": 2}}}");
        MutableClock clock = new MutableClock(Instant.parse("2026-03-10T23:00:00Z"));
        try (ServerFixture server = start(clock)) {
            assertEquals(200, send(server, tokens.get("app-a"), 1, 1, new Sent()));
            assertEquals(200, send(server, tokens.get("app-a"), 1, 2, new Sent()));

            HttpResponse<String> refused = server.send(post(server, tokens.get("app-a"), body(1, 3)));
            assertEquals(429, refused.statusCode(), refused.body());
            assertEquals("3601", refused.headers().firstValue("Retry-After").orElseThrow(),
                    "seconds to the next UTC midnight, rounded up");
            String error = Bodies.parse(refused.body()).path("error").asText();
            assertTrue(error.contains("requests_per_day") && error.contains("2026-03-11T00:00:00Z")
                    && error.contains("app-a"), error);
            assertEquals(200, send(server, tokens.get("app-b"), 1, 4, new Sent()), "other keys are not limited");

            clock.advance(Duration.ofHours(1));
            assertEquals(200, send(server, tokens.get("app-a"), 1, 5, new Sent()), "a new day, a new quota");
        }
    }

    @Test
    void quota_countsUsageFromBeforeARestart() throws Exception {
        new TempRepository(dir.resolve("models")).copy("mlp", MODEL, 1, null);
        Map<String, String> tokens = keys(dir.resolve("data"));
        Files.writeString(dir.resolve("data").resolve("quotas.json"), "{\"default\": {\"requests_per_month\": 2}}");
        MutableClock clock = new MutableClock(Instant.parse("2026-03-10T12:00:00Z"));
        try (ServerFixture server = start(clock)) {
            assertEquals(200, send(server, tokens.get("app-a"), 1, 1, new Sent()));
        }
        try (ServerFixture server = start(clock)) {
            assertEquals(200, send(server, tokens.get("app-a"), 1, 2, new Sent()));
            HttpResponse<String> refused = server.send(post(server, tokens.get("app-a"), body(1, 3)));
            assertEquals(429, refused.statusCode(), refused.body());
            assertTrue(refused.body().contains("requests_per_month") && refused.body().contains("2026-04-01T00:00:00Z"),
                    refused.body());
        }
    }

    @Test
    void usageMetrics_carryModelAndVersion_neverTheKey() throws Exception {
        new TempRepository(dir.resolve("models")).copy("mlp", MODEL, 1, null);
        Map<String, String> tokens = keys(dir.resolve("data"));
        Sent sent = new Sent();
        try (ServerFixture server = start(Clock.systemUTC())) {
            send(server, tokens.get("app-a"), 2, 1, sent);
            String keyId = tokens.get("app-a").split("_")[1];
            String metrics = server.send(get(server, tokens.get("root"), "/metrics")).body();
            assertTrue(metrics.contains("usage_rows_total{model=\"" + MODEL + "\",version=\"1\"} 2.0"), metrics);
            assertTrue(metrics.contains("usage_bytes_total{direction=\"in\",model=\"" + MODEL + "\",version=\"1\"} "
                    + sent.bytesIn + ".0"), metrics);
            assertFalse(metrics.contains(keyId) || metrics.contains("app-a"), "a key id or name in /metrics");
        }
    }

    @Test
    void aReadyVersionThatServedNothing_showsZeroCounters_noUsageRows_andNeverServed() throws Exception {
        String all = "{\"version_policy\":{\"all\":{}}}";
        new TempRepository(dir.resolve("models")).copy("mlp", MODEL, 1, all).copy("mlp", MODEL, 2, all);
        Map<String, String> tokens = keys(dir.resolve("data"));
        try (ServerFixture server = start(Clock.systemUTC())) {
            assertEquals(200, send(server, tokens.get("app-a"), 2, 1, new Sent()));

            String metrics = server.send(get(server, tokens.get("root"), "/metrics")).body();
            for (String kind : new String[] {"weighted", "sticky", "pinned", "shadow"}) {
                assertTrue(metrics.contains("routing_requests_total{kind=\"" + kind + "\",model=\"" + MODEL
                        + "\",version=\"1\"} 0.0"), kind + " in " + metrics);
            }
            assertTrue(metrics.contains("routing_requests_total{kind=\"weighted\",model=\"" + MODEL
                    + "\",version=\"2\"} 1.0"), metrics);
            assertTrue(metrics.contains("usage_requests_total{model=\"" + MODEL + "\",version=\"1\"} 0.0"), metrics);
            assertTrue(metrics.contains("usage_requests_total{model=\"" + MODEL + "\",version=\"2\"} 1.0"), metrics);
            JsonNode rows = usage(server, tokens.get("root"), "model=" + MODEL + "&group_by=model,version");
            assertEquals(1, rows.path("usage").size(), rows.toString());
            assertEquals(2, rows.path("usage").get(0).path("version").asLong(), rows.toString());
            Map<String, JsonNode> catalog = new HashMap<>();
            HttpResponse<String> c = server.send(get(server, tokens.get("root"), "/admin/v1/catalog"));
            assertEquals(200, c.statusCode(), c.body());
            Bodies.parse(c.body()).path("versions").forEach(v -> catalog.put(v.path("version").asText(), v));
            assertTrue(catalog.get("1").path("last_served").isNull(), catalog.get("1").toString());
            assertFalse(catalog.get("2").path("last_served").isNull(), catalog.get("2").toString());
        }
    }

    static int send(ServerFixture server, String token, int rows, long seed, Sent sent) {
        String body = body(rows, seed);
        HttpResponse<String> r = server.send(post(server, token, body));
        if (r.statusCode() == 200) {
            sent.requests++;
            sent.rows += rows;
            sent.bytesIn += body.getBytes(StandardCharsets.UTF_8).length;
            sent.bytesOut += r.body().getBytes(StandardCharsets.UTF_8).length;
        }
        return r.statusCode();
    }

    static String body(int rows, long seed) {
        return TracingTest.mlpBody(rows, seed);
    }

    static HttpRequest post(ServerFixture server, String token, String body) {
        return HttpRequest.newBuilder(server.uri("/v2/models/" + MODEL + "/infer"))
                .header("Authorization", "Bearer " + token).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build();
    }

    static HttpRequest get(ServerFixture server, String token, String path) {
        return HttpRequest.newBuilder(server.uri(path)).header("Authorization", "Bearer " + token).GET().build();
    }

    static JsonNode usage(ServerFixture server, String token, String query) {
        HttpResponse<String> r = server.send(get(server, token, "/admin/v1/usage?" + query));
        assertEquals(200, r.statusCode(), r.body());
        return Bodies.parse(r.body());
    }

    static void assertCounts(JsonNode usage, Map<String, Sent> expected) {
        Map<String, JsonNode> byName = new HashMap<>();
        usage.path("usage").forEach(row -> byName.put(row.path("key_name").asText(), row));
        assertEquals(expected.keySet(), byName.keySet(), usage.toString());
        expected.forEach((name, s) -> {
            JsonNode row = byName.get(name);
            assertEquals(s.requests, row.path("requests").asLong(), name + " requests in " + row);
            assertEquals(s.rows, row.path("rows").asLong(), name + " rows in " + row);
            assertEquals(s.bytesIn, row.path("bytes_in").asLong(), name + " bytes in, in " + row);
            assertEquals(s.bytesOut, row.path("bytes_out").asLong(), name + " bytes out, in " + row);
            assertEquals(0, row.path("tokens").asLong());
        });
    }
}
