package dev.gantry.http.hardening;

import com.google.protobuf.ByteString;
import dev.gantry.core.lifecycle.ExecutorFactory;
import dev.gantry.core.metrics.MetricNames;
import dev.gantry.http.ServerConfig;
import dev.gantry.http.grpc.proto.ModelInferRequest;
import dev.gantry.http.grpc.proto.ModelInferResponse;
import dev.gantry.http.grpc.proto.ModelStreamInferResponse;
import dev.gantry.http.testing.GrpcClient;
import dev.gantry.http.testing.ServerFixture;
import io.grpc.Status;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Request bodies held at once share one budget (--max-body-memory): past it a request is answered 429 with
 * Retry-After and its connection closed, instead of the heap filling up; what a request held is given back when
 * it ends, and a request alone is admitted whatever its size.
 */
@Timeout(120)
class BodyMemoryBudgetTest {
    private static final int KiB = 1024;
    private static final int BUDGET = 1024 * KiB;
    private static final String INFER = "/v2/models/add_fp32/infer";
    /** What a connection that sent 400 KiB of its body holds: the buffer has doubled to 512 KiB. */
    private static final int HOLDER_BUFFER = 512 * KiB;

    @TempDir
    static Path data;
    static ServerFixture server;

    @BeforeAll
    static void start() {
        ServerConfig config = ServerFixture.config(ServerFixture.MODELS, data);
        server = ServerFixture.start(config.withLimits(config.limits().withMaxBodyMemory(BUDGET)),
                ExecutorFactory.onnxRuntime());
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void aBodyPastTheBudget_whileAnotherHoldsHalfOfIt_is429_untilThatOneEnds() throws Exception {
        RawHttp.Reply before = exchange(spaces(600 * KiB));
        assertEquals(400, before.status(), "with the budget free a 600 KiB body is read and parsed: " + before);
        awaitHeld(0);

        try (Socket holder = hold(400 * KiB)) {
            double refusalsBefore = refusals();
            RawHttp.Reply refused = exchange(spaces(600 * KiB));
            assertEquals(429, refused.status(), refused.toString());
            assertEquals("1", refused.header("retry-after"), refused.headers().toString());
            assertEquals("close", refused.header("connection"), refused.headers().toString());
            assertEquals("{\"error\":\"request bodies in memory reached the server's budget of " + BUDGET
                    + " bytes (--max-body-memory); retry later\"}", refused.bodyText());
            assertEquals(refusalsBefore + 1, refusals());
            // what the refused request had read was given back; the holder's buffer is still held
            awaitHeld(HOLDER_BUFFER);
            // a small request still fits beside the held body, and is answered
            assertEquals(200, server.postJson(INFER, addRequest()).statusCode());
            // an operator sees it in /metrics
            String metrics = server.get("/metrics").body();
            assertTrue(metrics.contains("http_request_body_held_bytes " + (double) HOLDER_BUFFER), metrics);
            assertTrue(metrics.contains("http_request_body_budget_bytes " + (double) BUDGET), metrics);
            assertTrue(metrics.contains("http_request_body_refused_total " + refusals()), metrics);
        }
        // the closed connection gave its bytes back: the same 600 KiB body is read again
        awaitHeld(0);
        RawHttp.Reply after = exchange(spaces(600 * KiB));
        assertEquals(400, after.status(), after.toString());
    }

    @Test
    void aCompressedBody_holdsWhatItInflatesTo() throws Exception {
        byte[] gzip = gzip(spaces(600 * KiB));
        assertTrue(gzip.length < 4 * KiB, "compressed: " + gzip.length);
        try (Socket holder = hold(400 * KiB)) {
            RawHttp.Reply refused = exchange(gzip, "Content-Encoding: gzip\r\n");
            assertEquals(429, refused.status(), refused.toString());
            assertEquals("{\"error\":\"request bodies in memory reached the server's budget of " + BUDGET
                    + " bytes (--max-body-memory); retry later\"}", refused.bodyText());
            awaitHeld(HOLDER_BUFFER);
        }
        awaitHeld(0);
        // alone, it is inflated and parsed
        RawHttp.Reply alone = exchange(gzip, "Content-Encoding: gzip\r\n");
        assertEquals(400, alone.status(), alone.toString());
        awaitHeld(0);
    }

    @Test
    void grpcMessages_shareTheBudget_unaryAndStreamed() throws Exception {
        // 300 KiB of floats, held twice over (the parsed message and its tensors): 600 KiB past the 512 held
        ModelInferRequest big = identity(300 * KiB / 4);
        try (GrpcClient grpc = new GrpcClient(server.server().grpcPort()); Socket holder = hold(400 * KiB)) {
            Status unary = GrpcClient.failure(() -> grpc.stub().modelInfer(big));
            assertEquals(Status.Code.RESOURCE_EXHAUSTED, unary.getCode(), String.valueOf(unary));
            assertEquals("request bodies in memory reached the server's budget of " + BUDGET
                    + " bytes (--max-body-memory); retry later", unary.getDescription());

            List<ModelStreamInferResponse> answers = grpc.stream(Map.of(), List.of(big.toBuilder().setId("big")
                    .build(), identity(4).toBuilder().setId("small").build()));
            assertEquals(List.of("request bodies in memory reached the server's budget of " + BUDGET
                    + " bytes (--max-body-memory); retry later", ""),
                    answers.stream().map(ModelStreamInferResponse::getErrorMessage).toList());
            assertEquals("small", answers.get(1).getInferResponse().getId());
            awaitHeld(HOLDER_BUFFER);
        }
        awaitHeld(0);
        try (GrpcClient grpc = new GrpcClient(server.server().grpcPort())) {
            // with the budget free the same message is served, and what it held is given back
            ModelInferResponse ok = grpc.stub().modelInfer(big);
            assertEquals(big.getRawInputContents(0), ok.getRawOutputContents(0));
            assertEquals("big", grpc.stream(Map.of(), List.of(big.toBuilder().setId("big").build())).get(0)
                    .getInferResponse().getId());
        }
        awaitHeld(0);
    }

    /**
     * Opens a connection that sends {@code bytes} of a 2 MiB body and no more, and waits until the server holds
     * its buffer. Its buffer doubles from 16 KiB as chunks arrive (Vert.x hands an HTTP/1 body over in chunks of
     * at most 8 KiB by default): 512 KiB for 400 KiB.
     */
    private static Socket hold(int bytes) throws Exception {
        Socket holder = RawHttp.connect(server.server().port(), 10_000);
        OutputStream out = holder.getOutputStream();
        out.write(("POST " + INFER + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                + "Content-Length: " + (2 * BUDGET) + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
        out.write(spaces(bytes));
        out.flush();
        try {
            awaitHeld(Integer.highestOneBit(bytes - 1) << 1);
        } catch (AssertionError e) {
            holder.close();
            throw e;
        }
        return holder;
    }

    /** A ModelInfer request for the identity model with {@code n} floats. */
    private static ModelInferRequest identity(int n) {
        ByteBuffer raw = ByteBuffer.allocate(n * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            raw.putFloat(i % 17);
        }
        return ModelInferRequest.newBuilder().setModelName("identity_fp32")
                .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("input").setDatatype("FP32")
                        .addShape(1).addShape(n))
                .addRawInputContents(ByteString.copyFrom(raw.array())).build();
    }

    @Test
    void aBodyLargerThanTheWholeBudget_isReadWhenItIsAlone() {
        RawHttp.Reply alone = exchange(spaces(3 * BUDGET / 2));
        assertEquals(400, alone.status(), "a body alone is never refused for the budget: " + alone);
        assertTrue(alone.bodyText().contains("error"), alone.toString());
        assertEquals(200, server.postJson(INFER, addRequest()).statusCode());
    }

    /**
     * Waits until the server holds exactly {@code bytes} of request bodies (it reads a body's bytes as they come,
     * and gives them back when the connection's close has reached it), failing with what it holds after 10 s.
     */
    private static void awaitHeld(long bytes) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        double held = held();
        while (held != bytes && System.nanoTime() < deadline) {
            Thread.sleep(10);
            held = held();
        }
        assertEquals((double) bytes, held, "request body bytes held");
    }

    private static double refusals() {
        return server.server().registry().get(MetricNames.REQUEST_BODY_REFUSED.meterName()).functionCounter().count();
    }

    private static double held() {
        return server.server().registry().get(MetricNames.REQUEST_BODY_HELD.meterName()).gauge().value();
    }

    private static RawHttp.Reply exchange(byte[] body) {
        return exchange(body, "");
    }

    private static RawHttp.Reply exchange(byte[] body, String headers) {
        return RawHttp.exchange(server.server().port(), RawHttp.request("POST", INFER,
                "Content-Type: application/json\r\n" + headers, body), 10_000);
    }

    private static byte[] gzip(byte[] data) throws java.io.IOException {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        try (java.util.zip.GZIPOutputStream z = new java.util.zip.GZIPOutputStream(out)) {
            z.write(data);
        }
        return out.toByteArray();
    }

    private static byte[] spaces(int n) {
        return " ".repeat(n).getBytes(StandardCharsets.ISO_8859_1);
    }

    private static String addRequest() {
        return "{\"inputs\":[{\"name\":\"a\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,2,3,4]},"
                + "{\"name\":\"b\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[10,20,30,40]}]}";
    }
}
