package dev.gantry.store.repository;

import java.util.Objects;
import java.util.Optional;

/**
 * Gantry's own settings for a model: the {@code "gantry"} block of config.json, or {@code gantry.*} entries of
 * Triton's {@code parameters}.
 *
 * @param allowNonInvariantBatching serve with dynamic batching even though the model's outputs may depend on
 *                                  which requests share a batch
 * @param intraOpThreads            ONNX Runtime intra-op thread count; empty leaves the runtime default
 * @param interOpThreads            ONNX Runtime inter-op thread count; empty leaves the runtime default
 * @param allowSpinning             whether ONNX Runtime threads may spin while waiting; empty leaves the default
 * @param text                      present when the model is a text encoder served on {@code /v1/embeddings}
 * @param processIsolation          {@code "isolation": "process"}: the model executes in a worker process of its
 *                                  own, so a native crash fails only its requests
 * @param maxBatchElements          {@code max_batch_elements}: most elements the largest input of one dynamic batch
 *                                  may hold (rows times tokens for a text encoder); empty for no limit beyond
 *                                  max_batch_size
 */
public record GantryOptions(boolean allowNonInvariantBatching, Optional<Integer> intraOpThreads,
                            Optional<Integer> interOpThreads, Optional<Boolean> allowSpinning,
                            Optional<TextOptions> text, boolean processIsolation, Optional<Integer> maxBatchElements) {

    public GantryOptions {
        intraOpThreads.ifPresent(n -> Checks.atLeast("intra_op_threads", n, 1));
        interOpThreads.ifPresent(n -> Checks.atLeast("inter_op_threads", n, 1));
        Objects.requireNonNull(allowSpinning, "allowSpinning");
        Objects.requireNonNull(text, "text");
        maxBatchElements.ifPresent(n -> Checks.atLeast("max_batch_elements", n, 1));
    }

    /** Options of a model that is not a text encoder. */
    public GantryOptions(boolean allowNonInvariantBatching, Optional<Integer> intraOpThreads,
                         Optional<Integer> interOpThreads, Optional<Boolean> allowSpinning) {
        this(allowNonInvariantBatching, intraOpThreads, interOpThreads, allowSpinning, Optional.empty(), false,
                Optional.empty());
    }

    public static GantryOptions defaults() {
        return new GantryOptions(false, Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(), false,
                Optional.empty());
    }
}
