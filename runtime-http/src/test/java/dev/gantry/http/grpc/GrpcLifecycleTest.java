package dev.gantry.http.grpc;

import dev.gantry.core.inference.Tensor;
import dev.gantry.core.metrics.MetricNames;
import dev.gantry.core.model.DataType;
import dev.gantry.http.grpc.proto.ModelInferRequest;
import dev.gantry.http.grpc.proto.ModelReadyRequest;
import dev.gantry.http.grpc.proto.RepositoryModelLoadRequest;
import dev.gantry.http.grpc.proto.RepositoryModelUnloadRequest;
import dev.gantry.http.testing.GatedExecutors;
import dev.gantry.http.testing.GrpcClient;
import dev.gantry.http.testing.ServerFixture;
import dev.gantry.http.testing.TempRepository;
import io.grpc.Status;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.RequestOptions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Deadlines and the repository RPCs over gRPC, on a server whose model executions can be held at a gate. */
class GrpcLifecycleTest {
    @TempDir
    static Path dir;
    static GatedExecutors executors = new GatedExecutors();
    static ServerFixture server;
    static GrpcClient client;

    @BeforeAll
    static void start() throws Exception {
        TempRepository repo = new TempRepository(dir.resolve("models")).copy("add_fp32", "add", 1, null)
                .copy("add_fp32", "spare", 1, null).copy("add_fp32", "queued", 1, null);
        server = ServerFixture.start(ServerFixture.config(repo.root(), dir.resolve("data")), executors);
        client = new GrpcClient(server.server().grpcPort());
    }

    @AfterEach
    void openGate() {
        executors.open();
    }

    @AfterAll
    static void stop() {
        client.close();
        server.close();
    }

    static ModelInferRequest add() {
        return add("add");
    }

    static ModelInferRequest add(String model) {
        ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putFloat(1).putFloat(2).putFloat(3)
                .putFloat(4).flip();
        Tensor a = Tensor.of("a", DataType.FP32, new long[] {1, 4}, b);
        return GrpcClient.raw(model, List.of(a, a.withName("b")));
    }

    @Test
    void modelInfer_notAnsweredWithinItsDeadline_isDeadlineExceeded() {
        executors.close();
        Status s = GrpcClient.failure(() -> client.stub().withDeadlineAfter(300, TimeUnit.MILLISECONDS)
                .modelInfer(add()));
        assertEquals(Status.Code.DEADLINE_EXCEEDED, s.getCode());
    }

    @Test
    void modelInfer_grpcTimeout_isAnsweredDeadlineExceededByTheServer() throws Exception {
        executors.close();
        // A raw HTTP/2 call, so the answer is the server's own and not the client's deadline firing
        Vertx vertx = Vertx.vertx();
        try {
            HttpClient http = vertx.createHttpClient(new HttpClientOptions().setProtocolVersion(HttpVersion.HTTP_2)
                    .setHttp2ClearTextUpgrade(false));
            byte[] message = add().toByteArray();
            Buffer body = Buffer.buffer().appendByte((byte) 0).appendInt(message.length).appendBytes(message);
            // The chain is built on the client's event loop, so the response cannot arrive before body() is asked
            java.util.concurrent.CompletableFuture<Map<String, String>> answer = new java.util.concurrent.CompletableFuture<>();
            vertx.runOnContext(v -> http.request(new RequestOptions().setMethod(HttpMethod.POST)
                            .setHost("127.0.0.1").setPort(server.server().grpcPort())
                            .setURI("/inference.GRPCInferenceService/ModelInfer")
                            .putHeader("content-type", "application/grpc").putHeader("te", "trailers")
                            .putHeader("grpc-timeout", "300m"))
                    .compose(req -> req.send(body))
                    .compose(resp -> resp.body().map(b -> {
                        Map<String, String> t = new java.util.HashMap<>();
                        resp.headers().forEach(e -> t.put(e.getKey(), e.getValue()));
                        resp.trailers().forEach(e -> t.put(e.getKey(), e.getValue()));
                        return t;
                    }))
                    .onComplete(ar -> {
                        if (ar.succeeded()) {
                            answer.complete(ar.result());
                        } else {
                            answer.completeExceptionally(ar.cause());
                        }
                    }));
            Map<String, String> trailers = answer.get(30, TimeUnit.SECONDS);
            assertEquals("4", trailers.get("grpc-status"), trailers.toString());
            assertTrue(java.net.URLDecoder.decode(trailers.get("grpc-message"), java.nio.charset.StandardCharsets.UTF_8)
                    .contains("deadline (300 ms) passed"), trailers.toString());
        } finally {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void modelInfer_stillQueuedAtItsDeadline_isDroppedWithoutRunning() throws Exception {
        // its own model, so the per-model meters count only this test's requests
        awaitNothingAtTheGate();
        executors.close();
        client.asyncStub(Map.of()).withDeadlineAfter(30, TimeUnit.SECONDS).modelInfer(add("queued"),
                new io.grpc.stub.StreamObserver<>() {
                    public void onNext(dev.gantry.http.grpc.proto.ModelInferResponse v) { }
                    public void onError(Throwable t) { }
                    public void onCompleted() { }
                });
        executors.awaitWaiting(1);
        Status s = GrpcClient.failure(() -> client.stub().withDeadlineAfter(300, TimeUnit.MILLISECONDS)
                .modelInfer(add("queued")));
        assertEquals(Status.Code.DEADLINE_EXCEEDED, s.getCode());
        awaitCount("error", "DEADLINE_EXCEEDED", 1);
        executors.open();
        awaitCount("success", "none", 1);
        var executions = server.server().registry().find(MetricNames.INFERENCE_COMPUTE_DURATION.meterName())
                .tag("model", "queued").timer();
        assertEquals(1, executions.count(), "only the held request ran; the expired one never did");
        assertEquals(1, requests("error", "DEADLINE_EXCEEDED"), "the queued request expired in the server's queue");
    }

    private static void awaitNothingAtTheGate() throws InterruptedException {
        executors.open();
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (executors.waiting() > 0 && System.nanoTime() < until) {
            Thread.sleep(10);
        }
    }

    private static void awaitCount(String outcome, String error, long n) throws InterruptedException {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (requests(outcome, error) < n && System.nanoTime() < until) {
            Thread.sleep(10);
        }
    }

    private static long requests(String outcome, String error) {
        var t = server.server().registry().find(MetricNames.INFERENCE_REQUEST_DURATION.meterName())
                .tag("model", "queued").tag("outcome", outcome).tag("error", error).timer();
        return t == null ? 0 : t.count();
    }

    @Test
    void repositoryModelUnload_thenLoad_takesTheModelOutOfServiceAndBack() {
        ModelReadyRequest ready = ModelReadyRequest.newBuilder().setName("spare").build();
        assertTrue(client.stub().modelReady(ready).getReady());
        client.stub().repositoryModelUnload(RepositoryModelUnloadRequest.newBuilder().setModelName("spare").build());
        assertFalse(client.stub().modelReady(ready).getReady());
        client.stub().repositoryModelLoad(RepositoryModelLoadRequest.newBuilder().setModelName("spare").build());
        assertTrue(client.stub().modelReady(ready).getReady());
    }

    @Test
    void repositoryModelLoad_unknownModel_isNotFound() {
        Status s = GrpcClient.failure(() -> client.stub().repositoryModelLoad(
                RepositoryModelLoadRequest.newBuilder().setModelName("nope").build()));
        assertEquals(Status.Code.NOT_FOUND, s.getCode());
        assertEquals("no model 'nope' in the repository", s.getDescription());
    }

    @Test
    void repositoryModelLoad_withAFileOverrideOrAnInvalidConfig_isRefusedNotIgnored() {
        Status file = GrpcClient.failure(() -> client.stub().repositoryModelLoad(
                RepositoryModelLoadRequest.newBuilder().setModelName("add").putParameters("file:1/model.onnx",
                        dev.gantry.http.grpc.proto.ModelRepositoryParameter.newBuilder()
                                .setStringParam("AAAA").build()).build()));
        assertEquals(Status.Code.INVALID_ARGUMENT, file.getCode());
        assertTrue(file.getDescription().startsWith("load parameter 'file:1/model.onnx': file overrides are not"
                + " supported"), file.getDescription());
        Status config = GrpcClient.failure(() -> client.stub().repositoryModelLoad(
                RepositoryModelLoadRequest.newBuilder().setModelName("add").putParameters("config",
                        dev.gantry.http.grpc.proto.ModelRepositoryParameter.newBuilder()
                                .setStringParam("{\"max_batch_size\": \"eight\"}").build()).build()));
        assertEquals(Status.Code.INVALID_ARGUMENT, config.getCode());
        assertTrue(config.getDescription().startsWith("the 'config' override is not a valid model configuration"),
                config.getDescription());
    }
}
