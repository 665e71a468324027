package dev.gantry.http.governance;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gantry.core.access.Role;
import dev.gantry.core.lifecycle.ExecutorFactory;
import dev.gantry.http.ServerConfig;
import dev.gantry.http.testing.Bodies;
import dev.gantry.http.testing.ServerFixture;
import dev.gantry.http.testing.TempRepository;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static dev.gantry.http.governance.GovernanceApi.LOW_CARD;
import static dev.gantry.http.governance.GovernanceApi.error;
import static dev.gantry.http.governance.GovernanceApi.ok;
import static dev.gantry.http.governance.GovernanceApi.routes;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The promises Gantry makes at its boundaries, each tried the way a user (or an attacker) would: the catalogue
 * lists what exists, browsers on other sites change nothing, a key limited to models sees only those, the approval
 * gate cannot be walked around with a pinned request or a key made for the purpose, retirement never strands a
 * model, and bad admin input is a 400.
 */
class BoundariesTest {
    private static final Set<String> SETTLED = Set.of("VALIDATED", "FAILED");

    @TempDir
    static Path dir;
    private static ServerFixture server;
    private static GovernanceApi api;
    private static String admin;
    private static String deployer;
    private static String approver;
    private static String invoker;
    private static String narrow;

    @BeforeAll
    static void start() throws IOException {
        TempRepository repo = new TempRepository(dir.resolve("models"));
        for (String m : List.of("listed", "other", "gate", "retire", "duties", "unapproved_fallback")) {
            repo.copy("classifier", m, 1, GovernanceApi.CLASSIFIER_ALL_VERSIONS);
        }
        server = ServerFixture.start(ServerFixture.config(repo.root(), dir.resolve("data")),
                ExecutorFactory.onnxRuntime());
        api = new GovernanceApi(server.server().port());
        admin = key("root", Set.of(), Role.ADMIN);
        deployer = key("deployer", Set.of(), Role.DEPLOY);
        approver = key("approver", Set.of(), Role.APPROVE);
        invoker = key("invoker", Set.of(), Role.INVOKE);
        narrow = key("narrow", Set.of("listed"), Role.INVOKE);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static String key(String name, Set<String> models, Role... roles) {
        return server.server().keys().create(name, Set.of(roles), models, Optional.empty(), Optional.empty()).token();
    }

    @Test
    void catalog_listsEveryVersion_withOwnerStageTierApprovalsAndShare() throws Exception {
        ok(api.patchCard(admin, "listed", 1, LOW_CARD));
        JsonNode versions = ok(api.get(admin, "/admin/v1/catalog")).path("versions");
        JsonNode listed = null;
        for (JsonNode v : versions) {
            if (v.path("model").asText().equals("listed") && v.path("version").asText().equals("1")) {
                listed = v;
            }
        }
        assertTrue(versions.size() >= 5, "every model's version 1 is catalogued: " + versions);
        assertTrue(listed != null, "listed/1 is in the catalogue: " + versions);
        assertEquals("APPROVED", listed.path("stage").asText());
        assertEquals("team-risk", listed.path("owner").asText());
        assertEquals("low", listed.path("risk_tier").asText());
        assertEquals(1.0, listed.path("traffic_share").asDouble(), 1e-9);
        assertTrue(listed.path("approvals").isArray(), listed.toString());
        assertTrue(listed.path("flags").isArray(), listed.toString());
        assertEquals("READY", listed.path("serving_state").asText());
    }

    @Test
    void scopedKey_seesNothingOfAnotherModel_inAnyList() {
        for (String path : List.of("/admin/v1/models", "/admin/v1/catalog", "/admin/v1/audit")) {
            HttpResponse<String> r = api.get(narrow, path);
            assertEquals(200, r.statusCode(), path + ": " + r.body());
            assertTrue(r.body().contains("listed"), path + " lists the key's own model");
            assertFalse(r.body().contains("\"other\"") || r.body().contains("model=\"other\""),
                    path + " shows another model: " + r.body());
            assertFalse(r.body().contains("key:"), path + " shows key entries to an invoke key");
        }
        HttpResponse<String> index = api.post(narrow, "/v2/repository/index", "{}");
        assertEquals(200, index.statusCode(), index.body());
        assertFalse(index.body().contains("\"other\""), index.body());
        HttpResponse<String> audit = api.get(narrow, "/admin/v1/audit?model=other");
        assertEquals(403, audit.statusCode(), audit.body());
        assertEquals(403, api.get(narrow, "/admin/v1/models/other").statusCode());
    }

    @Test
    void pinnedUnapprovedVersion_answersDeployKeys_butNotAPlainInvokeKey() throws Exception {
        uploadValidated("gate", 2);
        HttpResponse<String> plain = api.infer(invoker, "gate", 2, 1);
        assertEquals(403, plain.statusCode(), plain.body());
        assertTrue(error(plain).contains("before approval only keys with the deploy or approve role"), plain.body());
        String tester = key("tester", Set.of(), Role.INVOKE, Role.DEPLOY);
        String reviewer = key("reviewer", Set.of(), Role.INVOKE, Role.APPROVE);
        assertEquals(200, api.infer(tester, "gate", 2, 1).statusCode(), "testing before approval");
        assertEquals(200, api.infer(reviewer, "gate", 2, 1).statusCode(), "reviewing before approval");
        assertEquals(200, api.infer(admin, "gate", 2, 1).statusCode());
        assertEquals(200, api.infer(invoker, "gate", 1, 1).statusCode(), "the approved version answers anyone");
    }

    @Test
    void unapprovedVersion_namedAsFallback_is409NamingItsStage() throws Exception {
        uploadValidated("unapproved_fallback", 2);
        HttpResponse<String> r = api.traffic(deployer, "unapproved_fallback",
                "{\"routes\":[{\"version\":1,\"weight\":100}],\"fallback\":2}");
        assertEquals(409, r.statusCode(), r.body());
        assertTrue(error(r).contains("version 2 of model 'unapproved_fallback' is VALIDATED: only APPROVED versions"
                + " (and DEPRECATED ones before their sunset) may take primary traffic (fallback)"), r.body());
    }

    @Test
    void approval_byAKeyTheUploaderMade_isRefused_andNamesOfRevokedKeysAreNotReused() throws Exception {
        String m = "duties";
        HttpResponse<String> put = api.upload(admin, m, 2, GovernanceApi.bundled("classifier"));
        assertEquals(201, put.statusCode(), put.body());
        assertEquals("VALIDATED", api.awaitStage(admin, m, 2, SETTLED).path("stage").asText());
        ok(api.patchCard(admin, m, 2, LOW_CARD));
        ok(api.transition(deployer, m, 2, "request-approval", ""));
        HttpResponse<String> made = api.post(admin, "/admin/v1/keys", "{\"name\":\"puppet\",\"roles\":[\"approve\"]}");
        assertEquals(201, made.statusCode(), made.body());
        JsonNode puppet = Bodies.parse(made.body());
        assertFalse(puppet.path("created_by").isNull(), "the key records who made it: " + puppet);

        HttpResponse<String> r = api.transition(puppet.path("token").asText(), m, 2, "approve", "looks fine");
        assertEquals(403, r.statusCode(), r.body());
        assertTrue(error(r).contains("acts for 'root'"), r.body());
        assertEquals("PENDING_APPROVAL", api.version(admin, m, 2).path("stage").asText());

        ok(api.post(admin, "/admin/v1/keys/" + puppet.path("id").asText() + "/revoke", "{}"));
        HttpResponse<String> again = api.post(admin, "/admin/v1/keys", "{\"name\":\"puppet\",\"roles\":[\"approve\"]}");
        assertEquals(409, again.statusCode(), again.body());
        assertTrue(error(again).contains("names are never reused"), again.body());
        assertEquals("APPROVED", ok(api.transition(approver, m, 2, "approve", "")).path("stage").asText(),
                "an unrelated approver may");
    }

    @Test
    void retirement_withUnloadedSuccessor_keepsTheModelServed() throws Exception {
        String m = "retire";
        uploadValidated(m, 2);
        ok(api.patchCard(deployer, m, 2, LOW_CARD));
        ok(api.transition(deployer, m, 2, "request-approval", ""));
        ok(api.transition(approver, m, 2, "approve", ""));
        ok(api.post(deployer, "/admin/v1/models/" + m + "/versions/2/unload", "{}"));
        ok(api.traffic(deployer, m, routes(1, 100)));
        Instant sunset = Instant.now().plusSeconds(2);
        ok(api.post(deployer, GovernanceApi.versionPath(m, 1) + "/deprecate",
                "{\"sunset\":\"" + sunset + "\",\"successor\":2}"));

        AtomicBoolean running = new AtomicBoolean(true);
        List<String> failures = new ArrayList<>();
        Thread load = new Thread(() -> {
            for (int i = 0; running.get(); i++) {
                HttpResponse<String> r = api.infer(invoker, m, 0, i);
                if (r.statusCode() != 200) {
                    synchronized (failures) {
                        failures.add(r.statusCode() + " " + r.body());
                    }
                }
            }
        });
        load.start();
        JsonNode retired = api.awaitStage(admin, m, 1, Set.of("RETIRED"));
        Thread.sleep(300);
        running.set(false);
        load.join(TimeUnit.SECONDS.toMillis(30));
        assertEquals(List.of(), failures, "unversioned requests during the retirement");
        assertEquals("RETIRED", retired.path("stage").asText());
        JsonNode policy = ok(api.get(admin, "/admin/v1/models/" + m)).path("policy");
        assertEquals("2", policy.path("routes").get(0).path("version").asText(), policy.toString());
        HttpResponse<String> audit = api.get(admin, "/admin/v1/audit?model=" + m + "&version=1");
        assertTrue(audit.body().contains("version.retire"), audit.body());
    }

    @Test
    void adminInput_outOfRange_isA400NamingIt() {
        HttpResponse<String> limit = api.get(admin, "/admin/v1/audit?limit=0");
        assertEquals(400, limit.statusCode(), limit.body());
        assertTrue(error(limit).contains("'limit'"), limit.body());
        HttpResponse<String> big = api.get(admin, "/admin/v1/audit?limit=99999999999");
        assertEquals(400, big.statusCode(), big.body());
        HttpResponse<String> future = api.get(admin, "/admin/v1/audit?from=2999-01-01T00:00:00Z");
        assertEquals(200, future.statusCode(), future.body());
        assertEquals(0, Bodies.parse(future.body()).path("entries").size());
        HttpResponse<String> backwards = api.get(admin, "/admin/v1/audit?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z");
        assertEquals(400, backwards.statusCode(), backwards.body());
        HttpResponse<String> expires = api.post(admin, "/admin/v1/keys",
                "{\"name\":\"forever\",\"roles\":[\"invoke\"],\"expires_in\":\"999999999999d\"}");
        assertEquals(400, expires.statusCode(), expires.body());
        assertTrue(error(expires).contains("expires_in"), expires.body());
        HttpResponse<String> sunset = api.post(admin, GovernanceApi.versionPath("listed", 1) + "/deprecate",
                "{\"sunset_in\":\"999999999999d\"}");
        assertEquals(400, sunset.statusCode(), sunset.body());
    }

    // ---- a server with no keys: browsers and DNS rebinding

    @Test
    void crossSite_textPlainKeyCreation_isRefused_andCreatesNoKey() throws Exception {
        try (ServerFixture open = ServerFixture.start(ServerFixture.config(ServerFixture.MODELS, dir.resolve("open")),
                ExecutorFactory.onnxRuntime())) {
            int port = open.server().port();
            String body = "{\"name\":\"evil\",\"roles\":[\"admin\"]}";
            String evil = raw(port, "POST /admin/v1/keys HTTP/1.1\r\nHost: 127.0.0.1:" + port
                    + "\r\nOrigin: http://evil.example\r\nContent-Type: text/plain\r\nContent-Length: " + body.length()
                    + "\r\nConnection: close\r\n\r\n" + body);
            assertTrue(evil.startsWith("HTTP/1.1 403"), evil);
            assertTrue(evil.contains("cross-site POST from origin 'http://evil.example' refused"), evil);
            String plain = raw(port, "POST /admin/v1/keys HTTP/1.1\r\nHost: 127.0.0.1:" + port
                    + "\r\nContent-Type: text/plain\r\nContent-Length: " + body.length()
                    + "\r\nConnection: close\r\n\r\n" + body);
            assertTrue(plain.startsWith("HTTP/1.1 415"), plain);
            assertTrue(open.server().keys().isEmpty(), "no key was created");
            String rebound = raw(port, "GET /admin/v1/models HTTP/1.1\r\nHost: attacker.example:" + port
                    + "\r\nConnection: close\r\n\r\n");
            assertTrue(rebound.startsWith("HTTP/1.1 403"), rebound);
            assertTrue(rebound.contains("is not a loopback name"), rebound);
            String local = raw(port, "GET /admin/v1/models HTTP/1.1\r\nHost: localhost:" + port
                    + "\r\nConnection: close\r\n\r\n");
            assertTrue(local.startsWith("HTTP/1.1 200"), local);
            // The guard remembers the last name it answered; any other name is still checked, inference included.
            String reboundInference = raw(port, "POST /v2/models/add_fp32/infer HTTP/1.1\r\nHost: attacker.example:"
                    + port + "\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}");
            assertTrue(reboundInference.startsWith("HTTP/1.1 403"), reboundInference);
            assertTrue(reboundInference.contains("is not a loopback name"), reboundInference);
        }
    }

    @Test
    void corsPreflight_isAnsweredForAllowedOrigins_andRefusedForOthers() throws Exception {
        ServerConfig config = ServerFixture.config(ServerFixture.MODELS, dir.resolve("cors"))
                .withCrossSite(new ServerConfig.CrossSite(List.of("https://app.example"), List.of()));
        try (ServerFixture cors = ServerFixture.start(config, ExecutorFactory.onnxRuntime())) {
            int port = cors.server().port();
            // No key exists here yet: the page's origin is what is checked, not a key.
            String allowed = raw(port, "OPTIONS /v2/models/mlp/infer HTTP/1.1\r\nHost: 127.0.0.1:" + port
                    + "\r\nOrigin: https://app.example\r\nAccess-Control-Request-Method: POST\r\n"
                    + "Access-Control-Request-Headers: content-type\r\nConnection: close\r\n\r\n");
            assertTrue(allowed.startsWith("HTTP/1.1 204"), allowed);
            assertTrue(allowed.toLowerCase().contains("access-control-allow-origin: https://app.example"), allowed);
            assertTrue(allowed.toLowerCase().contains("access-control-allow-headers:"), allowed);
            String refused = raw(port, "OPTIONS /v2/models/mlp/infer HTTP/1.1\r\nHost: 127.0.0.1:" + port
                    + "\r\nOrigin: https://other.example\r\nAccess-Control-Request-Method: POST\r\n"
                    + "Connection: close\r\n\r\n");
            assertTrue(refused.startsWith("HTTP/1.1 403"), refused);
            String body = "{\"inputs\":[{\"name\":\"a\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,2,3,4]},"
                    + "{\"name\":\"b\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,1,1,1]}]}";
            String call = raw(port, "POST /v2/models/add_fp32/infer HTTP/1.1\r\nHost: 127.0.0.1:" + port
                    + "\r\nOrigin: https://app.example\r\nContent-Type: application/json\r\nContent-Length: "
                    + body.length() + "\r\nConnection: close\r\n\r\n" + body);
            assertTrue(call.startsWith("HTTP/1.1 200"), call);
            assertTrue(call.toLowerCase().contains("access-control-allow-origin: https://app.example"), call);
            // the answer depends on the page's origin and on the encodings the caller accepts: caches must know both
            assertTrue(call.toLowerCase().contains("\r\nvary: origin\r\n"), call);
            assertTrue(call.toLowerCase().contains("\r\nvary: accept-encoding\r\n"), call);
        }
    }

    @Test
    void metricsThatNeedAKey_showAScopedKeyOnlyItsModels() {
        ServerConfig config = ServerFixture.config(ServerFixture.MODELS, dir.resolve("metrics"));
        config = config.withSecurity(config.security().withOpenMetrics(false));
        try (ServerFixture closed = ServerFixture.start(config, ExecutorFactory.onnxRuntime())) {
            String token = closed.server().keys().create("mlp-only", Set.of(Role.INVOKE), Set.of("mlp"),
                    Optional.empty(), Optional.empty()).token();
            HttpResponse<String> r = new GovernanceApi(closed.server().port()).get(token, "/metrics");
            assertEquals(200, r.statusCode(), r.body());
            assertTrue(r.body().contains("model=\"mlp\""), "its own model's series are there");
            assertFalse(r.body().contains("model=\"add_fp32\""), "another model's series are not");
            assertTrue(r.body().contains("jvm_memory_used_bytes"), "series of no model are kept");
        }
    }

    private static void uploadValidated(String model, long version) throws InterruptedException {
        HttpResponse<String> put = api.upload(deployer, model, version, GovernanceApi.bundled("classifier"));
        assertEquals(201, put.statusCode(), put.body());
        assertEquals("VALIDATED", api.awaitStage(admin, model, version, SETTLED).path("stage").asText());
    }

    /** Sends {@code request} as written (any Host, any Origin) and returns the whole answer. */
    private static String raw(int port, String request) throws IOException {
        return ServerFixture.raw(port, request);
    }
}
