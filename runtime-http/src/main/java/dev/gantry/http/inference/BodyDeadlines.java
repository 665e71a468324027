package dev.gantry.http.inference;

import io.vertx.core.http.HttpServerRequest;

/** Enforces request-body deadlines with a periodic check on the event loop instead of a timer per request. */
public interface BodyDeadlines {
    /**
     * Arms a deadline for the body of {@code request}: {@code onExpiry} runs on the request's event loop once
     * {@code timeoutMs} have passed (checked periodically, so up to a check interval later) unless the returned
     * handle is disarmed first. Null when this deadline keeper does not know the request's connection: the
     * caller then keeps its own timer.
     */
    Armed arm(HttpServerRequest request, long timeoutMs, Runnable onExpiry);

    /** An armed deadline. */
    interface Armed {
        /** The body is complete (or failed): the deadline no longer applies. Idempotent. */
        void disarm();
    }
}
