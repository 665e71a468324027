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
    /** Timer: an unloading version's drain, from stop admitting to freed. */
    DRAIN_DURATION("model.drain.duration"),
    /** Counter: requests routed, tagged model, version, kind=weighted|sticky|pinned|shadow. */
    ROUTE_REQUESTS("routing.requests"),
    /** Gauge: the traffic policy revision in force, tagged model. */
    POLICY_REVISION("routing.policy.revision"),
    /** Counter: shadow requests answered, tagged model, version, outcome=agree|disagree|error. */
    SHADOW_REQUESTS("shadow.requests"),
    /** Distribution: max absolute difference between primary and shadow FP outputs, tagged model, version. */
    SHADOW_MAX_ABS_DIFF("shadow.max_abs_diff"),
    /** Counter: shadow requests dropped because the shadow queue was full, tagged model, version. */
    SHADOW_DROPPED("shadow.dropped"),
    /** Counter: requests counted as usage, tagged model, version (never the key: see /admin/v1/usage). */
    USAGE_REQUESTS("usage.requests"),
    /** Counter: batch rows counted as usage, tagged model, version. */
    USAGE_ROWS("usage.rows"),
    /** Counter: request and response body bytes counted as usage, tagged model, version, direction=in|out. */
    USAGE_BYTES("usage.bytes"),
    /** Counter: tokens of text models counted as usage, tagged model, version. */
    USAGE_TOKENS("usage.tokens"),
    /** Counter: seconds of model compute counted as usage, tagged model, version. */
    USAGE_COMPUTE("usage.compute.seconds"),
    /** Counter: cost from the configured prices, tagged model, version. */
    USAGE_COST("usage.cost"),
    /** Counter: requests refused because a key was over a quota, tagged quota (e.g. requests_per_day). */
    QUOTA_REFUSALS("quota.refusals"),
    /** Counter: first runs of artifacts in the sandbox process, tagged outcome=passed|crashed|remembered. */
    SANDBOX_RUNS("model.sandbox.runs"),
    /** Counter: versions the crash journal found executing when the previous server process crashed. */
    CRASHES_FOUND("server.crashes.found"),
    /** Gauge: the step (1-based) of the model's active rollout, 0 when none, tagged model. */
    ROLLOUT_STEP("rollout.step"),
    /** Gauge: a gate's value in the current rollout step, tagged model, gate=error_rate|latency|agreement. */
    ROLLOUT_GATE("rollout.gate"),
    /** Counter: requests answered by a fallback version, tagged model, from (version), reason. */
    FALLBACK_REQUESTS("routing.fallback.requests"),
    /** Counter: fallbacks refused because the retry budget was spent, tagged model. */
    FALLBACK_BUDGET_EXHAUSTED("routing.fallback.budget_exhausted"),
    /** Gauge: a version's circuit breaker, 0 closed, 1 half-open, 2 open, tagged model, version. */
    CIRCUIT_STATE("routing.circuit.state"),
    /** Counter: times Vert.x's checker saw an event loop blocked past its limit (should stay 0). */
    EVENT_LOOP_BLOCKED("eventloop.blocked"),
    /** Gauge: bytes of request bodies held in memory now, against the body memory budget (--max-body-memory). */
    REQUEST_BODY_HELD("http.request.body.held"),
    /** Gauge: the body memory budget in bytes. */
    REQUEST_BODY_BUDGET("http.request.body.budget"),
    /** Counter: requests (429; gRPC: RESOURCE_EXHAUSTED) refused because the bodies held would pass the budget. */
    REQUEST_BODY_REFUSED("http.request.body.refused");

    private final String meterName;

    MetricNames(String meterName) {
        this.meterName = meterName;
    }

    public String meterName() {
        return meterName;
    }
}
