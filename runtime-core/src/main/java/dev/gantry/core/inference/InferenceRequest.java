package dev.gantry.core.inference;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * One inference call as the core sees it, already decoded from whatever protocol carried it.
 *
 * @param id the caller's request id, echoed in the response (may be empty)
 * @param inputs the input tensors, one per model input
 * @param requestedOutputs the outputs to return; empty means all
 * @param timeoutMicros how long the request may wait in the queue, or empty for the model default
 * @param parameters the request's free-form parameters (strings, numbers, booleans), passed through
 */
public record InferenceRequest(String id, List<Tensor> inputs, Set<String> requestedOutputs,
                               Optional<Long> timeoutMicros, Map<String, Object> parameters) {
    public InferenceRequest {
        id = id == null ? "" : id;
        inputs = List.copyOf(inputs);
        requestedOutputs = Set.copyOf(requestedOutputs);
        Objects.requireNonNull(timeoutMicros, "timeoutMicros");
        parameters = Map.copyOf(parameters);
    }

    public static InferenceRequest of(List<Tensor> inputs) {
        return new InferenceRequest("", inputs, Set.of(), Optional.empty(), Map.of());
    }

    public Optional<Tensor> input(String name) {
        for (int i = 0; i < inputs.size(); i++) { // a loop, not a stream: the scheduler asks per request and input
            Tensor t = inputs.get(i);
            if (t.name().equals(name)) {
                return Optional.of(t);
            }
        }
        return Optional.empty();
    }
}
