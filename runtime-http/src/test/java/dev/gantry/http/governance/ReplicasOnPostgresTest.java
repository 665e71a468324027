package dev.gantry.http.governance;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gantry.core.access.Role;
import dev.gantry.core.lifecycle.ExecutorFactory;
import dev.gantry.http.ServerConfig;
import dev.gantry.http.ServerConfigParser;
import dev.gantry.http.testing.Bodies;
import dev.gantry.http.testing.ServerFixture;
import dev.gantry.http.testing.TempRepository;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.function.Supplier;

import static dev.gantry.http.governance.GovernanceApi.LOW_CARD;
import static dev.gantry.http.governance.GovernanceApi.ok;
import static dev.gantry.http.governance.GovernanceApi.routes;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two servers on one PostgreSQL catalogue (and one models directory): what is changed through one is in force
 * on the other without a restart -- a traffic policy, an approval, a suspension.
 */
class ReplicasOnPostgresTest {
    /** Generous: the change usually arrives in milliseconds (NOTIFY); the safety check alone is 2 s. */
    private static final long PROPAGATION_BOUND_MS = 10_000;

    @TempDir
    static Path dir;
    private static EmbeddedPostgres postgres;
    private static ServerFixture a;
    private static ServerFixture b;
    private static GovernanceApi apiA;
    private static GovernanceApi apiB;
    private static String adminA;
    private static String uploaderA;
    private static String approverA;
    private static String adminB;

    @BeforeAll
    static void startPostgresAndTwoServers() throws Exception {
        postgres = EmbeddedPostgres.builder().start();
        TempRepository repo = new TempRepository(dir.resolve("models"));
        repo.copy("classifier", "rp", 1, GovernanceApi.CLASSIFIER_ALL_VERSIONS).copy("classifier", "rp", 2, null);
        repo.copy("classifier", "ra", 1, GovernanceApi.CLASSIFIER_ALL_VERSIONS);
        a = start(repo, "a");
        b = start(repo, "b");
        apiA = new GovernanceApi(a.server().port());
        apiB = new GovernanceApi(b.server().port());
        adminA = key(a, "admin-a", Role.ADMIN);
        uploaderA = key(a, "uploader", Role.DEPLOY);
        approverA = key(a, "approver", Role.APPROVE);
        adminB = key(b, "admin-b", Role.ADMIN);
    }

    @AfterAll
    static void stopAll() throws Exception {
        for (AutoCloseable c : new AutoCloseable[] {b, a, postgres}) {
            if (c != null) {
                c.close();
            }
        }
    }

    /** A server on the shared database and models directory, with a data directory of its own. */
    private static ServerFixture start(TempRepository repo, String name) throws Exception {
        String url = "jdbc:postgresql://localhost:" + postgres.getPort() + "/postgres";
        ServerConfig parsed = ServerConfigParser.parse(List.of("--catalog", url),
                Map.of("GANTRY_CATALOG_USER", "postgres"));
        ServerConfig config = ServerFixture.config(repo.root(), dir.resolve("data-" + name));
        return ServerFixture.start(config.withSecurity(config.security().withCatalog(parsed.security().catalog())
                .withAuditKeyFile(dir.resolve("audit.key"))), ExecutorFactory.onnxRuntime());
    }

    private static String key(ServerFixture server, String name, Role... roles) {
        return server.server().keys().create(name, Set.of(roles), Set.of(), Optional.empty(), Optional.empty())
                .token();
    }

    private static int weight(JsonNode policy, long version) {
        for (JsonNode r : policy.path("routes")) {
            if (r.path("version").asLong() == version) {
                return r.path("weight").asInt();
            }
        }
        return 0;
    }

    /** Polls {@code probe} until {@code done} accepts its result; returns the milliseconds it took. */
    private static <T> long await(Supplier<T> probe, Predicate<T> done, String what) throws InterruptedException {
        long start = System.nanoTime();
        T last = null;
        while (System.nanoTime() - start < TimeUnit.MILLISECONDS.toNanos(PROPAGATION_BOUND_MS)) {
            last = probe.get();
            if (done.test(last)) {
                return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            }
            Thread.sleep(2);
        }
        throw new AssertionError(what + " did not happen within " + PROPAGATION_BOUND_MS + " ms; last: " + last);
    }

    @Test
    void trafficChangeThroughA_isInForceOnB() throws Exception {
        List<Long> millis = new ArrayList<>();
        int[] canary = {10, 30, 50, 20, 40};
        for (int w : canary) {
            JsonNode applied = ok(apiA.traffic(uploaderA, "rp", routes(1, 100 - w, 2, w)));
            long revision = applied.path("revision").asLong();
            millis.add(await(() -> ok(apiB.get(adminB, "/admin/v1/models/rp")),
                    m -> m.path("revision").asLong() == revision, "revision " + revision + " on B"));
            JsonNode onB = ok(apiB.get(adminB, "/admin/v1/models/rp"));
            assertEquals(100 - w, weight(onB.path("policy"), 1), onB.toString());
            assertEquals(w, weight(onB.path("policy"), 2), onB.toString());
        }
        System.out.println("traffic change through A in force on B after (ms, from A's 200 to B's GET showing it): "
                + millis);
        JsonNode server = ok(apiB.get(adminB, "/admin/v1/server")).path("replication");
        assertTrue(server.path("shared_catalog").asBoolean(), server.toString());
        assertTrue(server.path("caught_up").asBoolean(), server.toString());
        assertTrue(server.path("last_change_lag_ms").asLong() >= 0, server.toString());
    }

    @Test
    void aServerStartingWhileChangesCommitElsewhere_becomesReadyCaughtUpWithThem() throws Exception {
        java.util.concurrent.atomic.AtomicBoolean writing = new java.util.concurrent.atomic.AtomicBoolean(true);
        java.util.concurrent.atomic.AtomicLong lastRevision = new java.util.concurrent.atomic.AtomicLong();
        Thread writer = Thread.ofPlatform().name("changes-through-a").start(() -> {
            for (int i = 0; writing.get(); i++) {
                int w = i % 2 == 0 ? 10 : 20;
                lastRevision.set(ok(apiA.traffic(uploaderA, "rp", routes(1, 100 - w, 2, w))).path("revision")
                        .asLong());
            }
        });
        ServerFixture c = null;
        try {
            await(lastRevision::get, r -> r > 0, "a first change through A");
            // Acknowledged before C starts: readiness promises every change committed before the server started
            // (README, Readiness). Read after the start, it could be a change C has not applied yet though it is
            // ready, as the writer keeps committing (a CI run on 12-01 failed that way).
            long before = lastRevision.get();
            c = start(new TempRepository(dir.resolve("models")), "c");
            GovernanceApi apiC = new GovernanceApi(c.server().port());
            await(() -> apiC.get(adminA, "/v2/health/ready").statusCode(), s -> s == 200, "C ready");
            JsonNode replication = ok(apiC.get(adminA, "/admin/v1/server")).path("replication");
            assertTrue(c.server().isReady(), replication.toString());
            assertTrue(replication.path("applied_change").asLong() > 0, replication.toString());
            assertTrue(ok(apiC.get(adminA, "/admin/v1/models/rp")).path("revision").asLong() >= before,
                    "C became ready with the policy revision A acknowledged before: " + replication);
        } finally {
            writing.set(false);
            writer.join(10_000);
            if (c != null) {
                c.close();
            }
        }
    }

    @Test
    void aChangeThroughB_rightAfterOneAcknowledgedThroughA_startsFromIt() throws Exception {
        long revision = ok(apiA.traffic(uploaderA, "rp", routes(1, 100, 2, 0))).path("revision").asLong();
        for (int i = 1; i <= 6; i++) {
            GovernanceApi api = i % 2 == 0 ? apiA : apiB;
            String token = i % 2 == 0 ? uploaderA : adminB;
            HttpResponse<String> r = api.traffic(token, "rp", "{\"expected_revision\":" + revision + ",\"routes\":"
                    + "[{\"version\":1,\"weight\":" + (100 - 10 * i) + "},{\"version\":2,\"weight\":" + 10 * i + "}]}");
            assertEquals(200, r.statusCode(), "change " + i + " expecting revision " + revision + ", which the other"
                    + " server had just acknowledged: " + r.body());
            revision = Bodies.parse(r.body()).path("revision").asLong();
        }
        ok(apiA.traffic(uploaderA, "rp", routes(1, 100, 2, 0)));
        ok(apiA.transition(adminA, "rp", 2, "suspend", "caught at once"));
        try {
            HttpResponse<String> refused = apiB.traffic(adminB, "rp", routes(1, 50, 2, 50));
            assertEquals(409, refused.statusCode(), "B routing to the version A had just suspended: " + refused.body());
            assertTrue(GovernanceApi.error(refused).contains("SUSPENDED"), refused.body());
        } finally {
            ok(apiA.transition(adminA, "rp", 2, "resume", "done"));
        }
        HttpResponse<String> routed = apiB.traffic(adminB, "rp", routes(1, 50, 2, 50));
        assertEquals(200, routed.statusCode(), "B routing to the version A had just resumed: " + routed.body());
    }

    @Test
    void aRolloutStartedThroughA_canBePausedAndAbortedThroughBAtOnce() throws Exception {
        ok(apiA.traffic(uploaderA, "rp", routes(1, 100, 2, 0)));
        HttpResponse<String> started = apiA.post(adminA, "/admin/v1/models/rp/rollouts", "{\"candidate\": 2,"
                + " \"baseline\": 1, \"steps\": [{\"weight\": 10, \"duration\": \"10m\"}]}");
        assertEquals(201, started.statusCode(), started.body());
        String rollout = "/admin/v1/models/rp/rollouts/" + Bodies.parse(started.body()).path("id").asText();
        try {
            assertEquals("PAUSED", ok(apiB.post(adminB, rollout + "/pause", "{}")).path("state").asText(),
                    "B pausing the rollout A had just started");
        } finally {
            assertEquals("ABORTED", ok(apiB.post(adminB, rollout + "/abort", "{}")).path("state").asText());
        }
    }

    @Test
    void conflictingPolicyChangesThroughAAndBAtOnce_endWithExactlyOneWinner_inForceOnBoth() throws Exception {
        JsonNode now = ok(apiA.traffic(uploaderA, "rp", routes(1, 100, 2, 0)));
        long from = now.path("revision").asLong();
        await(() -> ok(apiB.get(adminB, "/admin/v1/models/rp")).path("revision").asLong(), r -> r == from,
                "revision " + from + " on B");
        String viaA = "{\"expected_revision\":" + from + ",\"routes\":[{\"version\":1,\"weight\":80},"
                + "{\"version\":2,\"weight\":20}]}";
        String viaB = "{\"expected_revision\":" + from + ",\"routes\":[{\"version\":1,\"weight\":60},"
                + "{\"version\":2,\"weight\":40}]}";
        java.util.concurrent.CompletableFuture<HttpResponse<String>> fromA =
                java.util.concurrent.CompletableFuture.supplyAsync(() -> apiA.traffic(uploaderA, "rp", viaA));
        java.util.concurrent.CompletableFuture<HttpResponse<String>> fromB =
                java.util.concurrent.CompletableFuture.supplyAsync(() -> apiB.traffic(adminB, "rp", viaB));
        HttpResponse<String> a1 = fromA.get(60, TimeUnit.SECONDS);
        HttpResponse<String> b1 = fromB.get(60, TimeUnit.SECONDS);

        List<Integer> statuses = List.of(a1.statusCode(), b1.statusCode());
        assertTrue(statuses.contains(200) && statuses.contains(409), "exactly one winner: " + a1.body() + " / "
                + b1.body());
        int winnerWeight = a1.statusCode() == 200 ? 20 : 40;
        for (GovernanceApi api : List.of(apiA, apiB)) {
            String token = api == apiA ? adminA : adminB;
            await(() -> ok(api.get(token, "/admin/v1/models/rp")), m -> m.path("revision").asLong() == from + 1
                    && weight(m.path("policy"), 2) == winnerWeight, "the winner's policy on both servers");
        }
    }

    @Test
    void approvalThroughA_letsBRouteToTheVersion() throws Exception {
        HttpResponse<String> put = apiA.upload(uploaderA, "ra", 2, GovernanceApi.bundled("classifier"));
        assertEquals(201, put.statusCode(), put.body());
        assertEquals("VALIDATED", apiA.awaitStage(adminA, "ra", 2, Set.of("VALIDATED", "FAILED")).path("stage")
                .asText());
        ok(apiA.patchCard(uploaderA, "ra", 2, LOW_CARD));
        ok(apiA.transition(uploaderA, "ra", 2, "request-approval", "ready"));
        HttpResponse<String> load = apiB.post(adminB, "/admin/v1/models/ra/versions/2/load", "{}");
        assertTrue(load.statusCode() == 200 || load.statusCode() == 202, load.body());
        await(() -> apiB.get(adminB, "/v2/models/ra/versions/2/ready").statusCode(), s -> s == 200,
                "version 2 READY on B");
        HttpResponse<String> refused = apiB.traffic(adminB, "ra", routes(1, 50, 2, 50));
        assertEquals(409, refused.statusCode(), refused.body());
        assertTrue(GovernanceApi.error(refused).contains("PENDING_APPROVAL"), refused.body());

        assertEquals("APPROVED", ok(apiA.transition(approverA, "ra", 2, "approve", "fine")).path("stage").asText());

        long ms = await(() -> apiB.traffic(adminB, "ra", routes(1, 50, 2, 50)).statusCode(), s -> s == 200,
                "B accepting a policy routing to version 2");
        System.out.println("approval through A let B route to the version after " + ms + " ms");
        HttpResponse<String> inferred = apiB.infer(adminB, "ra", 2, 1);
        assertEquals(200, inferred.statusCode(), inferred.body());
    }

    @Test
    void suspensionThroughA_stopsBRoutingToIt_andResumeThroughALetsItBack() throws Exception {
        ok(apiA.traffic(uploaderA, "rp", routes(1, 50, 2, 50)));
        await(() -> apiB.infer(adminB, "rp", 2, 1).statusCode(), s -> s == 200, "version 2 serving on B");

        ok(apiA.transition(adminA, "rp", 2, "suspend", "bad answers"));
        long ms = await(() -> apiB.infer(adminB, "rp", 2, 1).statusCode(), s -> s == 409,
                "B refusing the suspended version");
        System.out.println("suspension through A in force on B after " + ms + " ms");
        HttpResponse<String> refused = apiB.infer(adminB, "rp", 2, 1);
        assertTrue(Bodies.parse(refused.body()).path("error").asText().contains("SUSPENDED"), refused.body());
        for (int i = 0; i < 20; i++) {
            HttpResponse<String> r = apiB.infer(adminB, "rp", 0, i);
            assertEquals(200, r.statusCode(), r.body());
        }

        ok(apiA.transition(adminA, "rp", 2, "resume", "fixed"));
        await(() -> apiB.infer(adminB, "rp", 2, 1).statusCode(), s -> s == 200, "B serving the resumed version");
    }
}
