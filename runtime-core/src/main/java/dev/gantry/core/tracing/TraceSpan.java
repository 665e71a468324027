package dev.gantry.core.tracing;

import java.util.List;

/**
 * A span of a request's trace as the core sees it: it can start child spans and take attributes. The core
 * knows no tracing library; the HTTP layer implements this over OpenTelemetry. {@link #NONE} is what every
 * request carries when tracing is off (or the trace is not sampled): it records nothing and allocates nothing.
 */
public interface TraceSpan {
    /** Span attribute: the model's name. */
    String MODEL = "gantry.model";
    /** Span attribute: the model version. */
    String VERSION = "gantry.model.version";
    /** Span attribute: rows in one execution. */
    String BATCH_SIZE = "gantry.batch.size";
    /** Span attribute: requests served by one execution. */
    String BATCH_REQUESTS = "gantry.batch.requests";
    /** Span attribute: how the version was chosen (weighted, sticky, pinned, shadow). */
    String ROUTE_KIND = "gantry.route.kind";

    TraceSpan NONE = new TraceSpan() {
        @Override
        public boolean isRecording() {
            return false;
        }

        @Override
        public TraceSpan child(String name) {
            return this;
        }

        @Override
        public TraceSpan child(String name, List<TraceSpan> links) {
            return this;
        }

        @Override
        public TraceSpan set(String key, String value) {
            return this;
        }

        @Override
        public TraceSpan set(String key, long value) {
            return this;
        }

        @Override
        public void fail(String message) {
        }

        @Override
        public void end() {
        }
    };

    /** False for {@link #NONE}: callers skip work that only feeds spans. */
    boolean isRecording();

    /** Starts a span, now, whose parent is this one. */
    TraceSpan child(String name);

    /** Starts a span, now, whose parent is this one and that links to each recording span of {@code links}. */
    TraceSpan child(String name, List<TraceSpan> links);

    TraceSpan set(String key, String value);

    TraceSpan set(String key, long value);

    /** Marks the span as failed with {@code message}. */
    void fail(String message);

    /** Ends the span, now. Ending twice has no effect. */
    void end();
}
