package dev.gantry.core.text;

/** One input of an embeddings call: text to tokenize, or token ids the caller tokenized itself. */
public sealed interface EmbeddingInput {
    /** Text, tokenized with the serving version's own tokenizer. */
    record Text(String text) implements EmbeddingInput {
        public Text {
            java.util.Objects.requireNonNull(text, "text");
        }
    }

    /** Token ids passed to the model as given (special tokens are the caller's business). */
    record TokenIds(long[] ids) implements EmbeddingInput {
        public TokenIds {
            ids = ids.clone();
        }
    }
}
