package dev.gantry.core.text;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import dev.gantry.core.error.ErrorCode;
import dev.gantry.core.error.GantryException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** A Hugging Face tokenizer read from a model's own {@code tokenizer.json}, truncating at {@code maxTokens}. */
public final class TextTokenizer implements AutoCloseable {
    /*
     * The tokenizer.json of a model often carries its own truncation and padding (MiniLM's pads every input
     * to 128). Both are replaced: truncation to max_tokens (special tokens included, as the Hugging Face
     * library counts them), and no padding, because the inputs of one execution are padded together to the
     * longest of them by EmbeddingRequests.
     */
    private final HuggingFaceTokenizer tokenizer;
    private final int maxTokens;
    private final Path file;
    private final long vocabularySize;

    private TextTokenizer(HuggingFaceTokenizer tokenizer, int maxTokens, Path file) {
        this.tokenizer = tokenizer;
        this.maxTokens = maxTokens;
        this.file = file;
        this.vocabularySize = vocabularySize(tokenizer);
    }

    /**
     * The number of ids the vocabulary holds, 0 to n-1: an id outside decodes to nothing (special tokens are
     * kept when decoding, so every id inside decodes to something). Found by bisection once at load.
     */
    private static long vocabularySize(HuggingFaceTokenizer tokenizer) {
        long known = -1;
        long unknown = 1L << 24;
        while (unknown - known > 1) {
            long mid = (known + unknown) >>> 1;
            if (tokenizer.decode(new long[]{mid}, /* skipSpecialTokens= */ false).isEmpty()) {
                unknown = mid;
            } else {
                known = mid;
            }
        }
        return unknown;
    }

    /** Ids at or above this are not in the vocabulary. */
    public long vocabularySize() {
        return vocabularySize;
    }

    /**
     * Reads {@code file}.
     *
     * @throws GantryException UNAVAILABLE when the file is missing or not a tokenizer
     */
    public static TextTokenizer load(Path file, int maxTokens) {
        if (!Files.isRegularFile(file)) {
            throw new GantryException(ErrorCode.UNAVAILABLE, "tokenizer file " + file + " does not exist");
        }
        Map<String, String> options = Map.of(
                "addSpecialTokens", "true",
                "truncation", "true",
                "padding", "false",
                "maxLength", Integer.toString(maxTokens),
                "modelMaxLength", Integer.toString(maxTokens));
        try {
            return new TextTokenizer(HuggingFaceTokenizer.newInstance(file, options), maxTokens, file);
        } catch (IOException | RuntimeException e) {
            throw new GantryException(ErrorCode.UNAVAILABLE, "cannot read tokenizer " + file + ": " + e.getMessage());
        }
    }

    public int maxTokens() {
        return maxTokens;
    }

    /**
     * The token ids of {@code text}, special tokens included.
     *
     * @param truncate whether text longer than {@link #maxTokens} is cut; if not, such text is refused
     * @throws GantryException INVALID_ARG for over-long text that may not be truncated
     */
    public long[] encode(String text, boolean truncate, String what) {
        Encoding encoding = tokenizer.encode(text);
        if (!truncate && encoding.exceedMaxLength()) {
            throw new GantryException(ErrorCode.INVALID_ARG, what + " is longer than the model's limit of "
                    + maxTokens + " tokens and truncation was turned off");
        }
        return encoding.getIds();
    }

    /** The ids of several texts, tokenized in one call. */
    public List<long[]> encodeAll(List<String> texts, boolean truncate, java.util.function.IntFunction<String> what) {
        if (texts.isEmpty()) {
            return List.of();
        }
        Encoding[] encodings = tokenizer.batchEncode(texts);
        long[][] ids = new long[encodings.length][];
        for (int i = 0; i < encodings.length; i++) {
            if (!truncate && encodings[i].exceedMaxLength()) {
                throw new GantryException(ErrorCode.INVALID_ARG, what.apply(i) + " is longer than the model's"
                        + " limit of " + maxTokens + " tokens and truncation was turned off");
            }
            ids[i] = encodings[i].getIds();
        }
        return List.of(ids);
    }

    @Override
    public void close() {
        tokenizer.close();
    }

    @Override
    public String toString() {
        return "TextTokenizer[" + file + ", max " + maxTokens + " tokens]";
    }
}
