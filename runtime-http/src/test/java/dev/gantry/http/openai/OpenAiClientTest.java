package dev.gantry.http.openai;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.errors.BadRequestException;
import com.openai.errors.NotFoundException;
import com.openai.models.embeddings.CreateEmbeddingResponse;
import com.openai.models.embeddings.EmbeddingCreateParams;
import com.openai.models.models.Model;
import dev.gantry.http.testing.ServerFixture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The official OpenAI Java client calling Gantry's /v1 routes as it would call OpenAI. */
class OpenAiClientTest {
    static ServerFixture server;
    static OpenAIClient client;

    @BeforeAll
    static void start() {
        server = ServerFixture.shared();
        client = OpenAIOkHttpClient.builder().baseUrl(server.uri("/v1").toString()).apiKey("unused-on-an-open-server")
                .maxRetries(0).build();
    }

    @AfterAll
    static void stop() {
        client.close();
    }

    static float[] floats(List<Float> values) {
        float[] out = new float[values.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = values.get(i);
        }
        return out;
    }

    @Test
    void embeddingsCreate_onMiniLm_returnsTheReferenceVectors() {
        List<Reference> refs = Reference.MINILM;
        CreateEmbeddingResponse r = client.embeddings().create(EmbeddingCreateParams.builder().model("minilm")
                .inputOfArrayOfStrings(refs.stream().map(Reference::text).toList())
                .encodingFormat(EmbeddingCreateParams.EncodingFormat.FLOAT).build());

        assertEquals(refs.size(), r.data().size());
        for (int i = 0; i < refs.size(); i++) {
            assertEquals(i, r.data().get(i).index());
            refs.get(i).assertMatches(floats(r.data().get(i).embedding()));
        }
        assertEquals("minilm", r.model());
        assertEquals(refs.stream().mapToLong(x -> x.tokenIds().length).sum(), r.usage().promptTokens());
    }

    @Test
    void embeddingsCreate_withBase64Encoding_decodesToTheReferenceVector() {
        Reference ref = Reference.named("accents");
        CreateEmbeddingResponse r = client.embeddings().create(EmbeddingCreateParams.builder().model("minilm")
                .input(ref.text()).encodingFormat(EmbeddingCreateParams.EncodingFormat.BASE64).build());

        assertTrue(r.data().get(0).embeddingValue().isBase64());
        ref.assertMatches(Embeddings.vector(com.fasterxml.jackson.databind.node.TextNode.valueOf(
                r.data().get(0).embeddingValue().asBase64())));
    }

    @Test
    void embeddingsCreate_withTokenIds_returnsTheReferenceVector() {
        Reference ref = Reference.named("emoji");
        CreateEmbeddingResponse r = client.embeddings().create(EmbeddingCreateParams.builder().model("minilm")
                .inputOfArrayOfTokens(java.util.Arrays.stream(ref.tokenIds()).boxed().toList())
                .encodingFormat(EmbeddingCreateParams.EncodingFormat.FLOAT).build());

        ref.assertMatches(floats(r.data().get(0).embedding()));
    }

    @Test
    void modelsList_showsTheTextModelsOnly() {
        Set<String> ids = client.models().list().autoPager().stream().map(Model::id).collect(Collectors.toSet());

        assertEquals(Set.of("minilm", "minilm-q"), ids);
    }

    @Test
    void embeddingsCreate_unknownModel_raisesNotFoundWithOpenAiErrorFields() {
        NotFoundException e = assertThrows(NotFoundException.class, () -> client.embeddings().create(
                EmbeddingCreateParams.builder().model("no-such-model").input("hello").build()));

        assertEquals(404, e.statusCode());
        assertEquals("model_not_found", e.code().orElseThrow());
        assertEquals("model", e.param().orElseThrow());
        assertEquals("invalid_request_error", e.type().orElseThrow());
    }

    @Test
    void embeddingsCreate_nonTextModel_raisesBadRequest() {
        BadRequestException e = assertThrows(BadRequestException.class, () -> client.embeddings().create(
                EmbeddingCreateParams.builder().model("add_fp32").input("hello").build()));

        assertTrue(e.getMessage().contains("not a text embedding model"), e.getMessage());
    }
}
