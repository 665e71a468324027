package dev.gantry.http.faults;

import dev.gantry.core.lifecycle.ExecutorFactory;
import dev.gantry.http.testing.ServerFixture;
import dev.gantry.http.testing.TempRepository;
import dev.gantry.store.onnx.ElemType;
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

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Models with {@code "gantry": {"isolation": "process"}} execute in a worker process: a zero divisor kills only
 * the worker, its request gets 503 with the reason, the server and the MLP carry on, the worker restarts, and
 * three crashes within a minute suspend the version.
 */
class ProcessIsolationTest {
    private static final String ISOLATED = """
            {"max_batch_size": 8, "dynamic_batching": {}, "gantry": {"isolation": "process"}}""";
    private static final String ZERO_DIVISOR = """
            {"inputs":[{"name":"a","shape":[1,4],"datatype":"INT64","data":[7,8,9,10]},
                       {"name":"b","shape":[1,4],"datatype":"INT64","data":[1,0,2,3]}]}""";
    private static final String GOOD_DIVISOR = """
            {"inputs":[{"name":"a","shape":[1,4],"datatype":"INT64","data":[7,8,9,10]},
                       {"name":"b","shape":[1,4],"datatype":"INT64","data":[2,2,3,5]}]}""";

    @TempDir
    static Path dir;
    static ServerFixture server;

    @BeforeAll
    static void start() throws IOException {
        Path models = dir.resolve("models");
        new TempRepository(models).copy("mlp", "mlp", 1, null);
        for (String name : new String[] {"div_isolated", "div_thrice"}) {
            Files.createDirectories(models.resolve(name).resolve("1"));
            Files.write(models.resolve(name).resolve("1").resolve("model.onnx"),
                    OnnxModel.of(SampleModels.integerDiv(name, ElemType.INT64)).toBytes());
            Files.writeString(models.resolve(name).resolve("config.json"), ISOLATED);
        }
        server = ServerFixture.start(ServerFixture.config(models, dir.resolve("data")), ExecutorFactory.onnxRuntime());
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static String mlpBody() {
        StringBuilder values = new StringBuilder();
        for (int i = 0; i < 64; i++) {
            values.append(i == 0 ? "" : ",").append("0.125");
        }
        return "{\"inputs\":[{\"name\":\"features\",\"shape\":[1,64],\"datatype\":\"FP32\",\"data\":[" + values
                + "]}]}";
    }

    @Test
    void zeroDivisorToAnIsolatedModel_gets503WithTheReason_andTheServerServesOn() {
        HttpResponse<String> crash = server.postJson("/v2/models/div_isolated/infer", ZERO_DIVISOR);

        assertEquals(503, crash.statusCode(), crash.body());
        assertTrue(crash.body().contains("crashed while running this request (SIGFPE"), crash.body());
        assertEquals(200, server.postJson("/v2/models/mlp/infer", mlpBody()).statusCode());
        HttpResponse<String> after = server.postJson("/v2/models/div_isolated/infer", GOOD_DIVISOR);
        assertEquals(200, after.statusCode(), after.body());
        assertTrue(after.body().contains("[3,4,3,2]"), after.body());
    }

    @Test
    void threeWorkerCrashesWithinAMinute_suspendTheVersion() {
        for (int i = 0; i < 3; i++) {
            assertEquals(503, server.postJson("/v2/models/div_thrice/infer", ZERO_DIVISOR).statusCode());
        }

        HttpResponse<String> record = server.get("/admin/v1/models/div_thrice/versions/1");
        assertTrue(record.body().contains("\"stage\":\"SUSPENDED\""), record.body());
        assertTrue(record.body().contains("its worker process crashed 3 times within 60 s"), record.body());
        assertEquals(200, server.postJson("/v2/models/mlp/infer", mlpBody()).statusCode());
    }
}
