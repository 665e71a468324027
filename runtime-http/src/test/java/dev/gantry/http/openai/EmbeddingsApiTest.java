package dev.gantry.http.openai;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gantry.http.testing.Bodies;
import dev.gantry.http.testing.ServerFixture;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code POST /v1/embeddings} on the bundled models: encodings, limits, batching, and every refusal's status. */
class EmbeddingsApiTest {
    static ServerFixture server;

    @BeforeAll
    static void start() {
        server = ServerFixture.shared();
    }

    static List<float[]> embed(String model, Object input) {
        return Embeddings.vectors(Embeddings.post(server, Embeddings.body(model, input), null));
    }

    @Test
    void base64Encoding_decodesToTheSameFloatsAsFloatEncoding() {
        String text = Reference.named("cjk-japanese").text();
        float[] plain = embed("minilm", text).get(0);

        HttpResponse<String> r = Embeddings.post(server,
                "{\"model\":\"minilm\",\"input\":" + Bodies.JSON.valueToTree(text) + ",\"encoding_format\":\"base64\"}",
                null);

        assertTrue(Bodies.parse(r.body()).get("data").get(0).get("embedding").isTextual(), r.body());
        assertArrayEquals(plain, Embeddings.vectors(r).get(0));
    }

    @Test
    void response_hasOpenAiShapeAndEchoesTheModel() {
        JsonNode root = Bodies.parse(Embeddings.post(server, Embeddings.body("minilm", "hello"), null).body());

        assertEquals("list", root.get("object").textValue());
        assertEquals("minilm", root.get("model").textValue());
        assertEquals(384, root.get("data").get(0).get("embedding").size());
        assertEquals(3, root.get("usage").get("prompt_tokens").intValue());
        assertEquals(3, root.get("usage").get("total_tokens").intValue());
    }

    @Test
    void dimensions_equalToTheModels_isAccepted() {
        HttpResponse<String> r = Embeddings.post(server, "{\"model\":\"minilm\",\"input\":\"hi\",\"dimensions\":384}",
                null);

        assertEquals(384, Embeddings.vectors(r).get(0).length);
    }

    @Test
    void dimensions_otherThanTheModels_isRefusedWith400NamingBoth() {
        JsonNode e = Embeddings.error(Embeddings.post(server,
                "{\"model\":\"minilm\",\"input\":\"hi\",\"dimensions\":128}", null), 400);

        assertEquals("dimensions", e.get("param").textValue());
        assertTrue(e.get("message").textValue().contains("384, was 128"), e.toString());
    }

    @Test
    void overLongText_isTruncatedToMaxTokensByDefault() {
        HttpResponse<String> r = Embeddings.post(server, Embeddings.body("minilm", Reference.named("over-long").text()),
                null);

        assertEquals(200, r.statusCode(), r.body());
        assertEquals(256, Bodies.parse(r.body()).get("usage").get("prompt_tokens").intValue());
    }

    @Test
    void overLongText_withTruncateFalse_isRefusedWith400() {
        String body = "{\"model\":\"minilm\",\"truncate\":false,\"input\":[\"short\","
                + Bodies.JSON.valueToTree(Reference.named("over-long").text()) + "]}";

        JsonNode e = Embeddings.error(Embeddings.post(server, body, null), 400);

        assertTrue(e.get("message").textValue().startsWith("input[1] is longer than the model's limit of 256 tokens"),
                e.toString());
        assertEquals("input", e.get("param").textValue());
    }

    @Test
    void textWithinTheLimit_withTruncateFalse_isEmbedded() {
        HttpResponse<String> r = Embeddings.post(server, "{\"model\":\"minilm\",\"truncate\":false,\"input\":\"hi\"}",
                null);

        assertEquals(200, r.statusCode(), r.body());
    }

    @Test
    void unknownModel_is404WithModelNotFound() {
        JsonNode e = Embeddings.error(Embeddings.post(server, Embeddings.body("nope", "hi"), null), 404);

        assertEquals("model_not_found", e.get("code").textValue());
        assertEquals("model", e.get("param").textValue());
        assertEquals("invalid_request_error", e.get("type").textValue());
    }

    @Test
    void nonTextModel_is400SayingItHasNoTextSection() {
        JsonNode e = Embeddings.error(Embeddings.post(server, Embeddings.body("mlp", "hi"), null), 400);

        assertTrue(e.get("message").textValue().contains("no gantry.text section"), e.toString());
    }

    static Stream<Arguments> badBodies() {
        return Stream.of(
                Arguments.of("empty input list", "{\"model\":\"minilm\",\"input\":[]}", "input must not be an empty list"),
                Arguments.of("input missing", "{\"model\":\"minilm\"}", "input is missing"),
                Arguments.of("input a number", "{\"model\":\"minilm\",\"input\":42}", "input must be a string"),
                Arguments.of("input an object", "{\"model\":\"minilm\",\"input\":{}}", "input must be a string"),
                Arguments.of("mixed list", "{\"model\":\"minilm\",\"input\":[\"a\",1]}", "input[1] is a number 1"),
                Arguments.of("token id a string", "{\"model\":\"minilm\",\"input\":[101,\"x\",102]}",
                        "input[1] must be a token id"),
                Arguments.of("negative token id", "{\"model\":\"minilm\",\"input\":[[101,-5,102]]}",
                        "input[0][1] must be a token id"),
                Arguments.of("token id outside the vocabulary", "{\"model\":\"minilm\",\"input\":[101,99999,102]}",
                        "input holds token id 99999, outside the model's vocabulary [0, 30522)"),
                Arguments.of("empty token list", "{\"model\":\"minilm\",\"input\":[[]]}",
                        "input[0] is an empty list of token ids"),
                Arguments.of("too many token ids", "{\"model\":\"minilm\",\"input\":" + java.util.Arrays.toString(
                        new long[300]) + "}", "more than the model's limit of 256"),
                Arguments.of("model missing", "{\"input\":\"hi\"}", "model must be a non-empty string"),
                Arguments.of("model a number", "{\"model\":7,\"input\":\"hi\"}", "model must be a non-empty string"),
                Arguments.of("bad version", "{\"model\":\"minilm:x\",\"input\":\"hi\"}", "must be a version"),
                Arguments.of("bad encoding", "{\"model\":\"minilm\",\"input\":\"hi\",\"encoding_format\":\"hex\"}",
                        "encoding_format must be 'float' or 'base64'"),
                Arguments.of("dimensions a string", "{\"model\":\"minilm\",\"input\":\"hi\",\"dimensions\":\"9\"}",
                        "dimensions must be a positive integer"),
                Arguments.of("truncate a string", "{\"model\":\"minilm\",\"input\":\"hi\",\"truncate\":\"no\"}",
                        "truncate must be true or false"),
                Arguments.of("unknown field", "{\"model\":\"minilm\",\"input\":\"hi\",\"temperature\":1}",
                        "unknown field 'temperature'"),
                Arguments.of("not an object", "[1,2]", "must be a JSON object"),
                Arguments.of("not JSON", "{\"model\":", "not valid JSON"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badBodies")
    void badRequest_isRefusedWith400NamingTheProblem(String name, String body, String message) {
        JsonNode e = Embeddings.error(Embeddings.post(server, body, null), 400);

        assertTrue(e.get("message").textValue().contains(message), e.toString());
        assertEquals("invalid_request_error", e.get("type").textValue());
    }

    @Test
    void tooManyInputs_isRefusedWith400() {
        List<String> texts = java.util.Collections.nCopies(EmbeddingsBody.MAX_INPUTS + 1, "x");

        JsonNode e = Embeddings.error(Embeddings.post(server, Embeddings.body("minilm", texts), null), 400);

        assertTrue(e.get("message").textValue().contains("more than the limit of 2048"), e.toString());
    }

    @Test
    void moreInputsThanMaxBatchSize_areAllEmbeddedInOrder() {
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < 70; i++) {
            texts.add("sentence number " + i + (i % 3 == 0 ? " with a few more words" : ""));
        }

        List<float[]> all = embed("minilm", texts);

        assertEquals(70, all.size());
        for (int i : new int[]{0, 31, 32, 69}) {
            float[] alone = embed("minilm", texts.get(i)).get(0);
            for (int d = 0; d < alone.length; d++) {
                assertEquals(alone[d], all.get(i)[d], 1e-6, "input " + i);
            }
        }
    }

    /** Equal-length sentences sent at once by many clients, so the dynamic batcher joins them. */
    @Test
    void concurrentRequests_batchedTogether_giveTheSameVectorsAsSingleOnes() throws Exception {
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < 24; i++) {
            texts.add("alpha beta gamma " + (char) ('a' + i % 26));
        }
        List<float[]> single = new ArrayList<>();
        for (String t : texts) {
            single.add(embed("minilm", t).get(0));
        }
        ExecutorService pool = Executors.newFixedThreadPool(texts.size());
        try {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<float[]>> futures = new ArrayList<>();
            for (String t : texts) {
                futures.add(pool.submit(() -> {
                    go.await();
                    return embed("minilm", t).get(0);
                }));
            }
            go.countDown();
            for (int i = 0; i < texts.size(); i++) {
                assertArrayEquals(single.get(i), futures.get(i).get(), "text " + i);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * The quantized MiniLM is not batch-invariant, so it is not batched across requests; Gantry runs each input
     * of a call on its own, and a text's vector does not depend on what else the call carried.
     */
    @Test
    void quantizedModel_inputsOfOneCall_equalTheSameTextsSentAlone() {
        List<String> texts = List.of("short", "a much longer sentence with many more tokens in it", "");

        List<float[]> together = embed("minilm-q", texts);

        for (int i = 0; i < texts.size(); i++) {
            assertArrayEquals(embed("minilm-q", texts.get(i)).get(0), together.get(i), "text " + i);
        }
    }

    @Test
    void quantizedModel_staysCloseToTheFloatReference() {
        Reference ref = Reference.named("ascii");

        float[] q = embed("minilm-q", ref.text()).get(0);

        double dot = 0;
        for (int i = 0; i < q.length; i++) {
            dot += q[i] * ref.embedding()[i];
        }
        assertTrue(dot > 0.95, "cosine to the fp32 reference was " + dot);
    }

    @Test
    void wrongContentType_is415() {
        HttpResponse<String> r = server.send(java.net.http.HttpRequest.newBuilder(server.uri("/v1/embeddings"))
                .header("Content-Type", "text/plain")
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString(Embeddings.body("minilm", "hi"))).build());

        Embeddings.error(r, 415);
    }
}
