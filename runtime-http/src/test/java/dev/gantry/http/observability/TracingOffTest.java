package dev.gantry.http.observability;

import dev.gantry.http.ServerConfig;
import dev.gantry.http.testing.ServerFixture;
import org.junit.jupiter.api.Test;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Tracing is off unless asked for: no span handler, no traceparent in answers; and what turns it on. */
class TracingOffTest {
    @Test
    void byDefault_answersCarryNoTraceparent() {
        ServerFixture server = ServerFixture.shared();
        HttpResponse<String> r = server.send(HttpRequest.newBuilder(server.uri("/v2/models/mlp/infer"))
                .header("Content-Type", "application/json")
                .header("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
                .POST(HttpRequest.BodyPublishers.ofString(TracingTest.mlpBody(1, 5))).build());
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("traceparent").isEmpty(), "tracing is off by default");
    }

    @Test
    void tracingIsOn_onlyWithAnEndpointOrAnOtelVariable() throws Exception {
        assertFalse(tracing(Map.of()));
        assertFalse(tracing(Map.of("OTEL_SERVICE_NAME", "gantry-eu")), "a service name alone exports nothing");
        assertTrue(tracing(Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318")));
        assertTrue(tracing(Map.of("OTEL_TRACES_EXPORTER", "otlp")));
        assertFalse(tracing(Map.of("OTEL_TRACES_EXPORTER", "none", "OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318")));
        assertFalse(tracing(Map.of("OTEL_SDK_DISABLED", "true", "OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318")));
        assertTrue(dev.gantry.http.ServerConfigParser.parse(java.util.List.of("--otlp-endpoint",
                "http://collector:4318"), Map.of()).observability().tracing());
    }

    private static boolean tracing(Map<String, String> env) throws Exception {
        ServerConfig c = dev.gantry.http.ServerConfigParser.parse(java.util.List.of(), env);
        return c.observability().tracing();
    }

}
