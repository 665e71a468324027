package dev.gantry.http;

import dev.gantry.http.auth.Caller;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.ext.web.RoutingContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What the handlers of the inference chain rely on from {@link InferenceContext}, over a real Vert.x server: the
 * chain in order, the path's parameters, the caller and other entries, end handlers once and in reverse order, and
 * a failing handler answered as the routers' error handlers answer.
 */
class InferenceContextTest {
    static Vertx vertx;
    static HttpServer server;
    static final HttpClient CLIENT = HttpClient.newHttpClient();
    /** The chain the next request runs. */
    static final AtomicReference<List<Handler<RoutingContext>>> CHAIN = new AtomicReference<>();
    static final List<String> EVENTS = new CopyOnWriteArrayList<>();

    @BeforeAll
    @SuppressWarnings("unchecked")
    static void start() throws Exception {
        vertx = Vertx.vertx();
        server = vertx.createHttpServer().requestHandler(request -> new InferenceContext(request, vertx,
                CHAIN.get().toArray(Handler[]::new), "mlp", request.getParam("v")).next());
        server.listen(0).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @AfterAll
    static void stop() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    private static HttpResponse<String> post(String query, List<Handler<RoutingContext>> chain) throws Exception {
        EVENTS.clear();
        CHAIN.set(chain);
        return CLIENT.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.actualPort()
                + "/v2/models/mlp/infer" + query)).POST(HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void theChainRunsInOrder_withThePathsParameters_andItsEntries() throws Exception {
        Caller caller = Caller.ANONYMOUS;
        HttpResponse<String> r = post("?v=3&x=1&x=2", List.of(
                ctx -> {
                    EVENTS.add("first");
                    ctx.put(Caller.CONTEXT_KEY, caller).put("other", 7);
                    ctx.next();
                },
                ctx -> {
                    EVENTS.add("second " + ctx.pathParam("model") + " " + ctx.pathParam("version") + " "
                            + ctx.queryParam("x"));
                    assertEquals(java.util.Map.of("model", "mlp", "version", "3"), ctx.pathParams());
                    assertSame(caller, ctx.get(Caller.CONTEXT_KEY));
                    assertSame(caller, Caller.from(ctx));
                    assertEquals(Integer.valueOf(7), ctx.get("other"));
                    assertEquals(Integer.valueOf(7), ctx.remove("other"));
                    assertNull(ctx.get("other"));
                    assertNull(ctx.pathParam("region"));
                    ctx.response().end("done");
                }));
        assertEquals(200, r.statusCode());
        assertEquals("done", r.body());
        assertEquals(List.of("first", "second mlp 3 [1, 2]"), EVENTS);
    }

    @Test
    void endHandlers_runOnceInReverseOrder_andARemovedOneNotAtAll() throws Exception {
        CopyOnWriteArrayList<String> ended = new CopyOnWriteArrayList<>();
        HttpResponse<String> r = post("", List.of(ctx -> {
            ctx.addEndHandler(ar -> ended.add("a " + ar.succeeded()));
            int b = ctx.addEndHandler(ar -> ended.add("b " + ar.succeeded()));
            ctx.addEndHandler(ar -> ended.add("c " + ar.succeeded()));
            assertTrue(ctx.removeEndHandler(b));
            ctx.addBodyEndHandler(v -> ended.add("body"));
            ctx.response().end("ok");
        }));
        assertEquals(200, r.statusCode());
        for (int i = 0; i < 50 && ended.size() < 3; i++) {
            Thread.sleep(20);
        }
        assertTrue(ended.contains("body"), ended.toString());
        assertEquals(List.of("c true", "a true"), ended.stream().filter(e -> !e.equals("body")).toList());
    }

    @Test
    void aHandlerThatThrows_getsTheInternalErrorAnswer_andNothingRunsAfterIt() throws Exception {
        HttpResponse<String> r = post("", List.of(ctx -> {
            throw new IllegalStateException("boom");
        }, ctx -> EVENTS.add("after")));
        assertEquals(500, r.statusCode());
        assertTrue(r.body().contains("\"error\""), r.body());
        assertTrue(r.body().contains("IllegalStateException"), r.body());
        assertEquals(List.of(), EVENTS);
    }

    @Test
    void failWithAStatus_answersThatStatus_andPassingTheEnd_isAnInternalError() throws Exception {
        HttpResponse<String> bad = post("", List.of(ctx -> ctx.fail(400)));
        assertEquals(400, bad.statusCode());
        assertEquals("application/json", bad.headers().firstValue("content-type").orElse(""));
        assertTrue(bad.body().contains("bad request"), bad.body());

        HttpResponse<String> gone = post("", List.of(ctx -> ctx.fail(404)));
        assertEquals(404, gone.statusCode());
        assertTrue(gone.body().contains("Not Found"), gone.body());

        HttpResponse<String> past = post("", List.of(RoutingContext::next));
        assertEquals(500, past.statusCode());
        assertTrue(past.body().contains("\"error\""), past.body());
    }
}
