package dev.gantry.http.inference;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gantry.http.testing.Bodies;
import dev.gantry.http.testing.ServerFixture;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The real all-MiniLM-L6-v2 models from Maven Central, fp32 and dynamically quantized. */
class MiniLmTest {
    static ServerFixture server;

    @BeforeAll
    static void start() {
        server = ServerFixture.shared();
    }

    /** Token ids for {@code rows} sentences of {@code seq} tokens: [CLS] random words [SEP]. */
    static long[][] tokens(int rows, int seq, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        long[][] ids = new long[rows][seq];
        for (long[] row : ids) {
            row[0] = 101;
            for (int i = 1; i < seq - 1; i++) {
                row[i] = 1996 + r.nextInt(20000);
            }
            row[seq - 1] = 102;
        }
        return ids;
    }

    static String request(long[][] ids) {
        int rows = ids.length;
        int seq = ids[0].length;
        StringBuilder in = new StringBuilder();
        StringBuilder mask = new StringBuilder();
        StringBuilder types = new StringBuilder();
        for (long[] row : ids) {
            for (long id : row) {
                in.append(in.isEmpty() ? "" : ",").append(id);
                mask.append(mask.isEmpty() ? "" : ",").append(1);
                types.append(types.isEmpty() ? "" : ",").append(0);
            }
        }
        String shape = "[" + rows + "," + seq + "]";
        return "{\"inputs\":["
                + "{\"name\":\"input_ids\",\"shape\":" + shape + ",\"datatype\":\"INT64\",\"data\":[" + in + "]},"
                + "{\"name\":\"attention_mask\",\"shape\":" + shape + ",\"datatype\":\"INT64\",\"data\":[" + mask + "]},"
                + "{\"name\":\"token_type_ids\",\"shape\":" + shape + ",\"datatype\":\"INT64\",\"data\":[" + types + "]}],"
                + "\"parameters\":{\"binary_data_output\":true}}";
    }

    /** The raw output bytes of one request. */
    static byte[] infer(String model, long[][] ids) {
        HttpResponse<byte[]> r = server.post("/v2/models/" + model + "/infer",
                request(ids).getBytes(StandardCharsets.UTF_8), Map.of("Content-Type", "application/json"));
        assertEquals(200, r.statusCode(), new String(r.body(), StandardCharsets.UTF_8));
        int h = Integer.parseInt(r.headers().firstValue("Inference-Header-Content-Length").orElseThrow());
        JsonNode header = Bodies.parse(new String(r.body(), 0, h, StandardCharsets.UTF_8));
        JsonNode out = header.get("outputs").get(0);
        assertEquals("[" + ids.length + "," + ids[0].length + ",384]", out.get("shape").toString());
        return Arrays.copyOfRange(r.body(), h, r.body().length);
    }

    @Test
    void fp32_rowsInOneBatch_equalTheSameRowsAlone_bitForBit() {
        long[][] ids = tokens(4, 16, 1);
        byte[] batched = infer("minilm", ids);
        int rowBytes = batched.length / 4;
        for (int r = 0; r < 4; r++) {
            byte[] alone = infer("minilm", new long[][] {ids[r]});
            assertArrayEquals(alone, Arrays.copyOfRange(batched, r * rowBytes, (r + 1) * rowBytes), "row " + r);
        }
    }

    @Test
    void fp32_concurrentRequestsWithDifferentSequenceLengths_eachGetTheirOwnResult() throws Exception {
        int[] lengths = {16, 32, 128};
        int perLength = 8;
        List<long[][]> requests = new ArrayList<>();
        List<byte[]> expected = new ArrayList<>();
        for (int len : lengths) {
            for (int k = 0; k < perLength; k++) {
                long[][] ids = tokens(1, len, len * 100L + k);
                requests.add(ids);
                expected.add(infer("minilm", ids));
            }
        }
        ExecutorService pool = Executors.newFixedThreadPool(requests.size());
        try {
            List<Future<byte[]>> answers = new ArrayList<>();
            for (long[][] ids : requests) {
                answers.add(pool.submit(() -> infer("minilm", ids)));
            }
            for (int i = 0; i < requests.size(); i++) {
                assertArrayEquals(expected.get(i), answers.get(i).get(), "request " + i);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void quantized_isFoundNotBatchInvariant_andIsNotBatchedAcrossRequests() {
        JsonNode meta = Bodies.parse(server.get("/v2/models/minilm-q").body());
        assertEquals("READY", meta.get("state").asText());
        assertFalse(meta.get("batching").get("dynamic_batching").asBoolean(), meta.toString());
        assertTrue(meta.get("notes").toString().contains("not batch-invariant"), meta.get("notes").toString());
        JsonNode fp32 = Bodies.parse(server.get("/v2/models/minilm").body());
        assertTrue(fp32.get("batching").get("dynamic_batching").asBoolean(), "the fp32 model is batched");
        assertEquals(384 * 16 * 4, infer("minilm-q", tokens(1, 16, 9)).length);
    }
}
