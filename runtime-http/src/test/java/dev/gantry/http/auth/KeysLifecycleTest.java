package dev.gantry.http.auth;

import dev.gantry.core.access.Role;
import com.fasterxml.jackson.databind.JsonNode;
import dev.gantry.core.lifecycle.ExecutorFactory;
import dev.gantry.http.cli.KeysCommand;
import dev.gantry.http.testing.Bodies;
import dev.gantry.http.testing.ServerFixture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.IntPredicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Keys made, rotated or revoked through the API or the launcher take effect within a second, without restart. */
class KeysLifecycleTest {
    @TempDir
    static Path data;
    static ServerFixture server;
    static String admin;

    @BeforeAll
    static void start() {
        server = ServerFixture.start(ServerFixture.config(ServerFixture.MODELS, data), ExecutorFactory.onnxRuntime());
        admin = server.server().keys().create("root", Set.of(Role.ADMIN), Set.of(), Optional.empty(), Optional.empty())
                .token();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    static HttpResponse<String> call(String method, String path, String token, String body) {
        HttpRequest.Builder b = HttpRequest.newBuilder(server.uri(path))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        if (body != null) {
            b.header("Content-Type", "application/json");
        }
        return server.send(b.build());
    }

    static int metadata(String token) {
        return call("GET", "/v2/models/add_fp32", token, null).statusCode();
    }

    /** Polls until {@code ok} holds for the status, failing after one second. Returns the time it took. */
    static long within1s(String token, IntPredicate ok) throws InterruptedException {
        long start = System.nanoTime();
        while (!ok.test(metadata(token))) {
            if (System.nanoTime() - start > 1_000_000_000L) {
                throw new AssertionError("not in effect within 1 s (status " + metadata(token) + ")");
            }
            Thread.sleep(10);
        }
        return (System.nanoTime() - start) / 1_000_000;
    }

    @Test
    void keyCreatedThroughTheApi_worksAtOnce_andRevokedStopsAtOnce() throws Exception {
        HttpResponse<String> created = call("POST", "/admin/v1/keys", admin,
                "{\"name\":\"svc-a\",\"roles\":[\"invoke\"],\"expires_in\":\"1d\"}");
        assertEquals(201, created.statusCode(), created.body());
        JsonNode key = Bodies.parse(created.body());
        String token = key.get("token").asText();
        assertTrue(token.startsWith("gantry_" + key.get("id").asText() + "_"));
        within1s(token, s -> s == 200);

        assertEquals(200, call("POST", "/admin/v1/keys/" + key.get("id").asText() + "/revoke", admin, null).statusCode());
        within1s(token, s -> s == 401);
        HttpResponse<String> r = call("GET", "/v2/models/add_fp32", token, null);
        assertTrue(Bodies.parse(r.body()).get("error").asText().contains("revoked"), r.body());
    }

    @Test
    void keyCreatedAndRevokedByTheLauncher_takesEffectWithinOneSecond() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int code = KeysCommand.run(List.of("create", "--name", "cli-made", "--role", "invoke", "--data", data.toString()),
                Map.of(), new PrintStream(out, true, StandardCharsets.UTF_8), System.err);
        assertEquals(0, code);
        String printed = out.toString(StandardCharsets.UTF_8);
        String token = printed.lines().filter(l -> l.startsWith("token")).findFirst().orElseThrow()
                .replaceAll("^.*: ", "");
        String id = printed.lines().findFirst().orElseThrow().split(" ")[1];
        long made = within1s(token, s -> s == 200);

        assertEquals(0, KeysCommand.run(List.of("revoke", id, "--data", data.toString()), Map.of(),
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8), System.err));
        long revoked = within1s(token, s -> s == 401);
        System.out.printf("launcher key: usable after %d ms, refused %d ms after revoke%n", made, revoked);
    }

    @Test
    void rotate_givesANewSecret_andTheOldOneStopsWorking() throws Exception {
        JsonNode key = Bodies.parse(call("POST", "/admin/v1/keys", admin,
                "{\"name\":\"rotating\",\"roles\":[\"deploy\"]}").body());
        String old = key.get("token").asText();
        HttpResponse<String> rotated = call("POST", "/admin/v1/keys/" + key.get("id").asText() + "/rotate", admin, null);
        assertEquals(200, rotated.statusCode(), rotated.body());
        String fresh = Bodies.parse(rotated.body()).get("token").asText();
        within1s(fresh, s -> s == 200);
        assertEquals(401, metadata(old));
    }

    @Test
    void listingKeys_neverShowsSecretsOrTheirHashes() throws Exception {
        call("POST", "/admin/v1/keys", admin, "{\"name\":\"listed\",\"roles\":[\"approve\"]}");
        HttpResponse<String> list = call("GET", "/admin/v1/keys", admin, null);
        assertEquals(200, list.statusCode());
        assertFalse(list.body().contains("token"), list.body());
        assertFalse(list.body().contains("secret"), list.body());
        assertTrue(list.body().contains("\"listed\""));
        String file = Files.readString(data.resolve("keys.json"));
        assertFalse(file.contains("gantry_"), "the key file holds hashes, never tokens");
    }

    @Test
    void creatingAKey_withBadInput_isRefusedWithTheReason() {
        assertEquals("unknown role 'superuser'; roles are invoke, deploy, approve, admin", Bodies.parse(call("POST",
                "/admin/v1/keys", admin, "{\"name\":\"x\",\"roles\":[\"superuser\"]}").body()).get("error").asText());
        HttpResponse<String> noRoles = call("POST", "/admin/v1/keys", admin, "{\"name\":\"x\",\"roles\":[]}");
        assertEquals(400, noRoles.statusCode());
        HttpResponse<String> badName = call("POST", "/admin/v1/keys", admin, "{\"name\":\"../etc\",\"roles\":[\"invoke\"]}");
        assertEquals(400, badName.statusCode());
        HttpResponse<String> dup = call("POST", "/admin/v1/keys", admin, "{\"name\":\"root\",\"roles\":[\"invoke\"]}");
        assertEquals(409, dup.statusCode());
    }

    @Test
    void bootstrap_isRefusedOnceAnyKeyExists() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = KeysCommand.run(List.of("bootstrap", "--data", data.toString()), Map.of(),
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        assertEquals(1, code);
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("keys already exist"));
    }
}
