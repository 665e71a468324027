package dev.gantry.http.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gantry.http.testing.Bodies;
import dev.gantry.http.testing.ChildServer;
import dev.gantry.http.testing.TempRepository;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

import static dev.gantry.http.deploy.DeployApi.ONLY_VERSION_1;
import static dev.gantry.http.deploy.DeployApi.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A server killed in the middle of a rollout: the next one resumes the rollout's step with the time it had
 * left (its split restored with the policy), restarts the analysis window, audits the resume, and the rollout
 * then finishes by itself.
 */
class RolloutRestartTest {
    static final String MODEL = "rr";

    @TempDir
    Path dir;

    @Test
    void killedMidRollout_nextServerResumesTheStepWithItsTimeLeft_andPromotesByItself() throws Exception {
        new TempRepository(dir.resolve("models")).copy("mlp", MODEL, 1, ONLY_VERSION_1).copy("mlp", MODEL, 2, null);
        String id;
        long leftBefore;
        try (ChildServer first = ChildServer.start(dir.resolve("models"), dir.resolve("data"))) {
            first.awaitOutput("Gantry ready");
            DeployApi api = api(first);
            api.load(MODEL, 2);
            HttpResponse<String> r = api.post("/admin/v1/models/" + MODEL + "/rollouts", "{\"candidate\": 2,"
                    + " \"baseline\": 1, \"steps\": [{\"weight\": 20, \"duration\": \"30s\", \"min_requests\": 50}]}");
            assertEquals(201, r.statusCode(), r.body());
            id = Bodies.parse(r.body()).path("id").asText();
            Thread.sleep(2500);
            JsonNode v = ok(api.get("/admin/v1/models/" + MODEL + "/rollouts/" + id));
            assertEquals("RUNNING", v.path("state").asText());
            leftBefore = v.path("time_left_ms").asLong();
            first.process.destroyForcibly();
            first.process.waitFor();
        }
        try (ChildServer second = ChildServer.start(dir.resolve("models"), dir.resolve("data"))) {
            second.awaitOutput("Gantry ready");
            DeployApi api = api(second);
            JsonNode v = ok(api.get("/admin/v1/models/" + MODEL + "/rollouts/" + id));
            assertEquals("RUNNING", v.path("state").asText(), v.toString());
            assertEquals(1, v.path("step").asInt());
            long left = v.path("time_left_ms").asLong();
            assertTrue(left > 0 && left <= leftBefore + 1000, "time left " + left + " after restart, "
                    + leftBefore + " before");
            assertEquals(Map.of(1L, 80, 2L, 20), DeployApi.weights(api.model(MODEL).path("policy")));
            JsonNode audit = ok(api.get("/admin/v1/audit?model=" + MODEL + "&limit=50"));
            boolean resumed = false;
            for (JsonNode e : audit.path("entries")) {
                if (e.path("action").asText().equals("rollout.resume")) {
                    resumed = e.path("actor").asText().equals("system")
                            && e.path("after").asText().contains("analysis window restarted");
                }
            }
            assertTrue(resumed, audit.toString());

            long deadline = System.nanoTime() + 60_000_000_000L;
            String state = "RUNNING";
            for (long i = 0; state.equals("RUNNING") && System.nanoTime() < deadline; i++) {
                assertEquals(200, api.infer(MODEL, DeployApi.mlpBody(i, null), Map.of()).statusCode());
                if (i % 50 == 0) {
                    state = ok(api.get("/admin/v1/models/" + MODEL + "/rollouts/" + id)).path("state").asText();
                }
            }
            assertEquals("PROMOTED", state);
            assertEquals(Map.of(2L, 100), DeployApi.weights(api.model(MODEL).path("policy")));
        }
    }

    private static DeployApi api(ChildServer server) {
        return new DeployApi("http://127.0.0.1:" + server.port, DeployApi.newClient(), Optional.empty());
    }
}
