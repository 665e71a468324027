package dev.gantry.http.grpc;

import dev.gantry.core.lifecycle.ExecutorFactory;
import dev.gantry.http.auth.KeyStore;
import dev.gantry.core.access.Role;
import dev.gantry.http.grpc.proto.ModelInferRequest;
import dev.gantry.http.grpc.proto.ModelMetadataRequest;
import dev.gantry.http.grpc.proto.ModelStatisticsRequest;
import dev.gantry.http.grpc.proto.ModelStreamInferResponse;
import dev.gantry.http.grpc.proto.RepositoryIndexRequest;
import dev.gantry.http.grpc.proto.RepositoryModelLoadRequest;
import dev.gantry.http.grpc.proto.ServerLiveRequest;
import dev.gantry.http.testing.GrpcClient;
import dev.gantry.http.testing.ServerFixture;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletionException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The access rules over gRPC: the same keys, roles and model scopes as over HTTP, as gRPC statuses. */
class GrpcAccessTest {
    @TempDir
    static Path data;
    static ServerFixture server;
    static GrpcClient client;
    static String invoke;
    static String invokeMlpOnly;
    static String deploy;

    @BeforeAll
    static void start() {
        server = ServerFixture.start(ServerFixture.config(ServerFixture.MODELS, data), ExecutorFactory.onnxRuntime());
        KeyStore keys = server.server().keys();
        invoke = keys.create("caller", Set.of(Role.INVOKE), Set.of(), Optional.empty(), Optional.empty()).token();
        invokeMlpOnly = keys.create("narrow", Set.of(Role.INVOKE), Set.of("mlp"), Optional.empty(), Optional.empty())
                .token();
        deploy = keys.create("deployer", Set.of(Role.DEPLOY), Set.of(), Optional.empty(), Optional.empty()).token();
        client = new GrpcClient(server.server().grpcPort());
    }

    @AfterAll
    static void stop() {
        client.close();
        server.close();
    }

    static ModelInferRequest addFp32() {
        return GrpcClient.raw("add_fp32", List.of(vector("a"), vector("b")));
    }

    static dev.gantry.core.inference.Tensor vector(String name) {
        ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putFloat(1).putFloat(2).putFloat(3)
                .putFloat(4).flip();
        return dev.gantry.core.inference.Tensor.of(name, dev.gantry.core.model.DataType.FP32, new long[] {1, 4}, b);
    }

    @Test
    void modelInfer_withoutAKey_isUnauthenticated() {
        Status s = GrpcClient.failure(() -> client.stub().modelInfer(addFp32()));
        assertEquals(Status.Code.UNAUTHENTICATED, s.getCode());
        assertEquals("this route needs an API key: send 'Authorization: Bearer <key>'", s.getDescription());
    }

    @Test
    void modelInfer_withAnUnknownKey_isUnauthenticated() {
        Status s = GrpcClient.failure(() -> client.stub(GrpcClient.bearer(
                "gantry_0123456789ab_notARealSecretButWellFormedAAAAAAAAAAAAAAAAAAA")).modelInfer(addFp32()));
        assertEquals(Status.Code.UNAUTHENTICATED, s.getCode());
    }

    @Test
    void modelInfer_withAnInvokeKey_isServed() {
        assertEquals("add_fp32", client.stub(GrpcClient.bearer(invoke)).modelInfer(addFp32()).getModelName());
    }

    @Test
    void modelInfer_withAnInvokeKeyScopedToAnotherModel_isPermissionDenied() {
        Status s = GrpcClient.failure(() -> client.stub(GrpcClient.bearer(invokeMlpOnly)).modelInfer(addFp32()));
        assertEquals(Status.Code.PERMISSION_DENIED, s.getCode());
        assertEquals("key 'narrow' may not use model 'add_fp32'; it is limited to [mlp]", s.getDescription());
    }

    @Test
    void modelMetadata_withAnInvokeKeyScopedToAnotherModel_isPermissionDenied() {
        Status s = GrpcClient.failure(() -> client.stub(GrpcClient.bearer(invokeMlpOnly))
                .modelMetadata(ModelMetadataRequest.newBuilder().setName("add_fp32").build()));
        assertEquals(Status.Code.PERMISSION_DENIED, s.getCode());
    }

    @Test
    void modelStatistics_ofEveryModel_withAScopedKey_showsOnlyItsModels() {
        var stats = client.stub(GrpcClient.bearer(invokeMlpOnly))
                .modelStatistics(ModelStatisticsRequest.getDefaultInstance()).getModelStatsList();
        assertTrue(!stats.isEmpty() && stats.stream().allMatch(s -> s.getName().equals("mlp")), stats.toString());
    }

    @Test
    void serverLive_withoutAKey_isOpen_asHealthIsOverHttp() {
        assertTrue(client.stub().serverLive(ServerLiveRequest.getDefaultInstance()).getLive());
    }

    @Test
    void repositoryModelLoad_withAnInvokeKey_isPermissionDenied() {
        Status s = GrpcClient.failure(() -> client.stub(GrpcClient.bearer(invoke))
                .repositoryModelLoad(RepositoryModelLoadRequest.newBuilder().setModelName("mlp").build()));
        assertEquals(Status.Code.PERMISSION_DENIED, s.getCode());
        assertTrue(s.getDescription().startsWith("key 'caller' (roles [invoke]) may not use deploy routes"),
                s.getDescription());
    }

    @Test
    void repositoryModelLoad_withADeployKey_loads() {
        client.stub(GrpcClient.bearer(deploy))
                .repositoryModelLoad(RepositoryModelLoadRequest.newBuilder().setModelName("mlp").build());
        assertTrue(server.server().lifecycle().versions("mlp").stream().anyMatch(v -> v.isReady()));
    }

    @Test
    void repositoryIndex_withADeployKey_isServed() {
        assertTrue(client.stub(GrpcClient.bearer(deploy)).repositoryIndex(RepositoryIndexRequest.getDefaultInstance())
                .getModelsCount() > 0);
    }

    @Test
    void modelStreamInfer_withoutAKey_endsTheStreamUnauthenticated() {
        CompletionException e = assertThrows(CompletionException.class,
                () -> client.stream(Map.of(), List.of(addFp32())));
        StatusRuntimeException cause = assertInstanceOf(StatusRuntimeException.class, e.getCause());
        assertEquals(Status.Code.UNAUTHENTICATED, cause.getStatus().getCode());
    }

    @Test
    void modelStreamInfer_messageForAModelOutsideTheKeysScope_isRefusedAndTheStreamGoesOn() {
        ModelInferRequest mlp = GrpcClient.raw("mlp", List.of(dev.gantry.core.inference.Tensor.of("features",
                dev.gantry.core.model.DataType.FP32, new long[] {1, 64}, ByteBuffer.allocate(256))));
        List<ModelStreamInferResponse> answers = client.stream(GrpcClient.bearer(invokeMlpOnly),
                List.of(addFp32(), mlp));
        assertEquals(2, answers.size());
        assertEquals("key 'narrow' may not use model 'add_fp32'; it is limited to [mlp]",
                answers.get(0).getErrorMessage());
        assertEquals("", answers.get(1).getErrorMessage());
        assertEquals("mlp", answers.get(1).getInferResponse().getModelName());
    }
}
