package dev.gantry.core.metrics;

import dev.gantry.core.model.ModelId;

import java.util.List;
import java.util.Objects;

/**
 * A snapshot of one model version's counters, in the shape of Triton's statistics extension. Read from the same
 * meters that {@code /metrics} shows, plus the per-batch-size counts no meter keeps.
 *
 * @param model the version
 * @param lastInferenceMillis when the version last answered a request, in milliseconds since the epoch; 0 if never
 * @param inferenceCount rows (inferences) of successful requests: a request of batch 4 counts 4
 * @param executionCount model executions; with dynamic batching one execution serves several requests
 * @param success successful requests, and their total time from admission to answer
 * @param fail failed requests, and their total time from admission to answer
 * @param queue requests that waited in the queue, and their total wait until their execution started
 * @param computeInput requests executed, and the time of their executions spent preparing inputs (stacking the
 *     batch, converting it into ONNX Runtime tensors)
 * @param computeInfer requests executed, and the time of the model run of the executions each one was part of
 * @param computeOutput requests executed, and the time of their executions spent on outputs (converting them out of
 *     ONNX Runtime, splitting them per request)
 * @param batches per batch size (rows in one execution), the executions of that size, ascending
 */
public record ModelStatistics(ModelId model, long lastInferenceMillis, long inferenceCount, long executionCount,
                              Duration success, Duration fail, Duration queue, Duration computeInput,
                              Duration computeInfer, Duration computeOutput, List<BatchSize> batches) {
    public ModelStatistics {
        Objects.requireNonNull(model, "model");
        batches = List.copyOf(batches);
    }

    /** A count of events and their total duration in nanoseconds, Triton's {@code {count, ns}}. */
    public record Duration(long count, long ns) {
        public static final Duration ZERO = new Duration(0, 0);
    }

    /** Triton's {@code batch_stats} entry: executions of one batch size. */
    public record BatchSize(int batchSize, Duration computeInput, Duration computeInfer, Duration computeOutput) {
    }
}
