package dev.gantry.core.lifecycle;

import dev.gantry.core.model.ModelSignature;
import dev.gantry.store.repository.DynamicBatching;
import dev.gantry.store.repository.ModelConfig;

import java.util.List;
import java.util.Optional;

/** Completes the configuration of a model directory that has none, from the model file itself. */
final class ConfigCompletion {
    /*
     * As Triton does for a model without config.pbtxt: when the first dimension of every input and every output
     * is dynamic, that dimension is taken as the batch dimension, max_batch_size gets a default and dynamic
     * batching is turned on. ModelLifecycle then keeps the completion only if the batch-invariance check passes
     * (a model whose dimension 0 is not really a batch, or whose rows depend on each other, keeps Triton's
     * defaults: no batch dimension, one request per execution).
     */
    static final int DEFAULT_MAX_BATCH_SIZE = 32;
    static final String MAX_BATCH_SIZE = "max_batch_size";
    static final String DYNAMIC_BATCHING = "dynamic_batching";

    private ConfigCompletion() {
    }

    /** What completion proposes: the completed configuration and the fields it filled (empty: nothing to do). */
    record Proposal(ModelConfig config, List<String> filled) {
    }

    static Proposal propose(ModelConfig config, ModelSignature signature, boolean strict) {
        if (strict || config.fromFile() || !signature.firstDimensionIsDynamic()) {
            return new Proposal(config, List.of());
        }
        return new Proposal(config.withBatching(DEFAULT_MAX_BATCH_SIZE, Optional.of(DynamicBatching.defaults())),
                List.of(MAX_BATCH_SIZE, DYNAMIC_BATCHING));
    }
}
