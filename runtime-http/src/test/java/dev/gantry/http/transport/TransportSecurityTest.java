package dev.gantry.http.transport;

import dev.gantry.core.access.Role;
import dev.gantry.core.lifecycle.ExecutorFactory;
import dev.gantry.http.ServerConfig;
import dev.gantry.http.testing.Bodies;
import dev.gantry.http.testing.SelfSignedCert;
import dev.gantry.http.testing.ServerFixture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLHandshakeException;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** HTTPS from PEM files, a separate admin port, and the JSON access log. */
class TransportSecurityTest {
    @Test
    void tls_servesHttpsFromPemFiles_andAPlainClientCannotTalkToIt(@TempDir Path dir) throws Exception {
        SelfSignedCert cert = SelfSignedCert.create(dir);
        ServerConfig c = ServerFixture.config(ServerFixture.MODELS, dir.resolve("data"));
        c = c.withSecurity(c.security().withTls(cert.certPem(), cert.keyPem()));
        try (ServerFixture server = ServerFixture.start(c, ExecutorFactory.onnxRuntime())) {
            HttpClient tls = HttpClient.newBuilder().sslContext(cert.clientContext()).build();
            URI uri = URI.create("https://127.0.0.1:" + server.server().port() + "/v2/models/add_fp32/infer");
            HttpResponse<String> r = tls.send(HttpRequest.newBuilder(uri).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"inputs\":[{\"name\":\"a\",\"shape\":[1,4],"
                            + "\"datatype\":\"FP32\",\"data\":[1,2,3,4]},{\"name\":\"b\",\"shape\":[1,4],"
                            + "\"datatype\":\"FP32\",\"data\":[1,1,1,1]}]}")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode());
            assertEquals("[2.0,3.0,4.0,5.0]", Bodies.parse(r.body()).get("outputs").get(0).get("data").toString());

            HttpClient untrusting = HttpClient.newHttpClient();
            assertThrows(SSLHandshakeException.class, () -> untrusting.send(HttpRequest.newBuilder(uri).GET().build(),
                    HttpResponse.BodyHandlers.ofString()));
            HttpClient plain = HttpClient.newHttpClient();
            assertThrows(IOException.class, () -> plain.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                    + server.server().port() + "/v2/health/live")).GET().build(), HttpResponse.BodyHandlers.ofString()));
        }
    }

    @Test
    void adminPort_servesAdminRoutesOnlyThere(@TempDir Path dir) throws Exception {
        ServerConfig c = ServerFixture.config(ServerFixture.MODELS, dir.resolve("data"));
        c = c.withSecurity(c.security().withAdminPort(0));
        try (ServerFixture server = ServerFixture.start(c, ExecutorFactory.onnxRuntime())) {
            int admin = server.server().adminPort();
            assertTrue(admin != server.server().port());
            assertEquals(404, server.get("/admin/v1/models").statusCode(), "no admin routes on the main port");
            HttpClient client = HttpClient.newHttpClient();
            HttpResponse<String> onAdmin = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin
                    + "/admin/v1/models")).GET().build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, onAdmin.statusCode());
            HttpResponse<String> inferOnAdmin = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                    + admin + "/v2/models/add_fp32")).GET().build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(404, inferOnAdmin.statusCode(), "no inference routes on the admin port");
        }
    }

    @Test
    void accessLog_writesOneJsonLinePerRequest_namingTheCallerAndTheServingVersion(@TempDir Path dir) throws Exception {
        Path log = dir.resolve("logs").resolve("access.jsonl");
        ServerConfig c = ServerFixture.config(ServerFixture.MODELS, dir.resolve("data"));
        c = c.withSecurity(c.security().withAccessLog(log.toString()));
        String token;
        try (ServerFixture server = ServerFixture.start(c, ExecutorFactory.onnxRuntime())) {
            token = server.server().keys().create("billing-svc", java.util.Set.of(dev.gantry.core.access.Role.INVOKE),
                    java.util.Set.of(), java.util.Optional.empty(), java.util.Optional.empty()).token();
            HttpResponse<String> ok = server.send(HttpRequest.newBuilder(server.uri("/v2/models/classifier/infer"))
                    .header("Authorization", "Bearer " + token).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(Bodies.fp32Request("features", new long[] {1, 16},
                            new float[16], null))).build());
            assertEquals(200, ok.statusCode(), ok.body());
            assertEquals(401, server.get("/v2/models/classifier").statusCode());
            String metrics = server.get("/metrics").body();
            assertTrue(!metrics.contains("billing-svc"), "a caller's key name never becomes a metric tag");
        }
        List<String> lines = Files.readAllLines(log);
        var infer = Bodies.parse(lines.stream().filter(l -> l.contains("/infer")).findFirst().orElseThrow());
        assertEquals("billing-svc", infer.get("caller").asText());
        assertEquals("POST", infer.get("method").asText());
        assertEquals("/v2/models/classifier/infer", infer.get("path").asText());
        assertEquals("classifier", infer.get("model").asText());
        assertEquals("2", infer.get("version").asText());
        assertEquals(200, infer.get("status").asInt());
        assertTrue(infer.get("duration_ms").asDouble() > 0);
        assertTrue(infer.get("bytes_in").asLong() > 0 && infer.get("bytes_out").asLong() > 0);
        assertTrue(infer.has("time") && infer.has("remote"));
        var refused = Bodies.parse(lines.stream().filter(l -> l.contains("\"status\":401")).findFirst().orElseThrow());
        assertEquals("anonymous", refused.get("caller").asText());
    }

    @Test
    void rateLimit_refusesAKeyOverItsRateWith429AndRetryAfter(@TempDir Path dir) throws Exception {
        ServerConfig c = ServerFixture.config(ServerFixture.MODELS, dir.resolve("data"));
        c = c.withSecurity(c.security().withRateLimit(1, 3));
        try (ServerFixture server = ServerFixture.start(c, ExecutorFactory.onnxRuntime())) {
            String limited = server.server().keys().create("chatty", java.util.Set.of(dev.gantry.core.access.Role.INVOKE),
                    java.util.Set.of(), java.util.Optional.empty(), java.util.Optional.empty()).token();
            String other = server.server().keys().create("quiet", java.util.Set.of(dev.gantry.core.access.Role.INVOKE),
                    java.util.Set.of(), java.util.Optional.empty(), java.util.Optional.empty()).token();
            int[] statuses = new int[5];
            HttpResponse<String> last = null;
            for (int i = 0; i < statuses.length; i++) {
                last = server.send(HttpRequest.newBuilder(server.uri("/v2/models/add_fp32"))
                        .header("Authorization", "Bearer " + limited).GET().build());
                statuses[i] = last.statusCode();
            }
            assertEquals("[200, 200, 200, 429, 429]", java.util.Arrays.toString(statuses));
            assertEquals("1", last.headers().firstValue("Retry-After").orElseThrow());
            assertTrue(Bodies.parse(last.body()).get("error").asText().contains("'chatty' is over its rate limit"));
            assertEquals(200, server.send(HttpRequest.newBuilder(server.uri("/v2/models/add_fp32"))
                    .header("Authorization", "Bearer " + other).GET().build()).statusCode(), "other keys unaffected");
        }
    }
}
