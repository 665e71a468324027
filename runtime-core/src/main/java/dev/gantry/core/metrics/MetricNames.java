package dev.gantry.core.metrics;

/** Every meter name Gantry registers, in one place. Tags: model, version, outcome, error. */
public enum MetricNames {
    /** Timer: admission to answer, per request, tagged outcome=success|error and error=ErrorCode. */
    INFERENCE_REQUEST_DURATION("inference.request.duration"),
    /** Timer: admission to the start of the execution that ran the request. */
    INFERENCE_QUEUE_DURATION("inference.queue.duration"),
    /** Timer: one model execution (one batch). */
    INFERENCE_COMPUTE_DURATION("inference.compute.duration"),
    /** Distribution: rows per execution. */
    INFERENCE_BATCH_SIZE("inference.batch.size"),
    /** Distribution: requests per execution. */
    INFERENCE_BATCH_REQUESTS("inference.batch.requests"),
    /** Gauge: requests waiting in the queue. */
    INFERENCE_QUEUE_PENDING("inference.queue.pending"),
    /** Timer: load plus warm-up of a model version, tagged outcome=success|error. */
    MODEL_LOAD_DURATION("model.load.duration"),
    /** Counter: times Vert.x's checker saw an event loop blocked past its limit (should stay 0). */
    EVENT_LOOP_BLOCKED("eventloop.blocked");

    private final String meterName;

    MetricNames(String meterName) {
        this.meterName = meterName;
    }

    public String meterName() {
        return meterName;
    }
}
