package dev.gantry.http.tracing;

import dev.gantry.core.tracing.TraceSpan;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanBuilder;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;

import java.util.List;

/** The core's {@link TraceSpan} over an OpenTelemetry span. */
final class OtelSpan implements TraceSpan {
    private final Tracer tracer;
    private final Span span;

    OtelSpan(Tracer tracer, Span span) {
        this.tracer = tracer;
        this.span = span;
    }

    /** The core sees {@link TraceSpan#NONE} for a span that is not sampled: it then starts no children. */
    static TraceSpan wrap(Tracer tracer, Span span) {
        return span.isRecording() ? new OtelSpan(tracer, span) : TraceSpan.NONE;
    }

    Span span() {
        return span;
    }

    @Override
    public boolean isRecording() {
        return span.isRecording();
    }

    @Override
    public TraceSpan child(String name) {
        return wrap(tracer, tracer.spanBuilder(name).setParent(Context.root().with(span)).startSpan());
    }

    @Override
    public TraceSpan child(String name, List<TraceSpan> links) {
        SpanBuilder b = tracer.spanBuilder(name).setParent(Context.root().with(span));
        for (TraceSpan l : links) {
            if (l instanceof OtelSpan o) {
                b.addLink(o.span.getSpanContext());
            }
        }
        return wrap(tracer, b.startSpan());
    }

    @Override
    public TraceSpan set(String key, String value) {
        span.setAttribute(key, value);
        return this;
    }

    @Override
    public TraceSpan set(String key, long value) {
        span.setAttribute(key, value);
        return this;
    }

    @Override
    public void fail(String message) {
        span.setStatus(StatusCode.ERROR, message);
    }

    @Override
    public void end() {
        span.end();
    }
}
