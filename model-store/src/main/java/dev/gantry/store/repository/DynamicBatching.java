package dev.gantry.store.repository;

import java.util.List;

/**
 * Triton's {@code dynamic_batching} block: how long a request may wait for others to join its batch, and the
 * queue limits of {@code default_queue_policy}.
 *
 * @param maxQueueDelayMicros  {@code max_queue_delay_microseconds}; 0 sends a batch as soon as the model is free
 * @param preferredBatchSizes  {@code preferred_batch_size}, sorted ascending without duplicates
 * @param maxQueueSize         {@code default_queue_policy.max_queue_size}; 0 means the server default
 * @param defaultTimeoutMicros {@code default_queue_policy.default_timeout_microseconds}; 0 means no timeout
 */
public record DynamicBatching(long maxQueueDelayMicros, List<Integer> preferredBatchSizes, int maxQueueSize,
                              long defaultTimeoutMicros) {

    public DynamicBatching {
        Checks.atLeast("max_queue_delay_microseconds", maxQueueDelayMicros, 0);
        for (Integer size : preferredBatchSizes) {
            Checks.atLeast("preferred_batch_size", size, 1);
        }
        preferredBatchSizes = preferredBatchSizes.stream().distinct().sorted().toList();
        Checks.atLeast("default_queue_policy.max_queue_size", maxQueueSize, 0);
        Checks.atLeast("default_queue_policy.default_timeout_microseconds", defaultTimeoutMicros, 0);
    }

    /** The block as Triton reads {@code dynamic_batching {}}: no delay, no preferred sizes, server queue limits. */
    public static DynamicBatching defaults() {
        return new DynamicBatching(0, List.of(), 0, 0);
    }
}
