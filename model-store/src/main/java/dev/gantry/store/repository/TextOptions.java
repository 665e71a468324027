package dev.gantry.store.repository;

import java.util.Objects;

/**
 * The {@code gantry.text} block: how a text encoder is served as an embedding endpoint.
 *
 * @param task      what the model is served for; {@code embedding} is the only task
 * @param tokenizer the Hugging Face {@code tokenizer.json}, a file name looked up in the version directory first,
 *                  then in the model directory
 * @param pooling   how the per-token states become one vector
 * @param normalize whether the vector is scaled to unit L2 norm
 * @param maxTokens most tokens one input may have, special tokens included; longer text is truncated
 */
public record TextOptions(String task, String tokenizer, Pooling pooling, boolean normalize, int maxTokens) {
    public static final String EMBEDDING = "embedding";
    public static final String DEFAULT_TOKENIZER = "tokenizer.json";
    public static final int DEFAULT_MAX_TOKENS = 512;

    /** How token states are reduced to one vector. */
    public enum Pooling {
        /** The mean of the token states whose attention mask is 1 (sentence-transformers' default). */
        MEAN,
        /** The state of the first token ([CLS]). */
        CLS;

        public String wireName() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    public TextOptions {
        Objects.requireNonNull(pooling, "pooling");
        if (!EMBEDDING.equals(task)) {
            throw new IllegalArgumentException("task must be '" + EMBEDDING + "', was '" + task + "'");
        }
        if (tokenizer == null || tokenizer.isBlank() || tokenizer.contains("/") || tokenizer.contains("\\")
                || tokenizer.equals("..") || tokenizer.equals(".")) {
            throw new IllegalArgumentException("tokenizer must be a file name without a directory, was '"
                    + tokenizer + "'");
        }
        Checks.atLeast("max_tokens", maxTokens, 2);
    }
}
