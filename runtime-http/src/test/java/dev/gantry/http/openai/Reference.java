package dev.gantry.http.openai;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The independent MiniLM reference (src/test/resources/text/minilm-reference.json, produced outside Gantry by
 * transformers.js; see the README next to it): per sentence, its token ids and its embedding.
 */
record Reference(String label, String text, long[] tokenIds, float[] embedding) {
    /** How far a Gantry vector may be from the reference in any component. */
    static final double TOLERANCE = 1e-5;

    static final List<Reference> MINILM = load("/text/minilm-reference.json");

    private static List<Reference> load(String resource) {
        try (InputStream in = Reference.class.getResourceAsStream(resource)) {
            JsonNode root = new ObjectMapper().readTree(in);
            List<Reference> out = new ArrayList<>();
            for (JsonNode s : root.get("sentences")) {
                long[] ids = new long[s.get("token_ids").size()];
                for (int i = 0; i < ids.length; i++) {
                    ids[i] = s.get("token_ids").get(i).longValue();
                }
                float[] e = new float[s.get("embedding").size()];
                for (int i = 0; i < e.length; i++) {
                    e[i] = (float) s.get("embedding").get(i).doubleValue();
                }
                out.add(new Reference(s.get("label").textValue(), s.get("text").textValue(), ids, e));
            }
            return List.copyOf(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Reference named(String label) {
        return MINILM.stream().filter(r -> r.label().equals(label)).findFirst().orElseThrow();
    }

    /** Asserts that {@code actual} equals this sentence's reference embedding to {@link #TOLERANCE}. */
    void assertMatches(float[] actual) {
        assertEquals(embedding.length, actual.length, label + ": dimension");
        double worst = 0;
        for (int i = 0; i < actual.length; i++) {
            worst = Math.max(worst, Math.abs(actual[i] - embedding[i]));
        }
        assertTrue(worst <= TOLERANCE, label + ": differs from the reference by up to " + worst);
    }

    @Override
    public String toString() {
        return label;
    }
}
