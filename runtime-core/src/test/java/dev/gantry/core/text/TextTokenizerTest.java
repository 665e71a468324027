package dev.gantry.core.text;

import dev.gantry.core.error.ErrorCode;
import dev.gantry.core.error.GantryException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The bundled MiniLM's own tokenizer.json, read through the DJL Hugging Face tokenizer (its native library). */
class TextTokenizerTest {
    static final Path TOKENIZER = Path.of("..", "models", "minilm", "1", "tokenizer.json");
    static TextTokenizer tokenizer;

    @BeforeAll
    static void load() {
        tokenizer = TextTokenizer.load(TOKENIZER, 16);
    }

    @AfterAll
    static void close() {
        tokenizer.close();
    }

    @Test
    void encode_sentence_addsClsAndSepWithoutPadding() {
        assertArrayEquals(new long[]{101, 1996, 4248, 2829, 4419, 102}, tokenizer.encode("The quick brown fox", true, "input"));
    }

    @Test
    void encode_emptyText_isClsAndSep() {
        assertArrayEquals(new long[]{101, 102}, tokenizer.encode("", true, "input"));
    }

    @Test
    void encode_longTextWithTruncation_keepsMaxTokensEndingInSep() {
        long[] ids = tokenizer.encode("word ".repeat(40), true, "input");

        assertEquals(16, ids.length);
        assertEquals(101, ids[0]);
        assertEquals(102, ids[15]);
    }

    @Test
    void encode_longTextWithoutTruncation_isRefusedNamingTheLimit() {
        GantryException e = assertThrows(GantryException.class,
                () -> tokenizer.encode("word ".repeat(40), false, "input[3]"));

        assertEquals(ErrorCode.INVALID_ARG, e.code());
        assertTrue(e.getMessage().contains("input[3] is longer than the model's limit of 16 tokens"), e.getMessage());
    }

    @Test
    void encode_textOfExactlyMaxTokensWithoutTruncation_isAccepted() {
        assertEquals(16, tokenizer.encode("word ".repeat(14), false, "input").length);
    }

    @Test
    void encodeAll_matchesEncodingOneByOne() {
        List<long[]> all = tokenizer.encodeAll(List.of("Café", "東京", ""), true, i -> "input[" + i + "]");

        assertArrayEquals(tokenizer.encode("Café", true, "x"), all.get(0));
        assertArrayEquals(tokenizer.encode("東京", true, "x"), all.get(1));
        assertArrayEquals(new long[]{101, 102}, all.get(2));
    }

    @Test
    void vocabularySize_isBertUncasedVocabulary() {
        assertEquals(30522, tokenizer.vocabularySize());
    }

    @Test
    void load_missingFile_isUnavailableNamingTheFile() {
        GantryException e = assertThrows(GantryException.class,
                () -> TextTokenizer.load(Path.of("no-such-tokenizer.json"), 8));

        assertEquals(ErrorCode.UNAVAILABLE, e.code());
        assertTrue(e.getMessage().contains("no-such-tokenizer.json"), e.getMessage());
    }
}
