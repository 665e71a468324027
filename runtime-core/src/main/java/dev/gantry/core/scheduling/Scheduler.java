package dev.gantry.core.scheduling;

import dev.gantry.core.inference.InferenceRequest;
import dev.gantry.core.inference.InferenceResponse;
import dev.gantry.core.inference.RequestContext;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/** Queues inference requests for one model version and runs them on its instances. */
public interface Scheduler {
    /**
     * Admits a validated request. Never throws: a full queue, a stopped scheduler, an expired deadline or a
     * failed run complete the future exceptionally with a {@link dev.gantry.core.error.GantryException}.
     * The future completes on a scheduler thread.
     */
    CompletableFuture<InferenceResponse> enqueue(InferenceRequest request);

    /**
     * As {@link #enqueue(InferenceRequest)}, with the request's trace span (queue and execution spans hang under
     * it) and a place for its share of compute time.
     */
    default CompletableFuture<InferenceResponse> enqueue(InferenceRequest request, RequestContext context) {
        return enqueue(request);
    }

    /** Requests admitted and not yet answered (queued plus executing). */
    int inflightCount();

    /** Requests waiting in the queue. */
    int queuedCount();

    /**
     * Stops admitting; everything already admitted still runs. Completes when the last admitted request has
     * been answered, or when {@code drainTimeout} passes (then what is still queued fails with UNAVAILABLE).
     */
    CompletableFuture<Void> stop(Duration drainTimeout);
}
