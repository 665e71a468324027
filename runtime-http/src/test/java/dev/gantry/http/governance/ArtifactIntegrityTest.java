package dev.gantry.http.governance;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gantry.core.lifecycle.ExecutorFactory;
import dev.gantry.http.testing.Bodies;
import dev.gantry.http.testing.ServerFixture;
import dev.gantry.http.testing.TempRepository;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static dev.gantry.http.governance.GovernanceApi.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Artifacts stay what was approved: only the first start of an empty catalogue adopts what is on disk; a
 * version that appears later is registered and validated, never approved; and a catalogued model file whose
 * bytes changed on disk is refused at load, with the reason, audited. Each test restarts a real server on the
 * same repository and data directory.
 */
class ArtifactIntegrityTest {
    private static final String MODEL = "kept";

    @TempDir
    Path dir;

    @Test
    void versionDroppedIntoTheRepositoryOfARunningCatalogue_isRegisteredAndValidated_neverApproved() throws Exception {
        TempRepository repo = new TempRepository(dir.resolve("models"));
        repo.copy("classifier", MODEL, 1, GovernanceApi.CLASSIFIER_ALL_VERSIONS);
        Path data = dir.resolve("data");
        try (ServerFixture first = start(repo, data)) {
            GovernanceApi api = new GovernanceApi(first.server().port());
            assertEquals("APPROVED", ok(api.get(null, GovernanceApi.versionPath(MODEL, 1))).path("stage").asText(),
                    "the first start of an empty catalogue adopts what is on disk");
            // Dropped in by hand while the catalogue is running: not an upload.
            repo.copy("classifier", MODEL, 2, null);
        }
        try (ServerFixture second = start(repo, data)) {
            GovernanceApi api = new GovernanceApi(second.server().port());
            JsonNode v2 = api.awaitStage(null, MODEL, 2, Set.of("VALIDATED", "FAILED", "APPROVED"));
            assertEquals("VALIDATED", v2.path("stage").asText(), v2.toString());
            assertEquals("system", v2.path("uploaded_by").asText(), v2.toString());

            JsonNode register = only(entries(api, MODEL, 2, "version.register"));
            assertEquals("system", register.path("actor").asText());
            assertTrue(register.path("after").asText().contains("appeared in the repository outside an upload"),
                    register.toString());

            for (int i = 0; i < 20; i++) {
                HttpResponse<String> r = api.infer(null, MODEL, 0, i);
                assertEquals(200, r.statusCode(), r.body());
                assertEquals("1", Bodies.parse(r.body()).path("model_version").asText(),
                        "an unapproved version takes no traffic: " + r.body());
            }
        }
    }

    @Test
    void byteReplacedInAnApprovedModelFile_isRefusedAtLoad_withTheReason_andAudited() throws Exception {
        TempRepository repo = new TempRepository(dir.resolve("models"));
        repo.copy("classifier", MODEL, 1, GovernanceApi.CLASSIFIER_ALL_VERSIONS);
        Path data = dir.resolve("data");
        try (ServerFixture first = start(repo, data)) {
            GovernanceApi api = new GovernanceApi(first.server().port());
            assertEquals("APPROVED", ok(api.get(null, GovernanceApi.versionPath(MODEL, 1))).path("stage").asText());
            assertEquals(200, api.infer(null, MODEL, 1, 1).statusCode());
        }
        Path modelFile = repo.root().resolve(MODEL).resolve("1").resolve("model.onnx");
        byte[] bytes = Files.readAllBytes(modelFile);
        bytes[bytes.length - 5] ^= 0x01;
        Files.write(modelFile, bytes);

        try (ServerFixture second = start(repo, data)) {
            GovernanceApi api = new GovernanceApi(second.server().port());
            JsonNode state = loadState(api, MODEL, 1);
            assertEquals("UNAVAILABLE", state.path("state").asText(), state.toString());
            String reason = state.path("reason").asText();
            assertTrue(reason.startsWith("model file digest sha256:") && reason.contains("does not match the catalogue's")
                    && reason.endsWith("the artifact changed on disk after it was registered"), reason);

            JsonNode refused = only(entries(api, MODEL, 1, "version.load_refused"));
            assertEquals("system", refused.path("actor").asText());
            assertTrue(refused.path("after").asText().contains("does not match"), refused.toString());

            HttpResponse<String> r = api.infer(null, MODEL, 1, 1);
            assertEquals(503, r.statusCode(), r.body());
        }
    }

    private static ServerFixture start(TempRepository repo, Path data) {
        return ServerFixture.start(ServerFixture.config(repo.root(), data), ExecutorFactory.onnxRuntime());
    }

    /** The version's serving state in the repository index. */
    private static JsonNode loadState(GovernanceApi api, String model, long version) {
        HttpResponse<String> r = api.post(null, "/v2/repository/index", "{}");
        assertEquals(200, r.statusCode(), r.body());
        for (JsonNode n : Bodies.parse(r.body())) {
            if (n.path("name").asText().equals(model) && n.path("version").asText().equals(Long.toString(version))) {
                return n;
            }
        }
        throw new AssertionError(model + "/" + version + " is not in the index " + r.body());
    }

    private static List<JsonNode> entries(GovernanceApi api, String model, long version, String action) {
        JsonNode all = ok(api.get(null, "/admin/v1/audit?model=" + model + "&version=" + version));
        List<JsonNode> out = new ArrayList<>();
        all.path("entries").forEach(e -> {
            if (e.path("action").asText().equals(action)) {
                out.add(e);
            }
        });
        return out;
    }

    private static JsonNode only(List<JsonNode> entries) {
        assertEquals(1, entries.size(), entries.toString());
        return entries.get(0);
    }
}
