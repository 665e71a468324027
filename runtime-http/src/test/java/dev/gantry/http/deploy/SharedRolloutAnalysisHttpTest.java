package dev.gantry.http.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gantry.core.lifecycle.ExecutorFactory;
import dev.gantry.http.ServerConfig;
import dev.gantry.http.ServerConfigParser;
import dev.gantry.http.testing.Bodies;
import dev.gantry.http.testing.ServerFixture;
import dev.gantry.http.testing.TempRepository;
import io.micrometer.core.instrument.Counter;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static dev.gantry.http.deploy.DeployApi.ONLY_VERSION_1;
import static dev.gantry.http.deploy.DeployApi.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two servers on one embedded PostgreSQL: the holder of the background lease (A) analyses the rollouts, and
 * every request goes to the other (B). A's analysis counts B's requests exactly, and a candidate that fails
 * on B is rolled back by A although A served none of its requests.
 */
class SharedRolloutAnalysisHttpTest {
    @TempDir
    static Path dir;
    static EmbeddedPostgres postgres;
    static ServerFixture holder;
    static ServerFixture other;
    static DeployApi a;
    static DeployApi b;
    static final CandidateFaults faults = new CandidateFaults();

    @BeforeAll
    static void startPostgresAndTwoServers() throws Exception {
        postgres = EmbeddedPostgres.builder().start();
        TempRepository repo = new TempRepository(dir.resolve("models"));
        for (String model : List.of("counted", "fails")) {
            repo.copy("mlp", model, 1, ONLY_VERSION_1).copy("mlp", model, 2, null);
        }
        holder = start(repo, "a", ExecutorFactory.onnxRuntime());
        a = DeployApi.of(holder);
        await(() -> replication(a).path("background_lease").asBoolean(), "A holds the lease");
        other = start(repo, "b", faults);
        b = DeployApi.of(other);
        for (String model : List.of("counted", "fails")) {
            a.load(model, 2);
            b.load(model, 2);
        }
    }

    @AfterAll
    static void stopAll() throws Exception {
        for (AutoCloseable c : new AutoCloseable[] {other, holder, postgres}) {
            if (c != null) {
                c.close();
            }
        }
    }

    private static ServerFixture start(TempRepository repo, String name, ExecutorFactory executors) throws Exception {
        String url = "jdbc:postgresql://localhost:" + postgres.getPort() + "/postgres";
        ServerConfig parsed = ServerConfigParser.parse(List.of("--catalog", url),
                Map.of("GANTRY_CATALOG_USER", "postgres"));
        ServerConfig config = ServerFixture.config(repo.root(), dir.resolve("data-" + name));
        return ServerFixture.start(config.withSecurity(config.security().withCatalog(parsed.security().catalog())
                .withAuditKeyFile(dir.resolve("audit.key"))), executors);
    }

    static JsonNode replication(DeployApi api) {
        return ok(api.get("/admin/v1/server")).path("replication");
    }

    static JsonNode rollout(DeployApi api, String model, String id) {
        return ok(api.get("/admin/v1/models/" + model + "/rollouts/" + id));
    }

    static void await(java.util.function.BooleanSupplier done, String what) throws InterruptedException {
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (!done.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, what + " within 20 s");
            Thread.sleep(20);
        }
    }

    /** Starts a one-step 50% rollout of version 2 through A and waits until B follows it (its window is open). */
    static String startRollout(String model, String gates) throws InterruptedException {
        HttpResponse<String> r = a.post("/admin/v1/models/" + model + "/rollouts", "{\"candidate\": 2, \"baseline\": 1,"
                + " \"steps\": [{\"weight\": 50, \"duration\": \"10m\", \"min_requests\": 100000}]" + gates + "}");
        assertEquals(201, r.statusCode(), r.body());
        String id = Bodies.parse(r.body()).path("id").asText();
        await(() -> DeployApi.weights(b.model(model).path("policy")).equals(Map.of(1L, 50, 2L, 50)),
                "B routes the step's split");
        await(() -> rollout(b, model, id).path("time_left_ms").asLong() > 0, "B tracks the rollout");
        return id;
    }

    static double routedOn(ServerFixture server, String model) {
        return server.server().registry().find("routing.requests").tag("model", model).counters().stream()
                .mapToDouble(Counter::count).sum();
    }

    @Test
    void serversShowTheirReplicaIds_andOnlyOneHoldsTheLease() {
        JsonNode ra = replication(a);
        JsonNode rb = replication(b);
        assertTrue(ra.path("replica_id").asText().matches("[A-Za-z0-9._-]+-[0-9a-f]{12}"), ra.toString());
        assertNotEquals(ra.path("replica_id").asText(), rb.path("replica_id").asText());
        assertTrue(ra.path("background_lease").asBoolean());
        assertFalse(rb.path("background_lease").asBoolean());
    }

    @Test
    void holdersAnalysis_countsExactlyTheRequestsTheOtherServerServed() throws Exception {
        String id = startRollout("counted", "");
        int sent = 60;
        for (int i = 0; i < sent; i++) {
            assertEquals(200, b.infer("counted", DeployApi.mlpBody(i, null), Map.of()).statusCode());
        }
        Predicate<JsonNode> allCounted = v -> v.path("analysis").path("candidate_requests").asLong()
                + v.path("analysis").path("baseline_requests").asLong() == sent;
        await(() -> allCounted.test(rollout(a, "counted", id)), "A's analysis counts B's " + sent + " requests");

        JsonNode v = rollout(a, "counted", id);
        JsonNode an = v.path("analysis");
        assertEquals("RUNNING", v.path("state").asText());
        assertEquals(1, an.path("replicas").asInt(), an.toString());
        long candidate = an.path("candidate_requests").asLong();
        assertTrue(candidate > 0 && candidate < sent, "both sides of the 50% split served some: " + an);
        assertEquals(candidate, an.path("candidate_offered").asLong(), an.toString());
        assertEquals(sent - candidate, an.path("baseline_offered").asLong(), an.toString());
        assertEquals(0, an.path("candidate_errors").asLong(), an.toString());
        assertEquals(0, an.path("baseline_errors").asLong(), an.toString());
        assertEquals(0.0, routedOn(holder, "counted"), "A served none of them");
        assertEquals(200, b.post("/admin/v1/models/counted/rollouts/" + id + "/abort", "{}").statusCode());
    }

    @Test
    void candidateFailingOnTheOtherServer_isRolledBackByTheHolder_whichServedNoneOfItsRequests() throws Exception {
        faults.arm("fails", 2, CandidateFaults.Fault.FAIL_ALL);
        String id = startRollout("fails", ", \"gates\": {\"min_sample\": 20}");
        long sent = 0;
        long deadline = System.nanoTime() + 30_000_000_000L;
        String state = "RUNNING";
        while (state.equals("RUNNING") && System.nanoTime() < deadline) {
            int status = b.infer("fails", DeployApi.mlpBody(sent, null), Map.of()).statusCode();
            assertTrue(status == 200 || status == 500, "answered or failed by the candidate: " + status);
            sent++;
            if (sent % 10 == 0) {
                state = rollout(a, "fails", id).path("state").asText();
            }
        }
        JsonNode end = rollout(a, "fails", id);
        assertEquals("ROLLED_BACK", end.path("state").asText(), end.toString());
        assertEquals(1, end.path("step").asInt());
        String reason = end.path("reason").asText();
        assertTrue(reason.startsWith("gate error_rate failed at step 1"), reason);
        Matcher m = Pattern.compile("candidate (\\d+)/(\\d+) errors, baseline (\\d+)/(\\d+)").matcher(reason);
        assertTrue(m.find(), reason);
        long candidateErrors = Long.parseLong(m.group(1));
        long candidate = Long.parseLong(m.group(2));
        long baselineErrors = Long.parseLong(m.group(3));
        long baseline = Long.parseLong(m.group(4));
        assertEquals(candidate, candidateErrors, "every candidate request failed: " + reason);
        assertEquals(0, baselineErrors, reason);
        assertTrue(candidate >= 20 && baseline >= 20, "both sides had their min_sample: " + reason);
        assertTrue(candidate + baseline <= sent, "counted no more than B served (" + sent + "): " + reason);
        assertEquals(0.0, routedOn(holder, "fails"), "A served none of them");
        assertEquals(Map.of(1L, 100), DeployApi.weights(a.model("fails").path("policy")));
        await(() -> DeployApi.weights(b.model("fails").path("policy")).equals(Map.of(1L, 100)),
                "B routes all traffic to the baseline");
        faults.release("fails", 2);
    }
}
