package dev.gantry.http.faults;

import dev.gantry.core.lifecycle.ExecutorFactory;
import dev.gantry.http.testing.ServerFixture;
import dev.gantry.store.onnx.ElemType;
import dev.gantry.store.onnx.OnnxGraph;
import dev.gantry.store.onnx.OnnxModel;
import dev.gantry.store.onnx.SampleModels;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * With fallback on, a request whose isolated worker process crashes under it is retried once on the fallback
 * version: a zero divisor kills version 2's worker (integer Div), version 1 (same signature, Add: no trap)
 * answers 200, and the response says {@code Gantry-Fallback: from=2; reason=worker_crash}.
 */
class IsolatedWorkerFallbackTest {
    private static final String ISOLATED = """
            {"max_batch_size": 8, "dynamic_batching": {}, "version_policy": {"all": {}},
             "gantry": {"isolation": "process"}}""";
    private static final String ZERO_DIVISOR = """
            {"inputs":[{"name":"a","shape":[1,4],"datatype":"INT64","data":[7,8,9,10]},
                       {"name":"b","shape":[1,4],"datatype":"INT64","data":[1,0,2,3]}]}""";

    @TempDir
    static Path dir;
    static ServerFixture server;

    @BeforeAll
    static void start() throws IOException {
        Path model = dir.resolve("models").resolve("div_fb");
        OnnxGraph add = OnnxGraph.builder("div_fb")
                .input("a", ElemType.INT64, -1, 4)
                .input("b", ElemType.INT64, -1, 4)
                .node("Add", List.of("a", "b"), "quotient")
                .output("quotient", ElemType.INT64, -1, 4)
                .build();
        Files.createDirectories(model.resolve("1"));
        Files.write(model.resolve("1").resolve("model.onnx"), OnnxModel.of(add).toBytes());
        Files.createDirectories(model.resolve("2"));
        Files.write(model.resolve("2").resolve("model.onnx"),
                OnnxModel.of(SampleModels.integerDiv("div_fb", ElemType.INT64)).toBytes());
        Files.writeString(model.resolve("config.json"), ISOLATED);
        server = ServerFixture.start(ServerFixture.config(dir.resolve("models"), dir.resolve("data"))
                .withFallback(true), ExecutorFactory.onnxRuntime());
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void workerCrash_isRetriedOnTheNamedFallback_andTheClientGets200SayingWhy() {
        HttpResponse<String> policy = server.send(java.net.http.HttpRequest.newBuilder(
                        server.uri("/admin/v1/models/div_fb/traffic"))
                .header("Content-Type", "application/json")
                .PUT(java.net.http.HttpRequest.BodyPublishers.ofString(
                        "{\"routes\":[{\"version\":2,\"weight\":100}],\"fallback\":1}")).build());
        assertEquals(200, policy.statusCode(), policy.body());

        HttpResponse<String> r = server.postJson("/v2/models/div_fb/infer", ZERO_DIVISOR);

        assertEquals(200, r.statusCode(), r.body());
        assertEquals("from=2; reason=worker_crash", r.headers().firstValue("Gantry-Fallback").orElse("(none)"));
        assertEquals("1", r.headers().firstValue("Gantry-Model-Version").orElseThrow());
        assertTrue(r.body().contains("[8,8,11,13]"), "version 1 added the inputs: " + r.body());
    }
}
