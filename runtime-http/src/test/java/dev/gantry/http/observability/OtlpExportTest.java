package dev.gantry.http.observability;

import com.sun.net.httpserver.HttpServer;
import dev.gantry.core.lifecycle.ExecutorFactory;
import dev.gantry.http.testing.ServerFixture;
import dev.gantry.http.testing.TempRepository;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Traces leave the process over real OTLP/HTTP: a server started with --otlp-endpoint posts protobuf
 * ExportTraceServiceRequests to {endpoint}/v1/traces, and the caller's trace id is in them. The receiver is a
 * JDK HttpServer started by the test; it checks the request and looks for the 16 trace-id bytes in the body
 * (a protobuf bytes field carries them as they are).
 */
class OtlpExportTest {
    record Received(String path, String contentType, byte[] body) {
    }

    @TempDir
    Path dir;

    @Test
    void otlpEndpoint_receivesProtobufSpansCarryingTheCallersTraceId() throws Exception {
        List<Received> received = new CopyOnWriteArrayList<>();
        HttpServer receiver = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        receiver.createContext("/", exchange -> {
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            exchange.getRequestBody().transferTo(body);
            received.add(new Received(exchange.getRequestMethod() + " " + exchange.getRequestURI().getPath(),
                    exchange.getRequestHeaders().getFirst("Content-Type"), body.toByteArray()));
            exchange.sendResponseHeaders(200, -1);
            exchange.close();
        });
        receiver.start();
        try {
            new TempRepository(dir.resolve("models")).copy("mlp", "exported", 1, null);
            var config = ServerFixture.config(dir.resolve("models"), dir.resolve("data"));
            String endpoint = "http://127.0.0.1:" + receiver.getAddress().getPort();
            String traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
            try (ServerFixture server = ServerFixture.start(config.withObservability(
                    config.observability().withOtlpEndpoint(endpoint)), ExecutorFactory.onnxRuntime())) {
                HttpResponse<String> r = server.send(HttpRequest.newBuilder(server.uri("/v2/models/exported/infer"))
                        .header("Content-Type", "application/json")
                        .header("traceparent", "00-" + traceId + "-00f067aa0ba902b7-01")
                        .POST(HttpRequest.BodyPublishers.ofString(TracingTest.mlpBody(1, 3))).build());
                assertEquals(200, r.statusCode(), r.body());
                assertTrue(r.headers().firstValue("traceparent").orElseThrow().startsWith("00-" + traceId + "-"));
            }
            // stopping the server flushes the batch span processor

            assertFalse(received.isEmpty(), "the collector received nothing");
            byte[] id = HexFormat.of().parseHex(traceId);
            boolean found = false;
            for (Received rec : received) {
                assertEquals("POST /v1/traces", rec.path());
                assertEquals("application/x-protobuf", rec.contentType());
                found |= indexOf(rec.body(), id) >= 0;
            }
            assertTrue(found, "no export carried the trace id " + traceId);
            // every export: the batch processor may split them
            StringBuilder all = new StringBuilder();
            for (Received rec : received) {
                all.append(new String(rec.body(), java.nio.charset.StandardCharsets.ISO_8859_1));
            }
            assertTrue(all.indexOf("gantry.batch") >= 0 && all.indexOf("gantry.queue") >= 0
                    && all.indexOf("gantry") >= 0, "the exports hold Gantry's spans and its service name");
            assertTrue(all.indexOf("/admin/v1/models/exported/traffic") < 0,
                    "the start-up warm-up's refused changes are not traced");
        } finally {
            receiver.stop(0);
        }
    }

    static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
