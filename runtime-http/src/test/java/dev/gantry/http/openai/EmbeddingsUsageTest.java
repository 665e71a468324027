package dev.gantry.http.openai;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gantry.core.access.Role;
import dev.gantry.core.lifecycle.ExecutorFactory;
import dev.gantry.http.testing.Bodies;
import dev.gantry.http.testing.ServerFixture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Embeddings calls count toward their key's usage like OIP requests, with the prompt tokens they used. */
class EmbeddingsUsageTest {
    @TempDir
    Path data;

    @Test
    void embeddings_countRequestsRowsAndPromptTokens_perKey() {
        try (ServerFixture server = ServerFixture.start(ServerFixture.config(ServerFixture.MODELS, data),
                ExecutorFactory.onnxRuntime())) {
            String admin = server.server().keys().create("root", Set.of(Role.ADMIN), Set.of(), Optional.empty(),
                    Optional.empty()).token();
            String app = server.server().keys().create("text-app", Set.of(Role.INVOKE), Set.of(), Optional.empty(),
                    Optional.empty()).token();
            long tokens = 0;
            for (String body : new String[] {"{\"model\":\"minilm\",\"input\":\"a short sentence\"}",
                    "{\"model\":\"minilm\",\"input\":[\"two\",\"sentences here\"]}"}) {
                HttpResponse<String> r = server.send(HttpRequest.newBuilder(server.uri("/v1/embeddings"))
                        .header("Authorization", "Bearer " + app).header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(body)).build());
                assertEquals(200, r.statusCode(), r.body());
                tokens += Bodies.parse(r.body()).path("usage").path("prompt_tokens").asLong();
            }
            HttpResponse<String> u = server.send(HttpRequest.newBuilder(
                    server.uri("/admin/v1/usage?key=text-app&group_by=key")).header("Authorization", "Bearer " + admin)
                    .GET().build());
            assertEquals(200, u.statusCode(), u.body());
            JsonNode row = Bodies.parse(u.body()).path("usage").get(0);
            assertEquals(2, row.path("requests").asLong(), row.toString());
            assertEquals(3, row.path("rows").asLong(), row.toString());
            assertEquals(tokens, row.path("tokens").asLong(), row.toString());
        }
    }
}
