package dev.gantry.http.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gantry.core.lifecycle.ExecutorFactory;
import dev.gantry.http.ServerConfig;
import dev.gantry.http.ServerConfigParser;
import dev.gantry.http.testing.Bodies;
import dev.gantry.http.testing.ChildServer;
import dev.gantry.http.testing.ServerFixture;
import dev.gantry.http.testing.TempRepository;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static dev.gantry.http.deploy.DeployApi.ONLY_VERSION_1;
import static dev.gantry.http.deploy.DeployApi.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two servers on one PostgreSQL catalogue: only one holds the background lease (and so runs the rollout
 * analysis and the sunset retirement); when that one is killed (kill -9) the other takes the lease within
 * seconds, its analysis keeps the requests the killed one counted in the step, and the rollout continues there
 * to its end.
 */
class BackgroundLeaseTest {
    static final String MODEL = "bl";

    @TempDir
    Path dir;

    @Test
    void onlyOneServerHoldsTheLease_andWhenItIsKilledTheOtherTakesOverKeepingTheStepsCountsAndFinishesTheRollout()
            throws Exception {
        new TempRepository(dir.resolve("models")).copy("mlp", MODEL, 1, ONLY_VERSION_1).copy("mlp", MODEL, 2, null);
        try (EmbeddedPostgres postgres = EmbeddedPostgres.builder().start()) {
            String url = "jdbc:postgresql://localhost:" + postgres.getPort() + "/postgres";
            Path auditKey = dir.resolve("audit.key");
            ChildServer first = ChildServer.start(dir.resolve("models"), dir.resolve("data-a"),
                    List.of("--catalog", url, "--audit-key-file", auditKey.toString()),
                    Map.of("GANTRY_CATALOG_USER", "postgres"));
            try {
                first.awaitOutput("Gantry ready");
                DeployApi a = new DeployApi("http://127.0.0.1:" + first.port, DeployApi.newClient(), Optional.empty());
                try (ServerFixture second = start(url, auditKey, dir.resolve("models"), dir.resolve("data-b"))) {
                    DeployApi b = DeployApi.of(second);
                    assertTrue(lease(a), "the first server took the free lease");
                    assertFalse(lease(b), "the second server waits for it");

                    a.load(MODEL, 2);
                    HttpResponse<String> r = a.post("/admin/v1/models/" + MODEL + "/rollouts", "{\"candidate\": 2,"
                            + " \"baseline\": 1, \"steps\": [{\"weight\": 20, \"duration\": \"2s\", \"min_requests\": 20},"
                            + " {\"weight\": 50, \"duration\": \"2s\", \"min_requests\": 20}]}");
                    assertEquals(201, r.statusCode(), r.body());
                    String id = Bodies.parse(r.body()).path("id").asText();
                    assertEquals("RUNNING", state(b, id));
                    int servedByFirst = 30;
                    for (int i = 0; i < servedByFirst; i++) {
                        assertEquals(200, a.infer(MODEL, DeployApi.mlpBody(i, null), Map.of()).statusCode());
                    }
                    long shareDeadline = System.nanoTime() + 15_000_000_000L;
                    while (shared(url, id) < servedByFirst && System.nanoTime() < shareDeadline) {
                        Thread.sleep(50);
                    }
                    assertEquals(servedByFirst, shared(url, id), "the holder shared its step's counts");

                    first.process.destroyForcibly();
                    first.process.waitFor();
                    long killed = System.nanoTime();
                    long deadline = killed + 15_000_000_000L;
                    while (!lease(b) && System.nanoTime() < deadline) {
                        Thread.sleep(20);
                    }
                    assertTrue(lease(b), "the second server took the lease within 15 s of the kill");
                    System.out.println("background lease taken over " + (System.nanoTime() - killed) / 1_000_000
                            + " ms after kill -9 of its holder");
                    JsonNode kept = null;
                    deadline = System.nanoTime() + 15_000_000_000L;
                    while (System.nanoTime() < deadline && (kept == null || requests(kept) < servedByFirst)) {
                        Thread.sleep(50);
                        kept = ok(b.get("/admin/v1/models/" + MODEL + "/rollouts/" + id)).path("analysis");
                    }
                    assertEquals(servedByFirst, requests(kept), "the new holder counts the old one's requests: "
                            + kept);
                    assertEquals(1, kept.path("replicas").asInt(), kept.toString());

                    String state = "RUNNING";
                    deadline = System.nanoTime() + 60_000_000_000L;
                    for (long i = 0; state.equals("RUNNING") && System.nanoTime() < deadline; i++) {
                        assertEquals(200, b.infer(MODEL, DeployApi.mlpBody(i, null), Map.of()).statusCode());
                        if (i % 25 == 0) {
                            state = state(b, id);
                        }
                    }
                    assertEquals("PROMOTED", state);
                    assertEquals(Map.of(2L, 100), DeployApi.weights(b.model(MODEL).path("policy")));
                }
            } finally {
                first.close();
            }
        }
    }

    /** The second server, in this JVM, on the same database, models directory and audit key. */
    private static ServerFixture start(String url, Path auditKey, Path models, Path data) throws Exception {
        ServerConfig parsed = ServerConfigParser.parse(List.of("--catalog", url),
                Map.of("GANTRY_CATALOG_USER", "postgres"));
        ServerConfig config = ServerFixture.config(models, data);
        return ServerFixture.start(config.withSecurity(config.security().withCatalog(parsed.security().catalog())
                .withAuditKeyFile(auditKey)), ExecutorFactory.onnxRuntime());
    }

    private static boolean lease(DeployApi api) {
        JsonNode r = ok(api.get("/admin/v1/server")).path("replication");
        return r.path("background_lease").asBoolean();
    }

    private static long requests(JsonNode analysis) {
        return analysis.path("candidate_requests").asLong() + analysis.path("baseline_requests").asLong();
    }

    /** The requests of rollout {@code id}'s first step the servers shared in the catalogue. */
    private static long shared(String url, String id) throws java.sql.SQLException {
        try (java.sql.Connection c = java.sql.DriverManager.getConnection(url, "postgres", "");
             java.sql.PreparedStatement p = c.prepareStatement(
                     "SELECT COALESCE(SUM(requests), 0) FROM rollout_observation"
                             + " WHERE rollout_id = ? AND step_index = 0")) {
            p.setString(1, id);
            try (java.sql.ResultSet rs = p.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    private static String state(DeployApi api, String id) {
        return ok(api.get("/admin/v1/models/" + MODEL + "/rollouts/" + id)).path("state").asText();
    }
}
