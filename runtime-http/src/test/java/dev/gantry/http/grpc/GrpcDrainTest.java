package dev.gantry.http.grpc;

import dev.gantry.core.inference.Tensor;
import dev.gantry.core.model.DataType;
import dev.gantry.http.grpc.proto.ModelInferRequest;
import dev.gantry.http.grpc.proto.ModelInferResponse;
import dev.gantry.http.grpc.proto.ServerReadyRequest;
import dev.gantry.http.testing.GatedExecutors;
import dev.gantry.http.testing.GrpcClient;
import dev.gantry.http.testing.ServerFixture;
import dev.gantry.http.testing.TempRepository;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** Graceful stop over gRPC: new calls are refused UNAVAILABLE while the call already admitted is answered. */
class GrpcDrainTest {
    @TempDir
    Path dir;

    @Test
    void stop_refusesNewCallsUnavailable_andAnswersTheAdmittedOne() throws Exception {
        GatedExecutors executors = new GatedExecutors();
        TempRepository repo = new TempRepository(dir.resolve("models")).copy("add_fp32", "add", 1, null);
        ServerFixture server = ServerFixture.start(ServerFixture.config(repo.root(), dir.resolve("data")), executors);
        try (GrpcClient client = new GrpcClient(server.server().grpcPort())) {
            ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putFloat(1).putFloat(2)
                    .putFloat(3).putFloat(4).flip();
            Tensor a = Tensor.of("a", DataType.FP32, new long[] {1, 4}, b);
            ModelInferRequest request = GrpcClient.raw("add", List.of(a, a.withName("b")));
            executors.close();
            CompletableFuture<ModelInferResponse> admitted = new CompletableFuture<>();
            client.asyncStub(Map.of()).withDeadlineAfter(60, TimeUnit.SECONDS).modelInfer(request,
                    new StreamObserver<>() {
                        public void onNext(ModelInferResponse v) {
                            admitted.complete(v);
                        }

                        public void onError(Throwable t) {
                            admitted.completeExceptionally(t);
                        }

                        public void onCompleted() {
                        }
                    });
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (executors.waiting() == 0 && System.nanoTime() < until) {
                Thread.sleep(10);
            }
            CompletableFuture<Void> stopped = server.server().stop();

            Status refused = GrpcClient.failure(() -> client.stub().modelInfer(request));
            assertEquals(Status.Code.UNAVAILABLE, refused.getCode());
            assertEquals("server is shutting down and admits no new requests", refused.getDescription());
            assertFalse(client.stub().serverReady(ServerReadyRequest.getDefaultInstance()).getReady());

            executors.open();
            ModelInferResponse answer = admitted.get(30, TimeUnit.SECONDS);
            assertArrayEquals(new float[] {2, 4, 6, 8}, floats(answer.getRawOutputContents(0).toByteArray()));
            stopped.get(60, TimeUnit.SECONDS);
        } finally {
            executors.open();
            server.close();
        }
    }

    private static float[] floats(byte[] raw) {
        ByteBuffer b = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
        float[] out = new float[raw.length / 4];
        for (int i = 0; i < out.length; i++) {
            out[i] = b.getFloat();
        }
        return out;
    }
}
