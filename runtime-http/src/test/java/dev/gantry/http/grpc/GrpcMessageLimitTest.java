package dev.gantry.http.grpc;

import com.google.protobuf.ByteString;
import dev.gantry.core.lifecycle.ExecutorFactory;
import dev.gantry.http.ServerConfig;
import dev.gantry.http.grpc.proto.ModelInferRequest;
import dev.gantry.http.grpc.proto.ModelInferResponse;
import dev.gantry.http.grpc.proto.ModelStreamInferResponse;
import io.grpc.stub.StreamObserver;
import dev.gantry.http.testing.GrpcClient;
import dev.gantry.http.testing.ServerFixture;
import io.grpc.Status;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.RequestOptions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The gRPC port's largest message is --max-body-bytes, whatever a message's length prefix declares. */
class GrpcMessageLimitTest {
    private static final long MAX_BODY_BYTES = 64 << 10;
    private static ServerFixture server;
    private static GrpcClient client;
    /** A key exists, so every call needs one; this one may invoke. */
    private static Map<String, String> invoker;

    @BeforeAll
    static void start() throws Exception {
        server = ServerFixture.start(ServerFixture.config(ServerFixture.MODELS,
                        Files.createTempDirectory(Path.of("target"), "grpc-limit"))
                .withLimits(ServerConfig.Limits.defaults().withMaxBodyBytes(MAX_BODY_BYTES)),
                ExecutorFactory.onnxRuntime());
        invoker = GrpcClient.bearer(server.server().keys().create("limit-invoke",
                java.util.Set.of(dev.gantry.core.access.Role.INVOKE), java.util.Set.of(), java.util.Optional.empty(),
                java.util.Optional.empty()).token());
        client = new GrpcClient(server.server().grpcPort());
    }

    @AfterAll
    static void stop() {
        if (client != null) {
            client.close();
        }
        if (server != null) {
            server.close();
        }
    }

    private static ModelInferRequest mlp(int rows) {
        ByteBuffer raw = ByteBuffer.allocate(rows * 64 * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < rows * 64; i++) {
            raw.putFloat((i % 13) / 13f);
        }
        return ModelInferRequest.newBuilder().setModelName("mlp")
                .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("features").setDatatype("FP32")
                        .addShape(rows).addShape(64))
                .addRawInputContents(ByteString.copyFrom(raw.array())).build();
    }

    @Test
    void aMessageOverTheLimit_isResourceExhausted_andTheChannelServesOn() {
        ModelInferRequest big = mlp(300); // 76,800 bytes of floats
        assertTrue(big.getSerializedSize() > MAX_BODY_BYTES);
        Status s = GrpcClient.failure(() -> client.stub(invoker).modelInfer(big));
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, s.getCode(), String.valueOf(s));
        assertEquals("a message of " + big.getSerializedSize() + " bytes is over the largest this server accepts, "
                + MAX_BODY_BYTES + " bytes (--max-body-bytes)", s.getDescription());

        ModelInferResponse ok = client.stub(invoker).modelInfer(mlp(2));
        assertEquals("mlp", ok.getModelName());
        assertEquals(1, ok.getRawOutputContentsCount());
    }

    /**
     * Sends {@code data} on a raw HTTP/2 ModelInfer call (prior knowledge, as gRPC clients do), ending the
     * stream only if {@code end}, and describes the answer: HTTP status, grpc-status and grpc-message.
     */
    private static String rawCall(Buffer data, boolean end) throws Exception {
        Vertx vertx = Vertx.vertx();
        try {
            HttpClientAgent h2 = vertx.createHttpClient(new HttpClientOptions().setProtocolVersion(HttpVersion.HTTP_2)
                    .setHttp2ClearTextUpgrade(false));
            CompletableFuture<String> answer = new CompletableFuture<>();
            h2.request(new RequestOptions().setMethod(HttpMethod.POST).setHost("127.0.0.1")
                            .setPort(server.server().grpcPort()).setURI("/inference.GRPCInferenceService/ModelInfer")
                            .putHeader("content-type", "application/grpc").putHeader("te", "trailers")
                            .putHeader("authorization", invoker.get("authorization")))
                    .onFailure(answer::completeExceptionally)
                    .onSuccess(req -> {
                        req.response().onFailure(answer::completeExceptionally).onSuccess(resp -> {
                            resp.exceptionHandler(answer::completeExceptionally);
                            resp.endHandler(v -> answer.complete("status " + resp.statusCode() + " grpc-status "
                                    + either(resp, "grpc-status") + " grpc-message " + either(resp, "grpc-message")));
                        });
                        req.exceptionHandler(answer::completeExceptionally);
                        // DATA frames with no declared length (HTTP/2 needs none)
                        req.setChunked(true);
                        (end ? req.end(data) : req.write(data)).onFailure(answer::completeExceptionally);
                    });
            try {
                return answer.get(20, TimeUnit.SECONDS);
            } catch (java.util.concurrent.ExecutionException e) {
                return "failed: " + e.getCause();
            }
        } finally {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }

    /** A trailers-only answer carries its status in the headers, a full one in the trailers. */
    private static String either(io.vertx.core.http.HttpClientResponse resp, String name) {
        String trailer = resp.getTrailer(name);
        return java.net.URLDecoder.decode(trailer != null ? trailer : String.valueOf(resp.getHeader(name)),
                java.nio.charset.StandardCharsets.UTF_8);
    }

    @Test
    void aMessageOverTheLimit_withoutAKey_isUnauthenticated_notToldTheLimit() {
        Status s = GrpcClient.failure(() -> client.stub().modelInfer(mlp(300)));
        assertEquals(Status.Code.UNAUTHENTICATED, s.getCode(), String.valueOf(s));
        assertFalse(String.valueOf(s.getDescription()).contains("bytes"), s.getDescription());
    }

    @Test
    void aLengthPrefixDeclaringAGigabyte_isRefusedAsSoonAsThePrefixArrives() throws Exception {
        // 1 KiB of a message declared as 1 GiB, and the stream left open: the answer cannot wait for the rest.
        Buffer frame = Buffer.buffer().appendByte((byte) 0).appendInt(1 << 30).appendBytes(new byte[1024]);
        assertEquals("status 200 grpc-status 8 grpc-message a message of 1073741824 bytes is over the largest this"
                + " server accepts, " + MAX_BODY_BYTES + " bytes (--max-body-bytes)", rawCall(frame, false));
        assertEquals(200, server.get("/v2/health/live").statusCode());
    }

    @Test
    void aUnaryCallWithoutAMessage_orWithTwo_isInvalidArgument() throws Exception {
        assertEquals("status 200 grpc-status 3 grpc-message ModelInfer is a unary call: it takes one request message,"
                + " this call sent 0", rawCall(Buffer.buffer(), true));
        Buffer one = Buffer.buffer(mlp(1).toByteArray());
        Buffer two = Buffer.buffer();
        for (int i = 0; i < 2; i++) {
            two.appendByte((byte) 0).appendInt(one.length()).appendBuffer(one);
        }
        assertEquals("status 200 grpc-status 3 grpc-message ModelInfer is a unary call: it takes one request message,"
                + " this call sent 2", rawCall(two, true));
    }

    @Test
    void aStreamMessageOverTheLimit_endsTheStreamAfterTheAnswersBeforeIt() throws Exception {
        List<ModelStreamInferResponse> answers = java.util.Collections.synchronizedList(new ArrayList<>());
        CompletableFuture<Status> ended = new CompletableFuture<>();
        StreamObserver<ModelInferRequest> out = client.asyncStub(invoker).withDeadlineAfter(60, TimeUnit.SECONDS)
                .modelStreamInfer(new StreamObserver<>() {
                    @Override
                    public void onNext(ModelStreamInferResponse value) {
                        answers.add(value);
                    }

                    @Override
                    public void onError(Throwable t) {
                        ended.complete(Status.fromThrowable(t));
                    }

                    @Override
                    public void onCompleted() {
                        ended.complete(Status.OK);
                    }
                });
        out.onNext(mlp(1).toBuilder().setId("first").build());
        out.onNext(mlp(300).toBuilder().setId("too big").build());
        out.onNext(mlp(1).toBuilder().setId("after").build());
        out.onCompleted();
        Status status = ended.get(60, TimeUnit.SECONDS);
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, status.getCode(), String.valueOf(status));
        assertTrue(status.getDescription().startsWith("a message of "), status.getDescription());
        assertEquals(List.of("first"), answers.stream().map(a -> a.getInferResponse().getId()).toList(),
                answers.toString());
        assertEquals("", answers.get(0).getErrorMessage());
    }
}
