package dev.gantry.http.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gantry.http.testing.Bodies;
import dev.gantry.http.testing.OpenLoopLoad;
import dev.gantry.http.testing.ServerFixture;
import dev.gantry.http.testing.TempRepository;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static dev.gantry.http.deploy.DeployApi.ONLY_VERSION_1;
import static dev.gantry.http.deploy.DeployApi.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Progressive delivery over HTTP, on a real server with fallback on, under open-loop load (RATE requests a
 * second sent on schedule whatever the answers, a few thousand per test): bad candidates made by fault
 * injection are rolled back by their gate within the step in which they show, a good one is promoted by itself,
 * clients see no error throughout, and every decision is in the audit trail with its numbers. Each test owns
 * one model.
 */
class RolloutHttpTest {
    static final double RATE = 400;
    static final int MAX_IN_FLIGHT = 512;
    static final long MAX_REQUESTS = 12_000;

    @TempDir
    static Path dir;
    static ServerFixture server;
    static DeployApi api;
    static final List<String> MODELS = List.of("fails", "slow", "wrong", "stall", "good", "manual", "fb");
    static CandidateFaults faults = new CandidateFaults();

    @BeforeAll
    static void start() throws Exception {
        TempRepository repo = new TempRepository(dir.resolve("models"));
        for (String model : MODELS) {
            repo.copy("mlp", model, 1, ONLY_VERSION_1).copy("mlp", model, 2, null);
        }
        server = ServerFixture.start(ServerFixture.config(repo.root(), dir.resolve("data")).withFallback(true),
                faults);
        api = DeployApi.of(server);
        for (String model : MODELS) {
            api.load(model, 2);
        }
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    /** Open-loop load on {@code model}'s unversioned endpoint until closed: RATE requests a second. */
    static OpenLoopLoad load(String model) {
        return OpenLoopLoad.start(server.uri("/v2/models/" + model + "/infer"), RATE, MAX_IN_FLIGHT, MAX_REQUESTS,
                Map.of(), i -> DeployApi.mlpBody(i, null));
    }

    static JsonNode startRollout(String model, String plan) {
        HttpResponse<String> r = api.post("/admin/v1/models/" + model + "/rollouts", plan);
        assertEquals(201, r.statusCode(), r.body());
        return Bodies.parse(r.body());
    }

    /** Polls the rollout until it leaves RUNNING (or 40 s pass); its last view. */
    static JsonNode awaitEnd(String model, String id) throws InterruptedException {
        long deadline = System.nanoTime() + 40_000_000_000L;
        JsonNode v;
        do {
            Thread.sleep(100);
            v = ok(api.get("/admin/v1/models/" + model + "/rollouts/" + id));
        } while (v.path("state").asText().equals("RUNNING") && System.nanoTime() < deadline);
        return v;
    }

    static List<JsonNode> audit(String model, String action) {
        JsonNode a = ok(api.get("/admin/v1/audit?model=" + model + "&limit=200"));
        List<JsonNode> out = new java.util.ArrayList<>();
        a.path("entries").forEach(e -> {
            if (e.path("action").asText().equals(action)) {
                out.add(e);
            }
        });
        return out;
    }

    static final String WEIGHT_PLAN = "{\"candidate\": 2, \"steps\": ["
            + "{\"weight\": 20, \"duration\": \"1500ms\", \"min_requests\": 150},"
            + "{\"weight\": 50, \"duration\": \"1500ms\", \"min_requests\": 150},"
            + "{\"weight\": 100}]}";

    @Test
    void candidateFailingOneRequestInFive_isRolledBackInItsFirstStep_andNoClientSeesAnError() throws Exception {
        String id;
        JsonNode end;
        try (OpenLoopLoad load = load("fails")) {
            Thread.sleep(300);
            faults.arm("fails", 2, CandidateFaults.Fault.FAIL_20_PERCENT);
            id = startRollout("fails", WEIGHT_PLAN).path("id").asText();
            end = awaitEnd("fails", id);
            load.close();
            assertEquals(0, load.notOk(), load.describe());
            assertEquals(0, load.skipped(), load.describe());
            assertTrue(load.fallbacks() > 0, "some answers came from the fallback: " + load.describe());
        }
        assertEquals("ROLLED_BACK", end.path("state").asText(), end.toString());
        assertEquals(1, end.path("step").asInt(), end.toString());
        assertTrue(end.path("reason").asText().contains("gate error_rate failed"), end.toString());
        assertEquals(Map.of(1L, 100), DeployApi.weights(api.model("fails").path("policy")));
        JsonNode rb = audit("fails", "rollout.rollback").get(0);
        assertEquals("system", rb.path("role").asText());
        assertTrue(rb.path("after").asText().matches("(?s).*candidate \\d+/\\d+ errors, baseline \\d+/\\d+, z=.*"),
                rb.toString());
    }

    @Test
    void candidateFiveTimesSlower_isRolledBackByTheLatencyGate() throws Exception {
        faults.arm("slow", 2, CandidateFaults.Fault.SLOW);
        JsonNode end;
        try (OpenLoopLoad load = load("slow")) {
            Thread.sleep(300);
            String id = startRollout("slow", WEIGHT_PLAN).path("id").asText();
            end = awaitEnd("slow", id);
            load.close();
            assertEquals(0, load.notOk(), load.describe());
        }
        assertEquals("ROLLED_BACK", end.path("state").asText(), end.toString());
        assertEquals(1, end.path("step").asInt(), end.toString());
        assertTrue(end.path("reason").asText().contains("gate latency failed"), end.toString());
        assertTrue(audit("slow", "rollout.rollback").get(0).path("after").asText().contains("p99"));
    }

    @Test
    void candidateWhoseOutputsDisagree_isRolledBackInItsShadowStep() throws Exception {
        faults.arm("wrong", 2, CandidateFaults.Fault.WRONG_OUTPUTS);
        JsonNode end;
        try (OpenLoopLoad load = load("wrong")) {
            Thread.sleep(300);
            String id = startRollout("wrong", "{\"candidate\": \"2\", \"steps\": ["
                    + "{\"shadow_percent\": 100, \"duration\": \"2s\", \"min_requests\": 150},"
                    + "{\"weight\": 20, \"duration\": \"2s\", \"min_requests\": 150}]}").path("id").asText();
            end = awaitEnd("wrong", id);
            load.close();
            assertEquals(0, load.notOk(), load.describe());
        }
        assertEquals("ROLLED_BACK", end.path("state").asText(), end.toString());
        assertEquals(1, end.path("step").asInt(), end.toString());
        assertTrue(end.path("reason").asText().contains("gate agreement failed"), end.toString());
        assertTrue(audit("wrong", "rollout.rollback").get(0).path("after").asText()
                .matches("(?s).*0/\\d+ shadow answers agree.*"));
    }

    @Test
    void candidateThatStopsAnswering_isRolledBackByTheThroughputGate_andItsQueuedRequestsAreAnsweredAfterwards()
            throws Exception {
        JsonNode end;
        try (OpenLoopLoad load = load("stall")) {
            Thread.sleep(300);
            faults.arm("stall", 2, CandidateFaults.Fault.STALL);
            String id = startRollout("stall", WEIGHT_PLAN).path("id").asText();
            end = awaitEnd("stall", id);
            faults.release("stall", 2);
            load.close();
            assertEquals(0, load.notOk(), load.describe());
        }
        assertEquals("ROLLED_BACK", end.path("state").asText(), end.toString());
        assertEquals(1, end.path("step").asInt(), end.toString());
        String reason = end.path("reason").asText();
        assertTrue(reason.contains("gate throughput failed at step 1"), reason);
        assertTrue(reason.contains("error_rate WAITING") && reason.contains("latency WAITING"),
                "no answer, so only the throughput gate could see it: " + reason);
        assertEquals(Map.of(1L, 100), DeployApi.weights(api.model("stall").path("policy")));
        assertTrue(audit("stall", "rollout.rollback").get(0).path("after").asText()
                .matches("(?s).*throughput FAIL \\(candidate answered \\d+ of \\d+ offered .*ratio 0\\.\\d\\d vs min 0\\.50.*"));
    }

    @Test
    void goodCandidate_isPromotedToAllTrafficByItself_withTheBaselineOnStandby() throws Exception {
        JsonNode end;
        long sent;
        try (OpenLoopLoad load = load("good")) {
            Thread.sleep(300);
            String id = startRollout("good", WEIGHT_PLAN).path("id").asText();
            end = awaitEnd("good", id);
            load.close();
            assertEquals(0, load.notOk(), load.describe());
            assertEquals(0, load.fallbacks(), load.describe());
            sent = load.sent();
        }
        assertTrue(sent >= 1000, "thousands of requests, sent " + sent);
        assertEquals("PROMOTED", end.path("state").asText(), end.toString());
        JsonNode m = api.model("good");
        assertEquals(Map.of(2L, 100), DeployApi.weights(m.path("policy")));
        assertEquals("[\"1\"]", m.path("standby").toString());
        assertEquals(2, audit("good", "rollout.step").size());
        assertEquals(2, audit("good", "rollout.pass").size());
        String passed = audit("good", "rollout.pass").get(0).path("after").asText();
        assertTrue(passed.contains("error_rate PASS"), passed);
        assertTrue(passed.contains("throughput PASS (candidate answered "), passed);
        assertEquals(1, audit("good", "rollout.promote").size());
    }

    @Test
    void pauseResumeAndAbort_areHumanDecisions_auditedWithTheirActor() {
        String id = startRollout("manual", "{\"candidate\": 2, \"steps\": [{\"weight\": 10, \"duration\": \"10m\"}]}")
                .path("id").asText();
        String base = "/admin/v1/models/manual/rollouts/" + id;
        JsonNode paused = ok(api.post(base + "/pause", ""));
        assertEquals("PAUSED", paused.path("state").asText());
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        int exit = dev.gantry.http.cli.RolloutCommand.run(List.of("status", "manual", "--url",
                server.uri("").toString()), Map.of(), new java.io.PrintStream(out, true), System.err);
        assertEquals(0, exit);
        assertTrue(out.toString().contains("rollout " + id + " of manual: version 2 against 1, PAUSED"), out.toString());
        assertTrue(out.toString().contains("step 1/1: weight 10% (baseline 90%)"), out.toString());
        assertEquals(409, api.post(base + "/pause", "").statusCode());
        assertEquals("RUNNING", ok(api.post(base + "/resume", "")).path("state").asText());
        assertEquals("ABORTED", ok(api.post(base + "/abort", "")).path("state").asText());
        assertEquals(Map.of(1L, 100), DeployApi.weights(api.model("manual").path("policy")));
        assertEquals("anonymous", audit("manual", "rollout.abort").get(0).path("actor").asText());
        assertEquals(409, api.post(base + "/resume", "").statusCode());
    }

    @Test
    void failingVersion_isAnsweredByTheFallbackWithAHeader_thenItsBreakerOpens_andClientErrorsAreNotRetried() {
        ok(api.traffic("fb", "{\"routes\":[{\"version\":1,\"weight\":50},{\"version\":2,\"weight\":50}]}"));
        faults.arm("fb", 2, CandidateFaults.Fault.FAIL_ALL);
        int fellBack = 0;
        for (int i = 0; i < 200; i++) {
            HttpResponse<String> r = api.infer("fb", DeployApi.mlpBody(i, null), Map.of());
            assertEquals(200, r.statusCode(), r.body());
            java.util.Optional<String> h = r.headers().firstValue("Gantry-Fallback");
            if (h.isPresent()) {
                assertEquals("from=2; reason=model_error", h.get());
                assertEquals("1", r.headers().firstValue("Gantry-Model-Version").orElseThrow());
                fellBack++;
            }
        }
        assertTrue(fellBack >= 20, "answers from the fallback: " + fellBack);
        var breaker = server.server().registry().find("routing.circuit.state").tags("model", "fb", "version", "2")
                .gauge();
        assertEquals(2.0, breaker.value(), "breaker of the failing version is OPEN");
        long runs = faults.runs("fb", 2);
        for (int i = 0; i < 20; i++) {
            assertEquals(200, api.infer("fb", DeployApi.mlpBody(i, null), Map.of()).statusCode());
        }
        assertEquals(runs, faults.runs("fb", 2), "an open breaker sends nothing to the version");

        HttpResponse<String> bad = api.infer("fb", "{\"inputs\":[{\"name\":\"features\",\"shape\":[1,3],"
                + "\"datatype\":\"FP32\",\"data\":[1,2,3]}]}", Map.of());
        assertEquals(400, bad.statusCode(), bad.body());
        assertTrue(bad.headers().firstValue("Gantry-Fallback").isEmpty());
    }

    @Test
    void badPlan_is400NamingTheField() {
        String path = "/admin/v1/models/manual/rollouts";
        assertBad(api.post(path, "{\"steps\": [{\"weight\": 10, \"duration\": \"1m\"}]}"), "'candidate'");
        assertBad(api.post(path, "{\"candidate\": 2, \"steps\": [{\"weight\": 0, \"duration\": \"1m\"}]}"),
                "steps[0].weight");
        assertBad(api.post(path, "{\"candidate\": 2, \"steps\": [{\"weight\": 10}]}"), "steps[0].duration");
        assertBad(api.post(path, "{\"candidate\": 2, \"steps\": [{\"weight\": 10, \"duration\": \"soon\"}]}"),
                "steps[0].duration");
        assertBad(api.post(path, "{\"candidate\": 2, \"steps\": [{\"weight\": 10, \"shadow_percent\": 5,"
                + " \"duration\": \"1m\"}]}"), "steps[0]");
        assertBad(api.post(path, "{\"candidate\": 2, \"steps\": []}"), "'steps'");
        assertBad(api.post(path, "{\"candidate\": 2, \"steps\": [{\"weight\": 10, \"duration\": \"1m\"}],"
                + " \"gates\": {\"max_p99_ratio\": 0.5}}"), "gates.max_p99_ratio");
        assertBad(api.post(path, "{\"candidate\": 2, \"colour\": 1, \"steps\": []}"), "'colour'");
        assertEquals(404, api.post("/admin/v1/models/nope/rollouts", "{\"candidate\": 2, \"steps\": "
                + "[{\"weight\": 10, \"duration\": \"1m\"}]}").statusCode());
        assertEquals(404, api.get(path + "/ro-missing").statusCode());
    }

    private static void assertBad(HttpResponse<String> r, String field) {
        assertEquals(400, r.statusCode(), r.body());
        assertTrue(r.body().contains(field), r.body() + " should name " + field);
    }
}
