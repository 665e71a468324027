package dev.gantry.http.observability;

import dev.gantry.core.tracing.TraceSpan;
import dev.gantry.http.testing.Bodies;
import dev.gantry.http.testing.ServerFixture;
import dev.gantry.http.testing.TempRepository;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.data.LinkData;
import io.opentelemetry.sdk.trace.data.SpanData;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.function.Predicate;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Traces: a request carrying a W3C traceparent continues the caller's trace. Its server span is the parent of
 * the queue span and of the batch span of the execution that served it; the batch span links to every request
 * it served and has the model-run span under it; a shadow call is a span under the request it copied. Spans
 * are read from the SDK's in-memory exporter, installed through the ServerConfig test hook.
 */
class TracingTest {
    static final String TRACED = "traced";
    static final String BATCHED = "batched";
    static final String SHADOWED = "shadowed";
    static final InMemorySpanExporter spans = InMemorySpanExporter.create();
    static ServerFixture server;

    @TempDir
    static Path dir;

    @BeforeAll
    static void start() throws Exception {
        new TempRepository(dir.resolve("models"))
                .copy("mlp", TRACED, 1, null)
                .copy("mlp", BATCHED, 1, "{\"max_batch_size\": 64, \"dynamic_batching\": "
                        + "{\"max_queue_delay_microseconds\": 3000000, \"preferred_batch_size\": [4]}}")
                .copy("mlp", SHADOWED, 1, "{\"max_batch_size\": 64, \"dynamic_batching\": {},"
                        + " \"version_policy\": {\"specific\": {\"versions\": [1]}}}")
                .copy("mlp", SHADOWED, 2, null);
        var config = ServerFixture.config(dir.resolve("models"), dir.resolve("data"));
        server = ServerFixture.start(config.withObservability(config.observability().withSpanExporter(spans)),
                dev.gantry.core.lifecycle.ExecutorFactory.onnxRuntime());
        HttpResponse<String> load = server.postJson("/admin/v1/models/" + SHADOWED + "/versions/2/load", "{}");
        assertEquals(200, load.statusCode(), load.body());
        HttpResponse<String> policy = server.send(HttpRequest.newBuilder(server.uri("/admin/v1/models/" + SHADOWED
                        + "/traffic")).header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString("{\"routes\":[{\"version\":1,\"weight\":100}],"
                        + "\"shadow\":[{\"version\":2,\"percent\":100}]}")).build());
        assertEquals(200, policy.statusCode(), policy.body());
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    @BeforeEach
    void clear() {
        spans.reset();
    }

    @Test
    void requestWithTraceparent_continuesCallersTrace_andAnswersWithItsServerSpan() {
        String traceId = randomHex(16);
        String parentId = randomHex(8);
        HttpResponse<String> r = infer(TRACED, "00-" + traceId + "-" + parentId + "-01", 1);
        assertEquals(200, r.statusCode(), r.body());

        SpanData serverSpan = await(s -> s.getKind() == SpanKind.SERVER && s.getTraceId().equals(traceId));
        assertEquals(parentId, serverSpan.getParentSpanId(), "the server span's parent is the caller's span");
        String answered = r.headers().firstValue("traceparent").orElseThrow();
        assertEquals("00-" + traceId + "-" + serverSpan.getSpanId() + "-01", answered);
        assertEquals("POST /v2/models/:model/infer", serverSpan.getName());
        assertEquals(TRACED, attr(serverSpan, TraceSpan.MODEL));
        assertEquals(1L, serverSpan.getAttributes().get(AttributeKey.longKey(TraceSpan.VERSION)));
        assertEquals("weighted", attr(serverSpan, TraceSpan.ROUTE_KIND));
        assertEquals(200L, serverSpan.getAttributes().get(AttributeKey.longKey("http.response.status_code")));
    }

    @Test
    void requestSpans_haveQueueAndBatchChildren_andTheModelRunUnderTheBatch() {
        String traceId = randomHex(16);
        assertEquals(200, infer(TRACED, "00-" + traceId + "-" + randomHex(8) + "-01", 1).statusCode());
        SpanData serverSpan = await(s -> s.getKind() == SpanKind.SERVER && s.getTraceId().equals(traceId));
        List<SpanData> trace = trace(traceId);

        SpanData queue = only(trace, "gantry.queue");
        SpanData batch = only(trace, "gantry.batch");
        SpanData run = only(trace, "gantry.model.run");
        assertEquals(serverSpan.getSpanId(), queue.getParentSpanId());
        assertEquals(serverSpan.getSpanId(), batch.getParentSpanId());
        assertEquals(batch.getSpanId(), run.getParentSpanId());
        assertEquals(List.of(serverSpan.getSpanId()), batch.getLinks().stream()
                .map(l -> l.getSpanContext().getSpanId()).toList(), "the batch links to the request it served");
        assertEquals(1L, batch.getAttributes().get(AttributeKey.longKey(TraceSpan.BATCH_SIZE)));
        assertEquals(TRACED, attr(run, TraceSpan.MODEL));
        assertTrue(queue.getEndEpochNanos() <= batch.getStartEpochNanos() + 1_000_000,
                "the queue wait ends when the execution starts");
    }

    @Test
    void concurrentRequests_areEachLinkedFromTheBatchSpanThatServedThem() {
        List<String> traceIds = new ArrayList<>();
        List<CompletableFuture<HttpResponse<String>>> answers = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            String traceId = randomHex(16);
            traceIds.add(traceId);
            String body = mlpBody(1, i);
            answers.add(server.client().sendAsync(HttpRequest.newBuilder(server.uri("/v2/models/" + BATCHED + "/infer"))
                    .header("Content-Type", "application/json")
                    .header("traceparent", "00-" + traceId + "-" + randomHex(8) + "-01")
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString()));
        }
        answers.forEach(a -> assertEquals(200, a.join().statusCode(), a.join().body()));
        List<SpanData> servers = new ArrayList<>();
        for (String t : traceIds) {
            servers.add(await(s -> s.getKind() == SpanKind.SERVER && s.getTraceId().equals(t)));
        }

        // Adaptive batching: a request reaching the idle model runs at once, the others may share executions;
        // however they were grouped, every request is linked from exactly one batch span, which counts it.
        List<SpanData> batches = spans.getFinishedSpanItems().stream().filter(s -> s.getName().equals("gantry.batch"))
                .filter(b -> b.getLinks().stream().anyMatch(l -> traceIds.contains(l.getSpanContext().getTraceId())))
                .toList();
        List<String> linked = batches.stream().flatMap(b -> b.getLinks().stream())
                .map(l -> l.getSpanContext().getSpanId()).sorted().toList();
        assertEquals(servers.stream().map(SpanData::getSpanId).sorted().toList(), linked,
                "each request span is linked from exactly one batch span");
        assertEquals(4L, batches.stream().mapToLong(b -> b.getAttributes().get(AttributeKey.longKey(
                TraceSpan.BATCH_REQUESTS))).sum(), "the batch spans count the four requests");
        for (SpanData batch : batches) {
            assertEquals((long) batch.getLinks().size(), batch.getAttributes().get(AttributeKey.longKey(
                    TraceSpan.BATCH_SIZE)), "one row per linked request");
            assertTrue(traceIds.contains(batch.getTraceId()), "a batch belongs to the trace of a request it served");
        }
        for (SpanData s : servers) {
            SpanData queue = only(trace(s.getTraceId()), "gantry.queue");
            assertEquals(s.getSpanId(), queue.getParentSpanId(), "every request has its own queue span");
        }
    }

    @Test
    void shadowCall_isASpanUnderTheRequestItCopied() {
        String traceId = randomHex(16);
        assertEquals(200, infer(SHADOWED, "00-" + traceId + "-" + randomHex(8) + "-01", 1).statusCode());
        SpanData serverSpan = await(s -> s.getKind() == SpanKind.SERVER && s.getTraceId().equals(traceId));
        SpanData shadow = await(s -> s.getName().equals("gantry.shadow") && s.getTraceId().equals(traceId));

        assertEquals(serverSpan.getSpanId(), shadow.getParentSpanId());
        assertEquals(2L, shadow.getAttributes().get(AttributeKey.longKey(TraceSpan.VERSION)));
        assertEquals("shadow", attr(shadow, TraceSpan.ROUTE_KIND));
        SpanData shadowBatch = await(s -> s.getName().equals("gantry.batch") && s.getTraceId().equals(traceId)
                && s.getParentSpanId().equals(shadow.getSpanId()));
        assertEquals(2L, shadowBatch.getAttributes().get(AttributeKey.longKey(TraceSpan.VERSION)));
    }

    @Test
    void unsampledTraceparent_isPropagated_butRecordsNoSpans() {
        String traceId = randomHex(16);
        HttpResponse<String> r = infer(TRACED, "00-" + traceId + "-" + randomHex(8) + "-00", 1);
        assertEquals(200, r.statusCode());
        String answered = r.headers().firstValue("traceparent").orElseThrow();
        assertTrue(answered.startsWith("00-" + traceId + "-") && answered.endsWith("-00"), answered);
        infer(TRACED, "00-" + randomHex(16) + "-" + randomHex(8) + "-01", 1);
        await(s -> s.getKind() == SpanKind.SERVER && !s.getTraceId().equals(traceId));
        assertEquals(List.of(), trace(traceId));
    }

    @Test
    void requestWithoutTraceparent_startsATrace_andAnswersWithIt() {
        HttpResponse<String> r = infer(TRACED, null, 1);
        assertEquals(200, r.statusCode());
        String answered = r.headers().firstValue("traceparent").orElseThrow();
        String traceId = answered.split("-")[1];
        SpanData serverSpan = await(s -> s.getKind() == SpanKind.SERVER && s.getTraceId().equals(traceId));
        assertFalse(serverSpan.getParentSpanContext().isValid(), "a new trace's server span is its root");
        assertNotEquals("00000000000000000000000000000000", traceId);
    }

    static HttpResponse<String> infer(String model, String traceparent, int rows) {
        HttpRequest.Builder b = HttpRequest.newBuilder(server.uri("/v2/models/" + model + "/infer"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(mlpBody(rows, 7)));
        if (traceparent != null) {
            b.header("traceparent", traceparent);
        }
        return server.send(b.build());
    }

    static String mlpBody(int rows, long seed) {
        return Bodies.fp32Request("features", new long[] {rows, 64}, Bodies.randomFloats(64 * rows, seed), null);
    }

    static List<SpanData> trace(String traceId) {
        return spans.getFinishedSpanItems().stream().filter(s -> s.getTraceId().equals(traceId)).toList();
    }

    static SpanData only(List<SpanData> trace, String name) {
        List<SpanData> found = trace.stream().filter(s -> s.getName().equals(name)).toList();
        assertEquals(1, found.size(), "spans named " + name + " in " + trace);
        return found.get(0);
    }

    static String attr(SpanData s, String key) {
        return s.getAttributes().get(AttributeKey.stringKey(key));
    }

    /** Waits (up to 10 s) for a finished span: a server span ends just after its response was sent. */
    static SpanData await(Predicate<SpanData> which) {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (true) {
            Optional<SpanData> s = spans.getFinishedSpanItems().stream().filter(which).findFirst();
            if (s.isPresent()) {
                return s.get();
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no such span among " + spans.getFinishedSpanItems());
            }
            Thread.onSpinWait();
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        }
    }

    static String randomHex(int bytes) {
        byte[] b = new byte[bytes];
        new SplittableRandom(System.nanoTime()).nextBytes(b);
        b[0] |= 1;
        return HexFormat.of().formatHex(b);
    }

}
