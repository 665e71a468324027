package dev.gantry.http.openai;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gantry.core.text.TextTokenizer;
import dev.gantry.http.testing.Bodies;
import dev.gantry.http.testing.ServerFixture;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

import java.net.http.HttpResponse;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Gantry's MiniLM embeddings against the independent reference: the same token ids, and vectors equal to 1e-5,
 * for ASCII, accents, CJK, emoji, the empty string and text over the 256-token limit.
 */
class EmbeddingsReferenceTest {
    static final List<Reference> SENTENCES = Reference.MINILM;
    static ServerFixture server;

    @BeforeAll
    static void start() {
        server = ServerFixture.shared();
    }

    @ParameterizedTest(name = "{0}")
    @FieldSource("SENTENCES")
    void tokenizer_ofTheBundledModel_givesTheReferenceTokenIds(Reference ref) {
        try (TextTokenizer t = TextTokenizer.load(ServerFixture.MODELS.resolve("minilm/1/tokenizer.json"), 256)) {
            assertArrayEquals(ref.tokenIds(), t.encode(ref.text(), true, "input"));
        }
    }

    @ParameterizedTest(name = "{0}")
    @FieldSource("SENTENCES")
    void embeddings_ofOneSentence_matchTheReference(Reference ref) {
        HttpResponse<String> r = Embeddings.post(server, Embeddings.body("minilm", ref.text()), null);

        ref.assertMatches(Embeddings.vectors(r).get(0));
        JsonNode usage = Bodies.parse(r.body()).get("usage");
        assertEquals(ref.tokenIds().length, usage.get("prompt_tokens").intValue());
        assertEquals(ref.tokenIds().length, usage.get("total_tokens").intValue());
    }

    @Test
    void embeddings_ofAllSentencesInOneRequest_matchTheReferenceDespitePadding() {
        List<String> texts = SENTENCES.stream().map(Reference::text).toList();

        List<float[]> vectors = Embeddings.vectors(Embeddings.post(server, Embeddings.body("minilm", texts), null));

        assertEquals(SENTENCES.size(), vectors.size());
        for (int i = 0; i < vectors.size(); i++) {
            SENTENCES.get(i).assertMatches(vectors.get(i));
        }
    }

    @Test
    void embeddings_ofReferenceTokenIds_matchTheReference() {
        List<long[]> ids = SENTENCES.stream().map(Reference::tokenIds).toList();

        List<float[]> vectors = Embeddings.vectors(Embeddings.post(server, Embeddings.body("minilm", ids), null));

        for (int i = 0; i < vectors.size(); i++) {
            SENTENCES.get(i).assertMatches(vectors.get(i));
        }
    }

    @Test
    void usage_ofSeveralInputs_countsEveryTokenIncludingSpecialTokens() {
        List<String> texts = SENTENCES.stream().map(Reference::text).toList();
        int expected = SENTENCES.stream().mapToInt(r -> r.tokenIds().length).sum();

        HttpResponse<String> r = Embeddings.post(server, Embeddings.body("minilm", texts), null);

        assertEquals(expected, Bodies.parse(r.body()).get("usage").get("prompt_tokens").intValue());
    }
}
