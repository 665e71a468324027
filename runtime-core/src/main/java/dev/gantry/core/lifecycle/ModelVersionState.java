package dev.gantry.core.lifecycle;

import dev.gantry.core.model.ModelId;
import dev.gantry.core.model.ModelReadyState;
import dev.gantry.core.model.ModelSignature;
import dev.gantry.core.scheduling.BatchPolicy;
import dev.gantry.core.scheduling.Scheduler;

import java.util.List;
import java.util.Optional;

/**
 * An immutable snapshot of one model version: its state and, once READY, what serves it.
 *
 * @param reason why the version is UNAVAILABLE (or what happened last), when known
 * @param signature the model's inputs and outputs, once read
 * @param batchPolicy how its requests are queued and grouped, once READY
 * @param scheduler its request queue, once READY
 * @param notes decisions an operator should know about: batching turned off and why, ignored config keys
 */
public record ModelVersionState(ModelId id, ModelReadyState state, Optional<String> reason,
                                Optional<ModelSignature> signature, Optional<BatchPolicy> batchPolicy,
                                Optional<Scheduler> scheduler, List<String> notes) {
    public ModelVersionState {
        notes = List.copyOf(notes);
    }

    static ModelVersionState loading(ModelId id) {
        return new ModelVersionState(id, ModelReadyState.LOADING, Optional.empty(), Optional.empty(),
                Optional.empty(), Optional.empty(), List.of());
    }

    static ModelVersionState unavailable(ModelId id, String reason, Optional<ModelSignature> signature,
                                         List<String> notes) {
        return new ModelVersionState(id, ModelReadyState.UNAVAILABLE, Optional.of(reason), signature,
                Optional.empty(), Optional.empty(), notes);
    }

    ModelVersionState withState(ModelReadyState newState) {
        return new ModelVersionState(id, newState, reason, signature, batchPolicy, scheduler, notes);
    }

    public boolean isReady() {
        return state == ModelReadyState.READY;
    }
}
