package dev.gantry.http.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gantry.http.testing.ChildServer;
import dev.gantry.http.testing.Bodies;
import dev.gantry.http.testing.TempRepository;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static dev.gantry.http.deploy.DeployApi.ONLY_VERSION_1;
import static dev.gantry.http.deploy.DeployApi.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A traffic policy survives a restart: a server process that is stopped with SIGTERM and started again on the
 * same data directory serves the same revision and policy, with every routed version loaded before it reports
 * ready. The servers run as child JVMs of the test's own classpath.
 */
class RestartTest {
    static final String MODEL = "rs";

    @TempDir
    Path dir;

    @Test
    void restart_onSameDataDir_restoresPolicyAndRevision_andIsReadyOnlyAfterRoutedVersionsLoad() throws Exception {
        new TempRepository(dir.resolve("models")).copy("mlp", MODEL, 1, ONLY_VERSION_1).copy("mlp", MODEL, 2, null);
        long revision;
        JsonNode policy;
        try (ChildServer first = ChildServer.start(dir.resolve("models"), dir.resolve("data"))) {
            first.awaitOutput("Gantry ready");
            DeployApi api = api(first);
            api.load(MODEL, 2);
            JsonNode applied = ok(api.traffic(MODEL, "{\"routes\":[{\"version\":1,\"weight\":60},"
                    + "{\"version\":2,\"weight\":40}],\"reason\":\"before restart\"}"));
            revision = applied.path("revision").asLong();
            policy = applied.path("policy");
            assertEquals(Map.of(1L, 60, 2L, 40), DeployApi.weights(policy));

            long stopStart = System.nanoTime();
            assertEquals(0, first.terminate(), "SIGTERM should drain and exit 0; output:\n" + first.output());
            System.out.printf("first server stopped with SIGTERM in %.0f ms%n", (System.nanoTime() - stopStart) / 1e6);
        }

        try (ChildServer second = ChildServer.start(dir.resolve("models"), dir.resolve("data"))) {
            DeployApi api = api(second);
            List<String> readyTooEarly = new ArrayList<>();
            int notReadyObservations = 0;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
            boolean ready = false;
            while (!ready && System.nanoTime() < deadline && second.process.isAlive()) {
                /* Readiness first, then the versions: loads only move forward, so a READY-less model seen after
                 * a ready=true answer was not READY when readiness was answered either. */
                Optional<HttpResponse<String>> health = tryGet(api, "/v2/health/ready");
                Optional<HttpResponse<String>> model = tryGet(api, "/admin/v1/models/" + MODEL);
                if (health.isEmpty() || model.isEmpty()) {
                    Thread.sleep(5);
                    continue;
                }
                ready = health.get().statusCode() == 200;
                if (!ready) {
                    notReadyObservations++;
                } else if (!bothReady(model.get())) {
                    readyTooEarly.add(model.get().body());
                }
            }
            assertTrue(ready, "the restarted server never became ready; output:\n" + second.output());
            System.out.printf("restarted server answered not-ready %d times before it was ready%n",
                    notReadyObservations);
            assertTrue(readyTooEarly.isEmpty(), "ready before both versions were READY: " + readyTooEarly);
            second.awaitOutput("Gantry ready"); // the output is read by another thread; it may lag the HTTP answer
            String readyLine = second.output().lines().filter(l -> l.contains("Gantry ready")).findFirst()
                    .orElseThrow();
            assertTrue(readyLine.contains("2 of 2 model versions READY"), readyLine);

            JsonNode m = api.model(MODEL);
            assertEquals(revision, m.path("revision").asLong(), m.toString());
            assertEquals(policy, m.path("policy"), m.toString());
            assertEquals("READY", api.state(MODEL, 1));
            assertEquals("READY", api.state(MODEL, 2));
            HttpResponse<String> answer = api.infer(MODEL, DeployApi.mlpBody(3, null), Map.of());
            assertEquals(200, answer.statusCode(), answer.body());
            JsonNode history = ok(api.get("/admin/v1/models/" + MODEL + "/traffic/history"));
            assertEquals(revision, history.path("revisions").size(), history.toString());
            assertEquals(0, second.terminate(), "output:\n" + second.output());
        }
    }

    private static boolean bothReady(HttpResponse<String> model) {
        if (model.statusCode() != 200) {
            return false;
        }
        int ready = 0;
        for (JsonNode v : Bodies.parse(model.body()).path("versions")) {
            if (v.path("state").asText().equals("READY")) {
                ready++;
            }
        }
        return ready == 2;
    }

    private static Optional<HttpResponse<String>> tryGet(DeployApi api, String path) {
        try {
            return Optional.of(api.get(path));
        } catch (IllegalStateException e) {
            return Optional.empty();
        }
    }

    private static final HttpClient CLIENT = DeployApi.newClient();

    private static DeployApi api(ChildServer server) {
        return new DeployApi("http://127.0.0.1:" + server.port, CLIENT, Optional.empty());
    }
}
