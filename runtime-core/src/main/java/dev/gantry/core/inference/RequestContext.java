package dev.gantry.core.inference;

import dev.gantry.core.tracing.TraceSpan;

import java.util.Objects;

/**
 * What travels with one request through routing and scheduling besides its data: the trace span the core's
 * spans hang under, and what running it cost, written by the scheduler before it completes the request's future
 * (so whoever sees the future complete sees the value).
 */
public final class RequestContext {
    private final TraceSpan span;
    private long computeNanos;

    public RequestContext(TraceSpan span) {
        this.span = Objects.requireNonNull(span, "span");
    }

    /** A context with no trace. */
    public static RequestContext untraced() {
        return new RequestContext(TraceSpan.NONE);
    }

    public TraceSpan span() {
        return span;
    }

    /**
     * This request's share of model execution time: each execution's duration split between its requests in
     * proportion to their rows, so the shares of one execution add up to its duration.
     */
    public long computeNanos() {
        return computeNanos;
    }

    /** Called by the scheduler, on its thread, before the request's future completes. */
    public void addComputeNanos(long nanos) {
        computeNanos += nanos;
    }
}
