package dev.gantry.http.inference;

import dev.gantry.core.engine.ExecutionSettings;
import dev.gantry.core.engine.OrtModelLoader;
import dev.gantry.core.inference.Tensor;
import dev.gantry.core.model.DataType;
import dev.gantry.core.scheduling.ModelExecutor;
import dev.gantry.http.testing.Bodies;
import dev.gantry.http.testing.ServerFixture;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** 64 clients at once, each sending its own inputs and checking it gets exactly its own result back. */
class ConcurrentClientsTest {
    static final int CLIENTS = 64;
    static final int REQUESTS_PER_CLIENT = 15;
    static ServerFixture server;

    @BeforeAll
    static void start() {
        server = ServerFixture.shared();
    }

    @Test
    void sixtyFourClients_eachGetTheirOwnBitExactResult_andRequestsAreBatched() throws Exception {
        float[][] inputs = new float[CLIENTS * REQUESTS_PER_CLIENT][];
        byte[][] expected = new byte[inputs.length][];
        try (ModelExecutor alone = OrtModelLoader.load(ServerFixture.MODELS.resolve("mlp/1"), "model.onnx",
                ExecutionSettings.cpuDefaults())) {
            for (int i = 0; i < inputs.length; i++) {
                inputs[i] = Bodies.randomFloats(64, 1000 + i);
                expected[i] = bytes(alone.run(List.of(fp32("features", inputs[i])), Set.of()).get(0));
            }
        }
        double batchesBefore = executions();
        ExecutorService pool = Executors.newFixedThreadPool(CLIENTS);
        try {
            List<Future<Integer>> clients = new ArrayList<>();
            for (int c = 0; c < CLIENTS; c++) {
                int client = c;
                clients.add(pool.submit(() -> {
                    int ok = 0;
                    for (int k = 0; k < REQUESTS_PER_CLIENT; k++) {
                        int i = client * REQUESTS_PER_CLIENT + k;
                        long[] headerLen = new long[1];
                        byte[] body = Bodies.fp32Binary("features", new long[] {1, 64}, inputs[i],
                                "\"outputs\":[{\"name\":\"scores\",\"parameters\":{\"binary_data\":true}}]", headerLen);
                        HttpResponse<byte[]> r = server.post("/v2/models/mlp/infer", body, Map.of(
                                "Content-Type", "application/octet-stream",
                                "Inference-Header-Content-Length", Long.toString(headerLen[0])));
                        assertEquals(200, r.statusCode(), new String(r.body(), StandardCharsets.UTF_8));
                        int h = Integer.parseInt(r.headers().firstValue("Inference-Header-Content-Length")
                                .orElseThrow());
                        assertArrayEquals(expected[i], Arrays.copyOfRange(r.body(), h, r.body().length),
                                "client " + client + " request " + k);
                        ok++;
                    }
                    return ok;
                }));
            }
            int total = 0;
            for (Future<Integer> f : clients) {
                total += f.get();
            }
            assertEquals(CLIENTS * REQUESTS_PER_CLIENT, total);
        } finally {
            pool.shutdownNow();
        }
        double batches = executions() - batchesBefore;
        assertTrue(batches < CLIENTS * REQUESTS_PER_CLIENT,
                "expected requests to share executions, but there were " + batches + " executions for "
                        + CLIENTS * REQUESTS_PER_CLIENT + " requests");
    }

    private static double executions() {
        var summary = server.server().registry().find("inference.batch.requests").tag("model", "mlp").summary();
        return summary == null ? 0 : summary.count();
    }

    static Tensor fp32(String name, float[] values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putFloat(v);
        }
        return Tensor.of(name, DataType.FP32, new long[] {1, values.length}, b.flip());
    }

    static byte[] bytes(Tensor t) {
        ByteBuffer b = t.data();
        byte[] out = new byte[b.remaining()];
        b.get(out);
        return out;
    }
}
