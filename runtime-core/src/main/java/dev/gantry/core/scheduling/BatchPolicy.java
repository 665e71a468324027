package dev.gantry.core.scheduling;

import dev.gantry.core.inference.InferenceRequest;
import dev.gantry.core.inference.Tensor;

import java.util.List;

/**
 * How one model version's requests are queued and grouped.
 *
 * @param maxBatchSize most rows one execution may hold; 0 when the model has no batch dimension
 * @param batchAcrossRequests whether requests are combined into one execution (dynamic batching)
 * @param maxQueueDelayMicros how long the oldest queued request may wait for more to join its batch
 * @param preferredBatchSizes batch sizes that are dispatched at once when reached
 * @param maxQueueSize most requests waiting; one more is refused with RESOURCE_EXHAUSTED
 * @param defaultTimeoutMicros queue timeout for requests that do not set one; 0 for none
 * @param instanceCount how many executions of this version may run at once
 * @param executionTimeoutMicros longest one execution may take before its requests are answered MODEL_TIMEOUT;
 *     0 for no limit
 * @param maxBatchElements most elements the largest input of one combined execution may hold (for a text encoder,
 *     rows times tokens); requests join a batch only while it stays within this, and a request above it runs
 *     alone; 0 for no limit
 */
public record BatchPolicy(int maxBatchSize, boolean batchAcrossRequests, long maxQueueDelayMicros,
                          List<Integer> preferredBatchSizes, int maxQueueSize, long defaultTimeoutMicros,
                          int instanceCount, long executionTimeoutMicros, long maxBatchElements) {
    public BatchPolicy {
        if (maxBatchSize < 0) {
            throw new IllegalArgumentException("max_batch_size must be >= 0, was " + maxBatchSize);
        }
        if (maxQueueDelayMicros < 0) {
            throw new IllegalArgumentException("max_queue_delay_microseconds must be >= 0, was " + maxQueueDelayMicros);
        }
        if (maxQueueSize < 1) {
            throw new IllegalArgumentException("max_queue_size must be >= 1, was " + maxQueueSize);
        }
        if (defaultTimeoutMicros < 0) {
            throw new IllegalArgumentException("default_timeout_microseconds must be >= 0, was " + defaultTimeoutMicros);
        }
        if (executionTimeoutMicros < 0) {
            throw new IllegalArgumentException("execution timeout must be >= 0, was " + executionTimeoutMicros);
        }
        if (maxBatchElements < 0) {
            throw new IllegalArgumentException("max_batch_elements must be >= 0, was " + maxBatchElements);
        }
        if (instanceCount < 1) {
            throw new IllegalArgumentException("instance count must be >= 1, was " + instanceCount);
        }
        preferredBatchSizes = preferredBatchSizes.stream().sorted().toList();
        if (batchAcrossRequests && maxBatchSize < 1) {
            throw new IllegalArgumentException("dynamic batching needs max_batch_size >= 1, was " + maxBatchSize);
        }
    }

    /** A policy without a limit on a batch's elements. */
    public BatchPolicy(int maxBatchSize, boolean batchAcrossRequests, long maxQueueDelayMicros,
                       List<Integer> preferredBatchSizes, int maxQueueSize, long defaultTimeoutMicros,
                       int instanceCount, long executionTimeoutMicros) {
        this(maxBatchSize, batchAcrossRequests, maxQueueDelayMicros, preferredBatchSizes, maxQueueSize,
                defaultTimeoutMicros, instanceCount, executionTimeoutMicros, 0);
    }

    /** One request per execution: the "batching off" arm. */
    public static BatchPolicy unbatched(int maxBatchSize, int maxQueueSize, int instanceCount) {
        return new BatchPolicy(maxBatchSize, false, 0, List.of(), maxQueueSize, 0, instanceCount, 0);
    }

    public BatchPolicy withoutCrossRequestBatching() {
        return new BatchPolicy(maxBatchSize, false, maxQueueDelayMicros, preferredBatchSizes, maxQueueSize,
                defaultTimeoutMicros, instanceCount, executionTimeoutMicros, maxBatchElements);
    }

    /**
     * The most rows a batch opened by {@code opener} ({@code rows} rows) may hold: max_batch_size, lowered by
     * max_batch_elements when that is set to the rows whose largest input stays within it, and never below one
     * row. Without the cap nothing is counted.
     */
    public int rowLimit(InferenceRequest opener, int rows) {
        if (maxBatchElements == 0) {
            return maxBatchSize;
        }
        long largest = 0;
        for (Tensor t : opener.inputs()) {
            largest = Math.max(largest, t.elementCount());
        }
        long rowElements = largest / Math.max(1, rows);
        if (rowElements == 0) {
            return maxBatchSize;
        }
        return (int) Math.max(1, Math.min(maxBatchSize, maxBatchElements / rowElements));
    }
}
