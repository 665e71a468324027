package dev.gantry.http.faults;

import dev.gantry.core.lifecycle.ExecutorFactory;
import dev.gantry.http.testing.ServerFixture;
import dev.gantry.http.testing.TempRepository;
import dev.gantry.store.onnx.ElemType;
import dev.gantry.store.onnx.Initializer;
import dev.gantry.store.onnx.OnnxGraph;
import dev.gantry.store.onnx.OnnxModel;
import dev.gantry.store.onnx.SampleModels;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The first run of each artifact happens in a sandbox process, in front of an in-process server: a model whose
 * warm-up crashes ONNX Runtime costs only itself, and inputs guessed wrongly cost a model its batching, not its
 * availability.
 */
class FirstRunSandboxTest {
    /** model_warmup with a zero divisor: the sandbox's warm-up traps with SIGFPE. */
    private static final String ZERO_WARMUP = """
            {"max_batch_size": 8, "dynamic_batching": {}, "model_warmup": [{"name": "zeros", "batch_size": 1,
              "inputs": {"a": {"data_type": "TYPE_INT64", "dims": [4], "zero_data": true},
                         "b": {"data_type": "TYPE_INT64", "dims": [4], "zero_data": true}}}]}
            """;
    private static final String BATCHED = "{\"max_batch_size\": 8, \"dynamic_batching\": {}}";
    /** A sample whose rows have six values, the size the reshape needs. */
    private static final String SIX_WIDE_WARMUP = """
            {"max_batch_size": 8, "dynamic_batching": {}, "model_warmup": [{"name": "six", "batch_size": 1,
              "inputs": {"x": {"data_type": "TYPE_FP32", "dims": [6], "random_data": true}}}]}
            """;

    @TempDir
    static Path dir;
    static ServerFixture server;

    @BeforeAll
    static void start() throws IOException {
        Path models = dir.resolve("models");
        new TempRepository(models).copy("mlp", "mlp", 1, null);
        write(models, "div_zero_warmup", OnnxModel.of(SampleModels.integerDiv("div_zero_warmup", ElemType.INT64)),
                ZERO_WARMUP);
        write(models, "pairs", OnnxModel.of(pairs("pairs")), BATCHED);
        write(models, "pairs_sampled", OnnxModel.of(pairs("pairs_sampled")), SIX_WIDE_WARMUP);
        server = ServerFixture.start(ServerFixture.config(models, dir.resolve("data")), ExecutorFactory.onnxRuntime());
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    /** [n, w] floats reshaped to [-1, 3] and back to [n, w]: any w that is not a multiple of 3 fails. */
    static OnnxGraph pairs(String name) {
        ByteBuffer shape = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(-1).putLong(3);
        return OnnxGraph.builder(name)
                .input("x", ElemType.FLOAT, -1, -1)
                .initializer(Initializer.raw("triples", ElemType.INT64, shape.array(), 2))
                .node("Reshape", List.of("x", "triples"), "t")
                .node("Shape", List.of("x"), "s")
                .node("Reshape", List.of("t", "s"), "y")
                .output("y", ElemType.FLOAT, -1, -1)
                .build();
    }

    private static void write(Path models, String name, OnnxModel model, String config) throws IOException {
        Files.createDirectories(models.resolve(name).resolve("1"));
        Files.write(models.resolve(name).resolve("1").resolve("model.onnx"), model.toBytes());
        Files.writeString(models.resolve(name).resolve("config.json"), config);
    }

    @Test
    void warmUpThatCrashesOnnxRuntime_leavesTheVersionUnavailableWithSignalAndPhase() {
        HttpResponse<String> metadata = server.get("/v2/models/div_zero_warmup");

        assertTrue(metadata.body().contains("crashed the validation process: SIGFPE during warm-up"),
                metadata.body());
        HttpResponse<String> infer = server.postJson("/v2/models/div_zero_warmup/infer", """
                {"inputs":[{"name":"a","shape":[1,4],"datatype":"INT64","data":[7,8,9,10]},
                           {"name":"b","shape":[1,4],"datatype":"INT64","data":[2,2,3,5]}]}""");
        assertEquals(503, infer.statusCode(), infer.body());
    }

    @Test
    void warmUpThatCrashesOnnxRuntime_doesNotStopTheOtherModels() {
        StringBuilder values = new StringBuilder();
        for (int i = 0; i < 64; i++) {
            values.append(i == 0 ? "" : ",").append("0.25");
        }
        HttpResponse<String> infer = server.postJson("/v2/models/mlp/infer",
                "{\"inputs\":[{\"name\":\"features\",\"shape\":[1,64],\"datatype\":\"FP32\",\"data\":[" + values
                        + "]}]}");

        assertEquals(200, infer.statusCode(), infer.body());
    }

    @Test
    void guessedInputsThatDoNotFit_serveUnbatchedWithANoteSayingWhy() {
        HttpResponse<String> metadata = server.get("/v2/models/pairs");
        HttpResponse<String> infer = server.postJson("/v2/models/pairs/infer",
                "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,6],\"datatype\":\"FP32\",\"data\":[1,2,3,4,5,6]}]}");

        assertEquals(200, infer.statusCode(), infer.body());
        assertTrue(metadata.body().contains("the inputs Gantry guessed from the signature do not fit this model"),
                metadata.body());
        assertTrue(metadata.body().contains("not batched across requests: the batch-invariance check could not run"),
                metadata.body());
    }

    @Test
    void warmupSamplesThatFit_letTheInvarianceCheckRunAndTheModelBatch() {
        HttpResponse<String> metadata = server.get("/v2/models/pairs_sampled");

        assertEquals(200, metadata.statusCode(), metadata.body());
        assertFalse(metadata.body().contains("not batched"), metadata.body());
        assertFalse(metadata.body().contains("not warmed up"), metadata.body());
    }
}
