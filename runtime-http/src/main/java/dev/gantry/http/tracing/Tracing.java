package dev.gantry.http.tracing;

import dev.gantry.core.model.ModelId;
import dev.gantry.core.routing.RouteKind;
import dev.gantry.core.tracing.TraceSpan;
import dev.gantry.http.GantryServer;
import dev.gantry.http.logging.WarmupRequests;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.opentelemetry.context.propagation.TextMapSetter;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.autoconfigure.AutoConfiguredOpenTelemetrySdk;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.RoutingContext;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Server spans for HTTP requests, W3C {@code traceparent} in and out, and the OpenTelemetry SDK behind them,
 * configured from the OTEL_* variables and --otlp-endpoint. Exists only when tracing is on: with tracing off
 * no handler is mounted, requests carry {@link TraceSpan#NONE}, and nothing here runs.
 */
public final class Tracing implements AutoCloseable {
    /** Routing-context key of the request's {@link TraceSpan}. */
    public static final String SPAN_KEY = "gantry.span";
    private static final String INSTRUMENTATION = "dev.gantry";
    private static final TextMapGetter<HttpServerRequest> GETTER = new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(HttpServerRequest carrier) {
            return carrier.headers().names();
        }

        @Override
        public String get(HttpServerRequest carrier, String key) {
            return carrier == null ? null : carrier.getHeader(key);
        }
    };
    private static final TextMapSetter<HttpServerResponse> SETTER = (carrier, key, value) -> {
        if (carrier != null) {
            carrier.putHeader(key, value);
        }
    };
    private static final AttributeKey<String> METHOD = AttributeKey.stringKey("http.request.method");
    private static final AttributeKey<String> PATH = AttributeKey.stringKey("url.path");
    private static final AttributeKey<String> ROUTE = AttributeKey.stringKey("http.route");
    private static final AttributeKey<Long> STATUS = AttributeKey.longKey("http.response.status_code");

    private final OpenTelemetrySdk sdk;
    private final Tracer tracer;
    private final TextMapPropagator propagator = W3CTraceContextPropagator.getInstance();

    private Tracing(OpenTelemetrySdk sdk) {
        this.sdk = sdk;
        this.tracer = sdk.getTracer(INSTRUMENTATION, GantryServer.VERSION);
    }

    /** The tracing {@code observability} asks for, or empty when tracing is off. */
    public static Optional<Tracing> create(Observability observability) {
        if (!observability.tracing()) {
            return Optional.empty();
        }
        if (observability.spanExporter().isPresent()) {
            SdkTracerProvider provider = SdkTracerProvider.builder()
                    .setResource(Resource.getDefault().merge(Resource.create(Attributes.of(
                            AttributeKey.stringKey("service.name"), "gantry"))))
                    .setSampler(Sampler.parentBased(Sampler.alwaysOn()))
                    .addSpanProcessor(SimpleSpanProcessor.create(observability.spanExporter().get())).build();
            return Optional.of(new Tracing(OpenTelemetrySdk.builder().setTracerProvider(provider).build()));
        }
        Map<String, String> defaults = new LinkedHashMap<>();
        defaults.put("otel.service.name", "gantry");
        defaults.put("otel.exporter.otlp.protocol", "http/protobuf");
        observability.otelEnv().forEach((k, v) -> defaults.put(k.toLowerCase(Locale.ROOT).replace('_', '.'), v));
        Map<String, String> forced = new LinkedHashMap<>();
        // Traces only: Gantry's metrics are Prometheus's, and its logs go to stdout.
        forced.put("otel.metrics.exporter", "none");
        forced.put("otel.logs.exporter", "none");
        observability.otlpEndpoint().ifPresent(e -> forced.put("otel.exporter.otlp.endpoint", e));
        OpenTelemetrySdk sdk = AutoConfiguredOpenTelemetrySdk.builder()
                .addPropertiesSupplier(() -> defaults)
                .addPropertiesCustomizer(config -> forced)
                .disableShutdownHook()
                .build().getOpenTelemetrySdk();
        return Optional.of(new Tracing(sdk));
    }

    /**
     * A router handler that starts the request's server span (a child of the caller's {@code traceparent}
     * when it sent one), answers with the span's {@code traceparent}, and ends the span when the response ends.
     * Scrapes and health probes (/metrics, /v2/health/*) are not traced: they would drown the traces; nor is the
     * server's own start-up warm-up ({@link WarmupRequests}).
     */
    public Handler<RoutingContext> handler() {
        return ctx -> {
            HttpServerRequest req = ctx.request();
            String path = req.path();
            if (path.equals("/metrics") || path.startsWith("/v2/health/")
                    || WarmupRequests.isWarmup(req)) {
                ctx.next();
                return;
            }
            String method = req.method().name();
            Context parent = propagator.extract(Context.root(), req, GETTER);
            Span span = tracer.spanBuilder(method).setParent(parent).setSpanKind(SpanKind.SERVER)
                    .setAttribute(METHOD, method).setAttribute(PATH, path).startSpan();
            propagator.inject(Context.root().with(span), ctx.response(), SETTER);
            ctx.put(SPAN_KEY, OtelSpan.wrap(tracer, span));
            ctx.addEndHandler(ar -> {
                int status = ctx.response().getStatusCode();
                Route route = ctx.currentRoute();
                if (route != null && route.getPath() != null) {
                    span.updateName(method + " " + route.getPath());
                    span.setAttribute(ROUTE, route.getPath());
                }
                span.setAttribute(STATUS, (long) status);
                if (status >= 500 || ar.failed()) {
                    span.setStatus(StatusCode.ERROR);
                }
                span.end();
            });
            ctx.next();
        };
    }

    /** The request's span, or {@link TraceSpan#NONE} when tracing is off or the trace is not sampled. */
    public static TraceSpan span(RoutingContext ctx) {
        TraceSpan s = ctx.get(SPAN_KEY);
        return s == null ? TraceSpan.NONE : s;
    }

    /** Puts the version that served and how it was chosen on the request's span. */
    public static void routed(RoutingContext ctx, ModelId served, RouteKind kind) {
        TraceSpan s = span(ctx);
        if (s.isRecording()) {
            s.set(TraceSpan.MODEL, served.name()).set(TraceSpan.VERSION, served.version())
                    .set(TraceSpan.ROUTE_KIND, kind.tagValue());
        }
    }

    /** Exports what is buffered and stops the SDK (up to 10 s). */
    @Override
    public void close() {
        sdk.shutdown().join(10, TimeUnit.SECONDS);
    }
}
