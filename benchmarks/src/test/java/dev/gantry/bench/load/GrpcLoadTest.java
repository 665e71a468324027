package dev.gantry.bench.load;

import dev.gantry.core.inference.Tensor;
import dev.gantry.core.model.DataType;
import dev.gantry.http.grpc.proto.ModelInferRequest;
import dev.gantry.http.grpc.proto.ModelInferResponse;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The gRPC arm's client against a trivial in-process gRPC responder: framing, statuses, counts. */
class GrpcLoadTest {
    private Vertx vertx;
    private HttpServer server;
    private volatile String status = "0";
    private final AtomicInteger wellFormed = new AtomicInteger();

    @BeforeEach
    void startServer() {
        vertx = Vertx.vertx();
        server = vertx.createHttpServer(new HttpServerOptions().setHttp2ClearTextEnabled(true)).requestHandler(req ->
                req.body().onSuccess(body -> {
                    int length = body.getInt(1);
                    try {
                        ModelInferRequest r = ModelInferRequest.parseFrom(body.getBytes(5, 5 + length));
                        if (req.path().equals(LoadRequest.GRPC_MODEL_INFER) && r.getModelName().equals("mlp")
                                && r.getRawInputContents(0).size() == 256
                                && "application/grpc".equals(req.getHeader("content-type"))) {
                            wellFormed.incrementAndGet();
                        }
                    } catch (Exception e) {
                        req.response().setStatusCode(400).end();
                        return;
                    }
                    byte[] answer = ModelInferResponse.newBuilder().setModelName("mlp").build().toByteArray();
                    req.response().putHeader("content-type", "application/grpc")
                            .putHeader("gantry-model-version", "1")
                            .write(Buffer.buffer().appendByte((byte) 0).appendInt(answer.length).appendBytes(answer));
                    req.response().putTrailer("grpc-status", status).end();
                })).listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().join();
    }

    @AfterEach
    void stopServer() {
        vertx.close().toCompletionStage().toCompletableFuture().join();
    }

    private static LoadRequest mlp() {
        return LoadRequest.grpcInfer("mlp", List.of(Tensor.of("features", DataType.FP32, new long[] {1, 64},
                ByteBuffer.allocate(256))));
    }

    @Test
    void closedLoop_grpcCalls_allSucceedAndCountTheServingVersion() throws Exception {
        try (HttpLoadGenerator gen = new HttpLoadGenerator("127.0.0.1", 1, 8, Duration.ofSeconds(5), 10_000,
                HttpLoadGenerator.IDLE_LIMIT, server.actualPort())) {
            Measurement m = gen.closedLoop(mlp(), 4, Duration.ofMillis(500));
            assertTrue(m.ok() > 0);
            assertEquals(0, m.errors(), () -> "errors: " + m.errorKinds());
            assertEquals(m.ok(), wellFormed.get());
            assertEquals(Map.of("1", m.ok()), m.servedBy());
        }
    }

    @Test
    void closedLoop_grpcStatusOtherThanOk_isCountedAsThatError() throws Exception {
        status = "5";
        try (HttpLoadGenerator gen = new HttpLoadGenerator("127.0.0.1", 1, 8, Duration.ofSeconds(5), 10_000,
                HttpLoadGenerator.IDLE_LIMIT, server.actualPort())) {
            Measurement m = gen.closedLoop(mlp(), 2, Duration.ofMillis(300));
            assertEquals(0, m.ok());
            assertEquals(Map.of("grpc-status-5", m.errors()), m.errorKinds());
        }
    }

    @Test
    void grpcRequest_withoutAGrpcPort_failsAsNoGrpcPort() throws Exception {
        try (HttpLoadGenerator gen = new HttpLoadGenerator("127.0.0.1", 1, 8, Duration.ofSeconds(5), 10_000)) {
            Measurement m = gen.openLoop(mlp(), 100, Duration.ofMillis(100));
            assertEquals(Map.of("no-grpc-port", m.errors()), m.errorKinds());
        }
    }
}
