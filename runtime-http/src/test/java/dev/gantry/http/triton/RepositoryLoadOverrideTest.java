package dev.gantry.http.triton;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.ByteString;
import dev.gantry.core.lifecycle.ExecutorFactory;
import dev.gantry.http.grpc.proto.ModelRepositoryParameter;
import dev.gantry.http.grpc.proto.RepositoryModelLoadRequest;
import dev.gantry.http.testing.Bodies;
import dev.gantry.http.testing.GrpcClient;
import dev.gantry.http.testing.ServerFixture;
import dev.gantry.http.testing.TempRepository;
import io.grpc.Status;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Triton's repository load with a {@code config} parameter, as its clients send it: the override applies to that
 * load (and shows in the model's configuration); an invalid one, a {@code file:} override or an unknown parameter
 * is a 400 naming it, never silently ignored.
 */
class RepositoryLoadOverrideTest {
    @TempDir
    Path dir;

    @Test
    void load_withAConfigOverride_reloadsWithIt_andRefusesWhatItCannotApply() throws Exception {
        TempRepository repo = new TempRepository(dir.resolve("models"));
        repo.copy("mlp", "over", 1, "{\"max_batch_size\": 16, \"dynamic_batching\": {}}");
        try (ServerFixture server = ServerFixture.start(ServerFixture.config(repo.root(), dir.resolve("data")),
                ExecutorFactory.onnxRuntime())) {
            assertEquals(16, config(server).path("max_batch_size").asInt());

            HttpResponse<String> ok = load(server, "{\"parameters\":{\"config\":"
                    + Bodies.JSON.valueToTree("{\"max_batch_size\": 4, \"dynamic_batching\": {}}") + "}}");
            assertEquals(200, ok.statusCode(), ok.body());
            assertEquals(4, config(server).path("max_batch_size").asInt());

            HttpResponse<String> bad = load(server, "{\"parameters\":{\"config\":\"{\\\"max_batch_size\\\": \\\"x\\\"}\"}}");
            assertEquals(400, bad.statusCode(), bad.body());
            assertTrue(bad.body().contains("the 'config' override is not a valid model configuration"), bad.body());
            HttpResponse<String> file = load(server, "{\"parameters\":{\"file:1/model.onnx\":\"AAAA\"}}");
            assertEquals(400, file.statusCode(), file.body());
            assertTrue(file.body().contains("file overrides are not supported"), file.body());
            HttpResponse<String> unknown = load(server, "{\"parameters\":{\"colour\":\"blue\"}}");
            assertEquals(400, unknown.statusCode(), unknown.body());
            assertTrue(unknown.body().contains("unknown load parameter 'colour'"), unknown.body());
            assertEquals(4, config(server).path("max_batch_size").asInt(), "refused loads changed nothing");

            HttpResponse<String> audit = server.send(HttpRequest.newBuilder(
                    server.uri("/admin/v1/audit?model=over&limit=50")).GET().build());
            assertEquals(200, audit.statusCode(), audit.body());
            assertTrue(audit.body().contains("with a config override"), "the override load is audited: "
                    + audit.body());

            // The same over gRPC, as Triton's gRPC client sends it: a string parameter named config.
            try (GrpcClient client = new GrpcClient(server.server().grpcPort())) {
                client.stub().repositoryModelLoad(RepositoryModelLoadRequest.newBuilder().setModelName("over")
                        .putParameters("config", ModelRepositoryParameter.newBuilder()
                                .setStringParam("{\"max_batch_size\": 2, \"dynamic_batching\": {}}").build())
                        .build());
                assertEquals(2, config(server).path("max_batch_size").asInt());
                Status invalid = GrpcClient.failure(() -> client.stub().repositoryModelLoad(
                        RepositoryModelLoadRequest.newBuilder().setModelName("over").putParameters("config",
                                ModelRepositoryParameter.newBuilder().setStringParam("{\"max_batch_size\": \"x\"}")
                                        .build()).build()));
                assertEquals(Status.Code.INVALID_ARGUMENT, invalid.getCode());
                assertTrue(invalid.getDescription().contains("the 'config' override is not a valid model configuration"),
                        invalid.getDescription());
                Status fileOverride = GrpcClient.failure(() -> client.stub().repositoryModelLoad(
                        RepositoryModelLoadRequest.newBuilder().setModelName("over").putParameters("file:1/model.onnx",
                                ModelRepositoryParameter.newBuilder().setBytesParam(ByteString.copyFromUtf8("x"))
                                        .build()).build()));
                assertEquals(Status.Code.INVALID_ARGUMENT, fileOverride.getCode());
                assertTrue(fileOverride.getDescription().contains("file overrides are not supported"),
                        fileOverride.getDescription());
                assertEquals(2, config(server).path("max_batch_size").asInt(), "refused loads changed nothing");
            }
        }
    }

    private static HttpResponse<String> load(ServerFixture server, String body) {
        return server.send(HttpRequest.newBuilder(server.uri("/v2/repository/models/over/load"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build());
    }

    private static JsonNode config(ServerFixture server) {
        HttpResponse<String> r = server.send(HttpRequest.newBuilder(server.uri("/v2/models/over/config")).GET().build());
        assertEquals(200, r.statusCode(), r.body());
        return Bodies.parse(r.body());
    }
}
