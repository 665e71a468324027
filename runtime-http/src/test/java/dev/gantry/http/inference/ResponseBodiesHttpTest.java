package dev.gantry.http.inference;

import dev.gantry.http.testing.Bodies;
import dev.gantry.http.testing.ServerFixture;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.zip.GZIPInputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Large answers are written into pooled direct memory (ResponseBodies) and every such body goes back to the pool
 * once it is sent, dropped, compressed, or its client is gone: the answers are exact and no body stays live.
 */
class ResponseBodiesHttpTest {
    static ServerFixture server;

    @BeforeAll
    static void start() {
        server = ServerFixture.shared();
    }

    /** {@code n} floats whose text is long (up to 9 digits), as a model's outputs are. */
    private static float[] values(int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) Math.sin(i * 0.37) * 0.3f;
        }
        return v;
    }

    private static String request(float[] v, boolean binaryOutput) {
        StringBuilder b = new StringBuilder(v.length * 14 + 200);
        b.append("{\"inputs\":[{\"name\":\"input\",\"shape\":[1,").append(v.length)
                .append("],\"datatype\":\"FP32\",\"data\":[");
        for (int i = 0; i < v.length; i++) {
            b.append(i == 0 ? "" : ",").append(v[i]);
        }
        b.append("]}]");
        if (binaryOutput) {
            b.append(",\"parameters\":{\"binary_data_output\":true}");
        }
        return b.append('}').toString();
    }

    /** The answer is valid JSON and its data array's texts parse to exactly the floats sent. */
    private static void assertSameFloats(float[] expected, String json) {
        assertEquals(expected.length, Bodies.parse(json).get("outputs").get(0).get("data").size());
        int from = json.indexOf("\"data\":[") + 8;
        String[] texts = json.substring(from, json.indexOf(']', from)).split(",");
        assertEquals(expected.length, texts.length);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(Float.parseFloat(texts[i])),
                    "element " + i + ": " + texts[i]);
        }
    }

    /** Posts {@code v} to the identity model for a JSON answer, which must be a 200 carrying exactly {@code v}. */
    private static HttpResponse<String> postExact(float[] v) {
        HttpResponse<String> r = server.postJson("/v2/models/identity_fp32/infer", request(v, false));
        assertEquals(200, r.statusCode(), r.body().substring(0, Math.min(300, r.body().length())));
        assertSameFloats(v, r.body());
        return r;
    }

    /** Waits until every pooled body was given back (a body is released when its write completes). */
    private static void assertAllReleased() throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (ResponseBodies.live() != 0 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(0, ResponseBodies.live(), "pooled response bodies still live");
    }

    @Test
    void largeJsonAnswers_onTheEventLoopAndOnAWorker_areExactAndGivenBack() throws Exception {
        // 10,000 floats: ~110 KB of text, encoded on the event loop; 30,000: the output is past the size that is
        // encoded on a worker thread
        for (int n : new int[] {10_000, 30_000}) {
            float[] v = values(n);
            long before = ResponseBodies.allocated();
            HttpResponse<String> r = postExact(v);
            assertEquals("application/json", r.headers().firstValue("Content-Type").orElseThrow());
            assertTrue(ResponseBodies.allocated() > before, "the " + n + "-float answer was not pooled");
            assertAllReleased();
        }
    }

    @Test
    void smallAnswers_andAnswersPastTheCap_stayOnTheHeap() throws Exception {
        // 100 floats: a few hundred bytes; 100,000: sized at 1.6 MB, past POOLED_MAX_BYTES
        for (int n : new int[] {100, 100_000}) {
            float[] v = values(n);
            long before = ResponseBodies.allocated();
            postExact(v);
            assertEquals(before, ResponseBodies.allocated(), n + " floats");
        }
    }

    @Test
    void largeBinaryAnswer_carriesTheExactBytesAfterItsHeader() throws Exception {
        float[] v = values(40_000);
        long before = ResponseBodies.allocated();
        HttpResponse<byte[]> r = server.post("/v2/models/identity_fp32/infer",
                request(v, true).getBytes(StandardCharsets.UTF_8), Map.of("Content-Type", "application/json"));
        assertEquals(200, r.statusCode(), new String(r.body(), 0, Math.min(300, r.body().length),
                StandardCharsets.UTF_8));
        assertEquals("application/octet-stream", r.headers().firstValue("Content-Type").orElseThrow());
        int h = Integer.parseInt(r.headers().firstValue("Inference-Header-Content-Length").orElseThrow());
        String header = new String(r.body(), 0, h, StandardCharsets.UTF_8);
        assertEquals(v.length * 4L, Bodies.parse(header).get("outputs").get(0).get("parameters")
                .get("binary_data_size").asLong(), header);
        ByteBuffer expected = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) {
            expected.putFloat(f);
        }
        assertEquals(h + v.length * 4, r.body().length);
        assertArrayEquals(expected.array(), java.util.Arrays.copyOfRange(r.body(), h, r.body().length));
        assertTrue(ResponseBodies.allocated() > before, "the binary answer was not pooled");
        assertAllReleased();
    }

    @Test
    void gzipAnswer_isTheSameJson_andTheUncompressedBodyIsGivenBack() throws Exception {
        float[] v = values(12_000);
        long before = ResponseBodies.allocated();
        HttpResponse<byte[]> r = server.post("/v2/models/identity_fp32/infer",
                request(v, false).getBytes(StandardCharsets.UTF_8),
                Map.of("Content-Type", "application/json", "Accept-Encoding", "gzip"));
        assertEquals(200, r.statusCode());
        assertEquals("gzip", r.headers().firstValue("Content-Encoding").orElseThrow());
        String json;
        try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(r.body()))) {
            json = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        assertSameFloats(v, json);
        assertTrue(ResponseBodies.allocated() > before, "the answer was not pooled before compression");
        assertAllReleased();
    }

    @Test
    void clientsThatLeaveBeforeReading_leaveNoBodyBehind_andTheServerGoesOn() throws Exception {
        // pooled answers (~700 KB of text each) to clients that close as soon as the answer begins
        byte[] body = request(values(60_000), false).getBytes(StandardCharsets.UTF_8);
        long before = ResponseBodies.allocated();
        for (int i = 0; i < 4; i++) {
            try (Socket s = new Socket(server.uri("/").getHost(), server.uri("/").getPort())) {
                OutputStream out = s.getOutputStream();
                out.write(("POST /v2/models/identity_fp32/infer HTTP/1.1\r\nHost: localhost\r\n"
                        + "Content-Type: application/json\r\nContent-Length: " + body.length + "\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                out.write(body);
                out.flush();
                // wait until the answer has begun, then leave with most of it unread
                int first = s.getInputStream().read();
                assertEquals('H', first);
            }
        }
        assertTrue(ResponseBodies.allocated() >= before + 4, "the answers were not pooled");
        assertAllReleased();
        float[] v = values(10_000);
        postExact(v);
        assertAllReleased();
    }

    @Test
    void concurrentLargeAnswers_areEachExact() throws Exception {
        ExecutorService clients = Executors.newFixedThreadPool(8);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int c = 0; c < 8; c++) {
                int n = 8_000 + 1_000 * c;
                done.add(clients.submit(() -> {
                    float[] v = values(n);
                    for (int i = 0; i < 4; i++) {
                        postExact(v);
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
        } finally {
            clients.shutdownNow();
        }
        assertAllReleased();
    }
}
