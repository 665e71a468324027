package dev.gantry.http.faults;

import dev.gantry.http.testing.ChildServer;
import dev.gantry.http.testing.TempRepository;
import dev.gantry.store.onnx.ElemType;
import dev.gantry.store.onnx.OnnxGraph;
import dev.gantry.store.onnx.OnnxModel;
import dev.gantry.store.onnx.SampleModels;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Integer Div and Mod models, whose ONNX Runtime kernels trap with SIGFPE on a zero divisor, served beside the
 * MLP by a server in a child process: warm-up never divides by zero, a crash at request time is attributed by the
 * crash journal and its version suspended at the next start, and the sandbox's verdicts are remembered.
 */
class NativeCrashContainmentTest {
    private static final String BATCHED = "{\"max_batch_size\": 8, \"dynamic_batching\": {}}";

    @TempDir
    Path dir;
    Path models;
    Path data;
    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeEach
    void repository() throws IOException {
        models = dir.resolve("models");
        data = dir.resolve("data");
        new TempRepository(models).copy("mlp", "mlp", 1, null);
        write("div", SampleModels.integerDiv("div", ElemType.INT64), BATCHED);
        write("mod", SampleModels.integerMod("mod", ElemType.INT32), BATCHED);
    }

    private void write(String name, OnnxGraph graph, String config) throws IOException {
        Files.createDirectories(models.resolve(name).resolve("1"));
        Files.write(models.resolve(name).resolve("1").resolve("model.onnx"), OnnxModel.of(graph).toBytes());
        Files.writeString(models.resolve(name).resolve("config.json"), config);
    }

    @Test
    void repositoryWithIntegerDivisionModels_startsAndServesEveryModel() throws Exception {
        try (ChildServer server = ChildServer.start(models, data)) {
            server.awaitOutput("Gantry ready");

            assertEquals(200, infer(server, "mlp", mlpBody()).statusCode());
            HttpResponse<String> div = infer(server, "div", divisionBody("INT64", "[7, 8, 9, 10]", "[2, 2, 3, 5]"));
            assertEquals(200, div.statusCode(), div.body());
            assertTrue(div.body().contains("[3,4,3,2]"), div.body());
            assertEquals(200, infer(server, "mod", divisionBody("INT32", "[7, 8, 9, 10]", "[2, 3, 4, 6]"))
                    .statusCode());
            assertEquals(0, server.terminate(), server.output());
        }
    }

    @Test
    void zeroDivisor_crashesTheServer_andTheNextStartSuspendsTheVersionAndServesTheOthers() throws Exception {
        long crashedPid;
        try (ChildServer server = ChildServer.start(models, data)) {
            server.awaitOutput("Gantry ready");
            crashedPid = server.process.pid();

            assertThrows(IOException.class, () -> infer(server, "div",
                    divisionBody("INT64", "[7, 8, 9, 10]", "[1, 0, 2, 3]")));
            assertTrue(server.process.waitFor(60, TimeUnit.SECONDS), "the server survived: " + server.output());
        }
        assertTrue(Files.exists(data.resolve("crash").resolve("hs_err_pid" + crashedPid + ".log")),
                "no crash report in the data directory");

        try (ChildServer restarted = ChildServer.start(models, data)) {
            restarted.awaitOutput("Gantry ready");

            assertTrue(restarted.output().contains("crash journal: the server process (pid " + crashedPid
                    + ") crashed with SIGFPE"), restarted.output());
            assertEquals(200, infer(restarted, "mlp", mlpBody()).statusCode());
            HttpResponse<String> mod = infer(restarted, "mod", divisionBody("INT32", "[7, 8, 9, 10]", "[2, 3, 4, 6]"));
            assertEquals(200, mod.statusCode(), mod.body() + "\n" + restarted.output());
            HttpResponse<String> record = get(restarted, "/admin/v1/models/div/versions/1");
            assertEquals(200, record.statusCode(), record.body());
            assertTrue(record.body().contains("\"stage\":\"SUSPENDED\""), record.body() + "\n" + restarted.output());
            assertTrue(record.body().contains("crashed with SIGFPE"), record.body());
            HttpResponse<String> index = post(restarted, "/v2/repository/index", "{}");
            assertTrue(index.body().contains("not loaded: the server process (pid " + crashedPid + ")"),
                    index.body());
            assertTrue(get(restarted, "/metrics").body().contains(
                    "server_crashes_found_total{model=\"div\",version=\"1\"} 1.0"), "crash metric missing");
            assertFalse(divisionServed(restarted), "the suspended version answered");
            assertEquals(0, restarted.terminate(), restarted.output());
        }
    }

    @Test
    void sandboxVerdict_isRememberedByDigest_soTheSecondStartSpawnsNoSandbox() throws Exception {
        try (ChildServer first = ChildServer.start(models, data)) {
            first.awaitOutput("Gantry ready");
            assertTrue(first.output().contains("div/1: first run of sha256"), first.output());
            assertEquals(0, first.terminate());
        }
        try (ChildServer second = ChildServer.start(models, data)) {
            second.awaitOutput("Gantry ready");

            assertFalse(second.output().contains("first run of sha256"), second.output());
            assertTrue(second.output().contains("div/1: sandbox verdict remembered for sha256"), second.output());
            assertTrue(get(second, "/metrics").body().contains(
                    "model_sandbox_runs_total{outcome=\"remembered\"} 3.0"), "remembered count");
            assertEquals(0, second.terminate());
        }
    }

    private boolean divisionServed(ChildServer server) throws Exception {
        return infer(server, "div", divisionBody("INT64", "[7, 8, 9, 10]", "[2, 2, 3, 5]")).statusCode() == 200;
    }

    private static String mlpBody() {
        StringBuilder values = new StringBuilder();
        for (int i = 0; i < 64; i++) {
            values.append(i == 0 ? "" : ",").append("0.5");
        }
        return "{\"inputs\":[{\"name\":\"features\",\"shape\":[1,64],\"datatype\":\"FP32\",\"data\":[" + values
                + "]}]}";
    }

    private static String divisionBody(String type, String a, String b) {
        return "{\"inputs\":[{\"name\":\"a\",\"shape\":[1,4],\"datatype\":\"" + type + "\",\"data\":" + a + "},"
                + "{\"name\":\"b\",\"shape\":[1,4],\"datatype\":\"" + type + "\",\"data\":" + b + "}]}";
    }

    private HttpResponse<String> infer(ChildServer server, String model, String body) throws Exception {
        return post(server, "/v2/models/" + model + "/infer", body);
    }

    private HttpResponse<String> post(ChildServer server, String path, String body) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port + path))
                .timeout(Duration.ofSeconds(60)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> get(ChildServer server, String path) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port + path))
                .timeout(Duration.ofSeconds(60)).GET().build(), HttpResponse.BodyHandlers.ofString());
    }
}
