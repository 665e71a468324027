package dev.gantry.http.openai;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gantry.http.auth.KeyStore;
import dev.gantry.core.access.Role;
import dev.gantry.http.testing.Bodies;
import dev.gantry.http.testing.ServerFixture;
import dev.gantry.http.testing.TempRepository;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A server with keys and a text model in two versions: /v1 routes follow the same access rules as OIP routes,
 * and a version is pinned as {@code name:version}.
 */
class EmbeddingsAccessAndVersionsTest {
    static final String TEXT_CONFIG = """
            {"max_batch_size": 8, "dynamic_batching": {}, "version_policy": {"all": {}},
             "gantry": {"text": {"max_tokens": 256}}}""";

    @TempDir
    static Path root;
    static ServerFixture server;
    static String admin;
    static String invokeAll;
    static String invokeMlpOnly;
    static String invokeTextOnly;

    @BeforeAll
    static void start() throws Exception {
        Path models = root.resolve("models");
        TempRepository repo = new TempRepository(models)
                .copy("minilm", "text", 1, TEXT_CONFIG)
                .copy("minilm", "text", 2, null)
                .copy("mlp", "mlp", 1, Files.readString(ServerFixture.MODELS.resolve("mlp/config.json")));
        for (int v = 1; v <= 2; v++) {
            Files.copy(ServerFixture.MODELS.resolve("minilm/1/tokenizer.json"),
                    models.resolve("text/" + v + "/tokenizer.json"));
        }
        server = ServerFixture.start(ServerFixture.config(repo.root(), root.resolve("data")),
                dev.gantry.core.lifecycle.ExecutorFactory.onnxRuntime());
        KeyStore keys = server.server().keys();
        admin = keys.create("root", Set.of(Role.ADMIN), Set.of(), Optional.empty(), Optional.empty()).token();
        invokeAll = keys.create("app", Set.of(Role.INVOKE), Set.of(), Optional.empty(), Optional.empty()).token();
        invokeMlpOnly = keys.create("mlp-app", Set.of(Role.INVOKE), Set.of("mlp"), Optional.empty(),
                Optional.empty()).token();
        invokeTextOnly = keys.create("text-app", Set.of(Role.INVOKE), Set.of("text"), Optional.empty(),
                Optional.empty()).token();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    static Set<String> listed(String token) {
        HttpResponse<String> r = Embeddings.get(server, "/v1/models", token);
        assertEquals(200, r.statusCode(), r.body());
        JsonNode root = Bodies.parse(r.body());
        assertEquals("list", root.get("object").textValue());
        Set<String> ids = new HashSet<>();
        root.get("data").forEach(m -> {
            assertEquals("model", m.get("object").textValue());
            ids.add(m.get("id").textValue());
        });
        return ids;
    }

    @Test
    void embeddings_withoutKey_is401InOpenAiShape() {
        JsonNode e = Embeddings.error(Embeddings.post(server, Embeddings.body("text", "hi"), null), 401);

        assertEquals("authentication_error", e.get("type").textValue());
    }

    @Test
    void embeddings_withInvokeKeyScopedToAnotherModel_is403() {
        JsonNode e = Embeddings.error(Embeddings.post(server, Embeddings.body("text", "hi"), invokeMlpOnly), 403);

        assertEquals("permission_error", e.get("type").textValue());
        assertTrue(e.get("message").textValue().contains("may not use model 'text'"), e.toString());
    }

    @Test
    void embeddings_withInvokeKeyScopedToTheModel_is200() {
        assertEquals(1, Embeddings.vectors(Embeddings.post(server, Embeddings.body("text", "hi"), invokeTextOnly)).size());
    }

    @Test
    void embeddings_withUnscopedInvokeKey_is200() {
        assertEquals(1, Embeddings.vectors(Embeddings.post(server, Embeddings.body("text", "hi"), invokeAll)).size());
    }

    @Test
    void models_hidesTextModelsTheKeyMayNotUse() {
        assertEquals(Set.of(), listed(invokeMlpOnly));
    }

    @Test
    void models_showsTextModelsTheKeyMayUse() {
        assertEquals(Set.of("text"), listed(invokeTextOnly));
        assertEquals(Set.of("text"), listed(admin));
    }

    @Test
    void models_withoutKey_is401() {
        Embeddings.error(Embeddings.get(server, "/v1/models", null), 401);
    }

    @Test
    void modelsGet_ofAnotherModelsKey_is403AndOfANonTextModel_is404() {
        Embeddings.error(Embeddings.get(server, "/v1/models/text", invokeMlpOnly), 403);
        Embeddings.error(Embeddings.get(server, "/v1/models/mlp", admin), 404);
        assertEquals("text", Bodies.parse(Embeddings.get(server, "/v1/models/text", admin).body()).get("id").textValue());
    }

    @Test
    void unversionedModel_isServedByTheHighestVersion() {
        HttpResponse<String> r = Embeddings.post(server, Embeddings.body("text", "hi"), admin);

        assertEquals(200, r.statusCode(), r.body());
        assertEquals("2", r.headers().firstValue("Gantry-Model-Version").orElseThrow());
    }

    @Test
    void pinnedVersion_isServedByThatVersionAndEchoed() {
        HttpResponse<String> r = Embeddings.post(server, Embeddings.body("text:1", "hi"), admin);

        assertEquals(200, r.statusCode(), r.body());
        assertEquals("1", r.headers().firstValue("Gantry-Model-Version").orElseThrow());
        assertEquals("text:1", Bodies.parse(r.body()).get("model").textValue());
    }

    @Test
    void pinnedVersionThatDoesNotExist_is404() {
        JsonNode e = Embeddings.error(Embeddings.post(server, Embeddings.body("text:9", "hi"), admin), 404);

        assertTrue(e.get("message").textValue().contains("has no version 9"), e.toString());
    }

    @Test
    void pinnedVersion_withKeyScopedToAnotherModel_is403() {
        Embeddings.error(Embeddings.post(server, Embeddings.body("text:1", "hi"), invokeMlpOnly), 403);
    }

    @Test
    void accessLog_namesTheCallerTheModelAndTheVersionOfAnEmbeddingsCall(@TempDir Path dir) throws Exception {
        Path log = dir.resolve("access.jsonl");
        dev.gantry.http.ServerConfig c = ServerFixture.config(root.resolve("models"), dir.resolve("data"));
        c = c.withSecurity(c.security().withAccessLog(log.toString()));
        try (ServerFixture own = ServerFixture.start(c, dev.gantry.core.lifecycle.ExecutorFactory.onnxRuntime())) {
            String token = own.server().keys().create("search-svc", Set.of(Role.INVOKE), Set.of(), Optional.empty(),
                    Optional.empty()).token();
            assertEquals(200, Embeddings.post(own, Embeddings.body("text:1", "hi"), token).statusCode());
        }

        JsonNode line = Bodies.parse(Files.readAllLines(log).stream().filter(l -> l.contains("/v1/embeddings"))
                .findFirst().orElseThrow());
        assertEquals("search-svc", line.get("caller").asText());
        assertEquals("text", line.get("model").asText());
        assertEquals("1", line.get("version").asText());
        assertEquals(200, line.get("status").asInt());
    }
}
