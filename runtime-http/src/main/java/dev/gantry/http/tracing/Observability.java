package dev.gantry.http.tracing;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * Traces and usage accounting.
 *
 * @param otlpEndpoint --otlp-endpoint: base URL of an OTLP/HTTP collector (e.g. http://collector:4318);
 *     overrides OTEL_EXPORTER_OTLP_ENDPOINT
 * @param otelEnv the OTEL_* environment variables the server was started with (OTEL_SERVICE_NAME,
 *     OTEL_TRACES_SAMPLER, OTEL_EXPORTER_OTLP_HEADERS...)
 * @param spanExporter test hook: export spans here (synchronously, every span sampled) instead of OTLP
 * @param usageFlushInterval how often usage aggregates are written to the catalogue database
 * @param clock the time usage minutes and quota days are counted in (tests move it)
 */
public record Observability(Optional<String> otlpEndpoint, java.util.Map<String, String> otelEnv,
                            Optional<io.opentelemetry.sdk.trace.export.SpanExporter> spanExporter,
                            Duration usageFlushInterval, java.time.Clock clock) {
    public Observability {
        Objects.requireNonNull(otlpEndpoint, "otlpEndpoint");
        otelEnv = java.util.Map.copyOf(otelEnv);
        Objects.requireNonNull(spanExporter, "spanExporter");
        Objects.requireNonNull(clock, "clock");
    }

    public static Observability defaults() {
        return new Observability(Optional.empty(), java.util.Map.of(), Optional.empty(), Duration.ofSeconds(5),
                java.time.Clock.systemUTC());
    }

    /** Whether traces are on: an exporter hook, --otlp-endpoint, or an OTEL_* variable that asks for one. */
    public boolean tracing() {
        if ("true".equalsIgnoreCase(otelEnv.getOrDefault("OTEL_SDK_DISABLED", "false").trim())) {
            return false;
        }
        String exporter = otelEnv.getOrDefault("OTEL_TRACES_EXPORTER", "").trim();
        if (exporter.equalsIgnoreCase("none")) {
            return spanExporter.isPresent();
        }
        return spanExporter.isPresent() || otlpEndpoint.isPresent() || !exporter.isEmpty()
                || otelEnv.containsKey("OTEL_EXPORTER_OTLP_ENDPOINT")
                || otelEnv.containsKey("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
    }

    public Observability withSpanExporter(io.opentelemetry.sdk.trace.export.SpanExporter exporter) {
        return new Observability(otlpEndpoint, otelEnv, Optional.of(exporter), usageFlushInterval, clock);
    }

    public Observability withOtlpEndpoint(String endpoint) {
        return new Observability(Optional.of(endpoint), otelEnv, spanExporter, usageFlushInterval, clock);
    }

    public Observability withClock(java.time.Clock c) {
        return new Observability(otlpEndpoint, otelEnv, spanExporter, usageFlushInterval, c);
    }
}
