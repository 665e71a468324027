package dev.gantry.http.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gantry.http.testing.Bodies;
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
 * A traffic policy may name its fallback version: set through the traffic API, shown when the policy is read,
 * validated (a READY version of the model, 4xx naming the problem otherwise), audited with the revision, kept
 * loaded while named, restored after a restart, and preferred by per-request fallback over the standby version.
 */
class PolicyFallbackTest {
    @TempDir
    static Path dir;
    static ServerFixture server;
    static DeployApi api;
    static final CandidateFaults faults = new CandidateFaults();

    @BeforeAll
    static void start() throws java.io.IOException {
        TempRepository repo = new TempRepository(dir.resolve("models"));
        for (String model : List.of("named", "checks", "kept")) {
            repo.copy("mlp", model, 1, ONLY_VERSION_1).copy("mlp", model, 2, null).copy("mlp", model, 3, null);
        }
        server = ServerFixture.start(ServerFixture.config(repo.root(), dir.resolve("data")).withFallback(true),
                faults);
        api = DeployApi.of(server);
        api.load("named", 2);
        api.load("named", 3);
        api.load("checks", 2);
        api.load("kept", 2);
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    /** Sends {@code n} requests; each must be answered 200 by the fallback: the versions that answered. */
    private static List<String> answeredByFallback(String model, int n, String expectedHeader) {
        List<String> versions = new java.util.ArrayList<>();
        for (int i = 0; i < n; i++) {
            HttpResponse<String> r = api.infer(model, DeployApi.mlpBody(i, null), Map.of());
            assertEquals(200, r.statusCode(), r.body());
            assertEquals(expectedHeader, r.headers().firstValue("Gantry-Fallback").orElse("(none)"));
            versions.add(r.headers().firstValue("Gantry-Model-Version").orElseThrow());
        }
        return versions;
    }

    @Test
    void namedFallback_answersWhenTheChosenVersionFails_inPreferenceToTheStandby() {
        ok(api.traffic("named", DeployApi.routes(2, 100)));
        JsonNode applied = ok(api.traffic("named", "{\"routes\":[{\"version\":3,\"weight\":100}],\"fallback\":\"1\","
                + "\"reason\":\"version 1 catches what 3 drops\"}"));
        assertEquals("1", applied.path("policy").path("fallback").asText(), applied.toString());
        JsonNode model = api.model("named");
        assertEquals("1", model.path("policy").path("fallback").asText(), model.toString());
        assertEquals("[\"2\"]", model.path("standby").toString(), "2 is the standby (one is kept by default)");
        assertEquals("READY", api.state("named", 1), "1 stays loaded because the policy names it");
        faults.arm("named", 3, CandidateFaults.Fault.FAIL_ALL);

        assertEquals(List.of("1", "1", "1", "1", "1"), answeredByFallback("named", 5, "from=3; reason=model_error"));

        ok(api.traffic("named", DeployApi.routes(3, 100)));
        assertTrue(api.model("named").path("policy").path("fallback").isMissingNode(), "no fallback named any more");
        assertEquals(List.of("2", "2", "2"), answeredByFallback("named", 3, "from=3; reason=model_error"),
                "without a named fallback the standby answers");
        faults.arm("named", 3, CandidateFaults.Fault.NONE);

        JsonNode audit = ok(api.get("/admin/v1/audit?model=named&limit=50"));
        boolean named = false;
        for (JsonNode e : audit.path("entries")) {
            named |= e.path("action").asText().equals("policy.apply")
                    && e.path("after").asText().contains("\"fallback\":1");
        }
        assertTrue(named, "the revision naming the fallback is audited with it: " + audit);
    }

    @Test
    void fallbackThatIsNotAReadyVersionOfTheModel_is4xxNamingIt_andChangesNothing() {
        long revision = api.model("checks").path("revision").asLong();
        assertRefused(api.traffic("checks", "{\"routes\":[{\"version\":1,\"weight\":100}],\"fallback\":9}"), 404,
                "version 9 of model 'checks' is not in the catalogue");
        assertRefused(api.traffic("checks", "{\"routes\":[{\"version\":1,\"weight\":100}],\"fallback\":3}"), 409,
                "version 3 of model 'checks' is not loaded; load it and wait until it is READY before it is named"
                        + " the fallback");
        assertRefused(api.traffic("checks", "{\"routes\":[{\"version\":1,\"weight\":100}],\"fallback\":\"soon\"}"),
                400, "'fallback' must be a whole number, was \"soon\"");
        assertRefused(api.traffic("checks", "{\"routes\":[{\"version\":1,\"weight\":100}],\"fallback\":0}"), 400,
                "'fallback' must be a version >= 1, was 0");
        assertRefused(api.traffic("checks", "{\"routes\":[{\"version\":1,\"weight\":100}],"
                + "\"shadow\":[{\"version\":2,\"percent\":10}],\"fallback\":2}"), 400, "fallback 2 is a shadow route");
        assertEquals(revision, api.model("checks").path("revision").asLong(), "no refused policy was applied");
    }

    @Test
    void namedFallback_staysLoadedWhileNamed_andBecomesStandbyWhenNoLongerNamed() {
        ok(api.traffic("kept", "{\"routes\":[{\"version\":1,\"weight\":100}],\"fallback\":2}"));
        HttpResponse<String> unload = api.unload("kept", 2);
        assertEquals(409, unload.statusCode(), unload.body());
        assertTrue(unload.body().contains("version 2 is the named fallback of revision"), unload.body());

        ok(api.traffic("kept", DeployApi.routes(1, 100)));
        assertEquals("READY", api.state("kept", 2));
        assertEquals("[\"2\"]", api.model("kept").path("standby").toString());
    }

    @Test
    void cliTraffic_withFallback_namesIt() {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        int exit = dev.gantry.http.cli.AdminCommand.run("traffic", List.of("checks", "1=100", "--fallback", "2",
                "--url", server.uri("").toString()), Map.of(), new java.io.PrintStream(out, true), System.err);
        assertEquals(0, exit, out.toString());
        assertEquals("2", api.model("checks").path("policy").path("fallback").asText());
    }

    @Test
    void namedFallback_isRestoredAfterARestart_andItsVersionLoaded(@TempDir Path own) throws java.io.IOException {
        TempRepository repo = new TempRepository(own.resolve("models"));
        repo.copy("mlp", "restored", 1, ONLY_VERSION_1).copy("mlp", "restored", 2, null);
        try (ServerFixture first = ServerFixture.start(ServerFixture.config(repo.root(), own.resolve("data")),
                dev.gantry.core.lifecycle.ExecutorFactory.onnxRuntime())) {
            DeployApi a = DeployApi.of(first);
            a.load("restored", 2);
            ok(a.traffic("restored", "{\"routes\":[{\"version\":1,\"weight\":100}],\"fallback\":2}"));
        }
        try (ServerFixture second = ServerFixture.start(ServerFixture.config(repo.root(), own.resolve("data")),
                dev.gantry.core.lifecycle.ExecutorFactory.onnxRuntime())) {
            DeployApi a = DeployApi.of(second);
            JsonNode m = a.model("restored");
            assertEquals("2", m.path("policy").path("fallback").asText(), m.toString());
            assertEquals("READY", a.state("restored", 2), "version 1 alone is in the version policy; 2 is loaded"
                    + " because the restored policy names it");
        }
    }

    private static void assertRefused(HttpResponse<String> r, int status, String message) {
        assertEquals(status, r.statusCode(), r.body());
        String error = Bodies.parse(r.body()).path("error").asText();
        assertTrue(error.contains(message), error + " should contain: " + message);
    }
}
