package dev.gantry.http.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gantry.core.lifecycle.ExecutorFactory;
import dev.gantry.core.metrics.MetricNames;
import dev.gantry.core.access.Role;
import dev.gantry.http.testing.Bodies;
import dev.gantry.http.testing.ServerFixture;
import dev.gantry.http.testing.TempRepository;
import io.micrometer.core.instrument.Timer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import static dev.gantry.http.deploy.DeployApi.ONLY_VERSION_1;
import static dev.gantry.http.deploy.DeployApi.ok;
import static dev.gantry.http.deploy.DeployApi.routes;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Rollback, revisions and the admin API's refusals, over HTTP with an admin API key. Each test owns one model
 * of the temporary repository, so they do not depend on each other's order.
 */
class RollbackTest {
    static final String KEY_NAME = "release-bot";

    @TempDir
    static Path dir;
    static ServerFixture server;
    static DeployApi api;

    @BeforeAll
    static void start() throws Exception {
        TempRepository repo = new TempRepository(dir.resolve("models"));
        for (String model : List.of("warm", "rb", "to", "cas", "cas2", "busy", "cold", "hist")) {
            repo.copy("mlp", model, 1, ONLY_VERSION_1).copy("mlp", model, 2, null);
        }
        repo.copy("mlp", "to", 3, null);
        for (String model : List.of("bad", "bad2")) {
            repo.copy("mlp", model, 1, ONLY_VERSION_1).copy("mlp", model, 2, null);
            Files.writeString(repo.root().resolve(model + "/2/model.onnx"), "this is not an onnx model");
        }
        server = ServerFixture.start(ServerFixture.config(repo.root(), dir.resolve("data")),
                ExecutorFactory.onnxRuntime());
        String token = server.server().keys().create(KEY_NAME, Set.of(Role.ADMIN), Set.of(), Optional.empty(),
                Optional.empty()).token();
        api = DeployApi.of(server, token);
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void switchToNewVersion_keepsPreviousVersionLoadedOnStandby() {
        api.load("warm", 2);
        ok(api.traffic("warm", routes(2, 100)));

        JsonNode m = api.model("warm");
        assertEquals("[\"1\"]", m.path("standby").toString(), m.toString());
        assertEquals("READY", api.state("warm", 1));
        assertEquals(Map.of(2L, 100), DeployApi.weights(m.path("policy")));
    }

    @Test
    void rollback_withWarmStandby_switchesWithoutLoading() {
        api.load("rb", 2);
        ok(api.traffic("rb", routes(2, 100)));
        long loadsBefore = loads("rb");

        long start = System.nanoTime();
        HttpResponse<String> r = api.rollback("rb", "{}");
        double millis = (System.nanoTime() - start) / 1e6;

        JsonNode body = ok(r);
        System.out.printf("rollback with warm standby took %.1f ms over HTTP (target < 100 ms)%n", millis);
        assertEquals(2, body.path("from").asLong(), body.toString());
        assertEquals(1, body.path("to").asLong(), body.toString());
        assertEquals(3, body.path("revision").asLong(), body.toString());
        assertEquals(Map.of(1L, 100), DeployApi.weights(body.path("policy")));
        assertEquals(loadsBefore, loads("rb"), "rollback to a warm standby version must not load anything");
        HttpResponse<String> answer = api.infer("rb", DeployApi.mlpBody(1, null), Map.of());
        assertEquals("1", Bodies.parse(answer.body()).path("model_version").asText(), answer.body());
    }

    @Test
    void rollback_toRevision_restoresThatRevision_andNamesItInTo() {
        api.load("to", 2);
        api.load("to", 3);
        ok(api.traffic("to", routes(2, 100)));
        ok(api.traffic("to", routes(3, 100)));
        assertEquals("UNAVAILABLE", api.state("to", 1), "with one standby slot, version 1 should have been unloaded");
        long loadsBefore = loads("to");

        long start = System.nanoTime();
        JsonNode body = ok(api.rollback("to", "{\"to_revision\": 1}"));
        System.out.printf("rollback to revision 1 (version 1 no longer on standby, so loaded again) took %.1f ms%n",
                (System.nanoTime() - start) / 1e6);

        assertEquals(3, body.path("from").asLong(), body.toString());
        assertEquals(1, body.path("to").asLong(), body.toString());
        assertEquals(4, body.path("revision").asLong(), body.toString());
        assertEquals(loadsBefore + 1, loads("to"), "version 1 was cold, so the rollback should have loaded it once");
        assertEquals("READY", api.state("to", 1));
        JsonNode m = api.model("to");
        assertEquals(4, m.path("revision").asLong());
        assertEquals(Map.of(1L, 100), DeployApi.weights(m.path("policy")));
    }

    @Test
    void traffic_withStaleExpectedRevision_is409NamingBothRevisions_andChangesNothing() {
        api.load("cas", 2);
        String body = "{\"routes\":[{\"version\":2,\"weight\":100}],\"expected_revision\":7}";

        HttpResponse<String> r = api.traffic("cas", body);

        assertEquals(409, r.statusCode(), r.body());
        String error = Bodies.parse(r.body()).path("error").asText();
        assertTrue(error.contains("7") && error.contains("current is 1"), error);
        JsonNode m = api.model("cas");
        assertEquals(1, m.path("revision").asLong());
        assertEquals(Map.of(1L, 100), DeployApi.weights(m.path("policy")));
    }

    @Test
    void traffic_withCurrentExpectedRevision_applies() {
        api.load("cas2", 2);
        long current = api.model("cas2").path("revision").asLong();

        JsonNode r = ok(api.traffic("cas2", "{\"routes\":[{\"version\":1,\"weight\":50},{\"version\":2,\"weight\":50}],"
                + "\"expected_revision\":" + current + "}"));

        assertEquals(current + 1, r.path("revision").asLong(), r.toString());
    }

    @Test
    void unload_ofRoutedVersion_is409NamingItsWeight_andKeepsItReady() {
        api.load("busy", 2);
        ok(api.traffic("busy", routes(1, 70, 2, 30)));

        HttpResponse<String> r = api.unload("busy", 2);

        assertEquals(409, r.statusCode(), r.body());
        String error = Bodies.parse(r.body()).path("error").asText();
        assertTrue(error.contains("version 2") && error.contains("weight 30"), error);
        assertEquals("READY", api.state("busy", 2));
    }

    @Test
    void load_ofBrokenModelFile_is409WithReason_andLeavesPolicyAndRevisionUnchanged() {
        JsonNode before = api.model("bad");

        HttpResponse<String> r = api.post("/admin/v1/models/bad/versions/2/load", "{}");

        assertEquals(409, r.statusCode(), r.body());
        String error = Bodies.parse(r.body()).path("error").asText();
        assertTrue(error.contains("version 2") && error.contains("failed to load"), error);
        assertTrue(error.length() > "model 'bad' version 2 failed to load: ; traffic is unchanged".length(),
                "the error should carry the loader's reason: " + error);
        JsonNode after = api.model("bad");
        assertEquals(before.path("revision"), after.path("revision"));
        assertEquals(before.path("policy"), after.path("policy"));
        assertEquals("UNAVAILABLE", api.state("bad", 2));
        HttpResponse<String> answer = api.infer("bad", DeployApi.mlpBody(2, null), Map.of());
        assertEquals(200, answer.statusCode(), answer.body());
        assertEquals("1", Bodies.parse(answer.body()).path("model_version").asText());
    }

    @Test
    void traffic_toVersionThatFailedToLoad_is409NamingItAndItsState() {
        assertEquals(409, api.post("/admin/v1/models/bad2/versions/2/load", "{}").statusCode());

        HttpResponse<String> r = api.traffic("bad2", routes(1, 90, 2, 10));

        assertEquals(409, r.statusCode(), r.body());
        String error = Bodies.parse(r.body()).path("error").asText();
        assertTrue(error.contains("version 2") && error.contains("UNAVAILABLE"), error);
        assertEquals(1, api.model("bad2").path("revision").asLong());
    }

    @Test
    void traffic_toVersionOnDiskButNotLoaded_is409NamingIt() {
        HttpResponse<String> r = api.traffic("cold", routes(1, 50, 2, 50));

        assertEquals(409, r.statusCode(), r.body());
        String error = Bodies.parse(r.body()).path("error").asText();
        assertTrue(error.contains("version 2") && error.contains("not loaded"), error);
        assertEquals(1, api.model("cold").path("revision").asLong());
    }

    @Test
    void traffic_toVersionNotOnDisk_is404NamingIt() {
        HttpResponse<String> r = api.traffic("cold", routes(1, 50, 9, 50));

        assertEquals(404, r.statusCode(), r.body());
        String error = Bodies.parse(r.body()).path("error").asText();
        assertTrue(error.contains("version 9"), error);
        assertEquals(1, api.model("cold").path("revision").asLong());
    }

    @Test
    void history_listsEveryRevision_withTimeActorAndReason() {
        api.load("hist", 2);
        ok(api.traffic("hist", "{\"routes\":[{\"version\":1,\"weight\":90},{\"version\":2,\"weight\":10}],"
                + "\"reason\":\"canary\"}"));
        ok(api.traffic("hist", "{\"routes\":[{\"version\":2,\"weight\":100}],\"reason\":\"promote\"}"));
        ok(api.rollback("hist", "{}"));

        JsonNode h = ok(api.get("/admin/v1/models/hist/traffic/history"));

        assertEquals("hist", h.path("model").asText());
        JsonNode revs = h.path("revisions");
        assertEquals(4, revs.size(), h.toString());
        Instant previous = Instant.MIN;
        for (int i = 0; i < revs.size(); i++) {
            JsonNode r = revs.get(i);
            assertEquals(i + 1, r.path("revision").asLong(), r.toString());
            Instant time = Instant.parse(r.path("time").asText());
            assertFalse(time.isBefore(previous), "revision times must not go backwards: " + h);
            previous = time;
            assertTrue(r.path("policy").path("routes").isArray(), r.toString());
        }
        assertEquals("system", revs.get(0).path("actor").asText());
        for (int i = 1; i < 4; i++) {
            assertEquals(KEY_NAME, revs.get(i).path("actor").asText(), revs.get(i).toString());
        }
        assertEquals("canary", revs.get(1).path("reason").asText());
        assertEquals("promote", revs.get(2).path("reason").asText());
        assertEquals(3, revs.get(3).path("rollback_from").asLong(), revs.get(3).toString());
        assertFalse(revs.get(2).has("rollback_from"));
        assertEquals(Map.of(1L, 90, 2L, 10), DeployApi.weights(revs.get(3).path("policy")));
    }

    /** Loads of any version of {@code model} so far, successful or not. */
    private static long loads(String model) {
        return server.server().registry().find(MetricNames.MODEL_LOAD_DURATION.meterName()).tag("model", model)
                .timers().stream().mapToLong(Timer::count).sum();
    }
}
