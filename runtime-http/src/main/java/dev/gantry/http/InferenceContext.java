package dev.gantry.http;

import dev.gantry.core.error.GantryException;
import dev.gantry.http.auth.Caller;
import dev.gantry.http.error.ErrorMapper;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.FileUpload;
import io.vertx.ext.web.ParsedHeaderValues;
import io.vertx.ext.web.RequestBody;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.Session;
import io.vertx.ext.web.UserContext;

import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The routing context of an inference request that {@link InferFastPath} dispatches without a router: it runs a
 * fixed chain of handlers (connection guard, browser guard, access control, inference), each passing on with
 * {@link #next()}, as the router would run the handlers in front of an inference route and the route's own.
 */
final class InferenceContext implements RoutingContext {
    /*
     * Why. Under MLP load the router's part of each request (its context and request wrapper, the route walk on
     * every next(), the path regex and its parameter map, the data map the caller's entry allocated) was several
     * per cent of the event loop. Here the path's two parameters come from InferFastPath's scan, the caller has
     * a field of its own, and next() is an index into the chain.
     *
     * Same answers. The chain holds the same handler instances the inference routes hold. A handler that throws
     * gets what the router's 500 handler sends (ErrorMapper); fail(400) and fail(int) answer as the routers'
     * error handlers do. End handlers run in reverse order of registration, once, on the response's end (success),
     * on its exception or on the connection's close (failure), as in Vert.x Web. What no handler of the chain
     * uses (sessions, users, request bodies read by a BodyHandler, rerouting, parsed Accept headers) throws
     * UnsupportedOperationException, so a handler added to the chain later that needs one fails its tests
     * instead of misbehaving. The server only takes this path while neither the access log nor tracing is on:
     * both read the matched route, which only the router has.
     */
    private static final String NOT_HERE = " is not available to the inference fast path's handlers";

    private final HttpServerRequest request;
    private final Vertx vertx;
    private final Handler<RoutingContext>[] chain;
    private final String model;
    /** Null for {@code /v2/models/{m}/infer}. */
    private final String version;
    private int next;
    private Caller caller;
    private Map<String, Object> data;
    private Throwable failure;
    private int statusCode = -1;
    private String acceptableContentType;
    private MultiMap queryParams;
    private Hooks<AsyncResult<Void>> end;
    private Hooks<Void> bodyEnd;
    private Hooks<Void> headersEnd;

    InferenceContext(HttpServerRequest request, Vertx vertx, Handler<RoutingContext>[] chain, String model,
                     String version) {
        this.request = request;
        this.vertx = vertx;
        this.chain = chain;
        this.model = model;
        this.version = version;
    }

    @Override
    public HttpServerRequest request() {
        return request;
    }

    @Override
    public HttpServerResponse response() {
        return request.response();
    }

    @Override
    public void next() {
        if (next >= chain.length) {
            // The inference handler, last in the chain, answers every request; nothing passes beyond it.
            fail(new IllegalStateException("the inference chain ended without an answer"));
            return;
        }
        Handler<RoutingContext> h = chain[next++];
        try {
            h.handle(this);
        } catch (Throwable t) {
            fail(t);
        }
    }

    @Override
    public void fail(int statusCode) {
        fail(statusCode, null);
    }

    @Override
    public void fail(Throwable throwable) {
        fail(-1, throwable == null ? new NullPointerException() : throwable);
    }

    @Override
    public void fail(int statusCode, Throwable throwable) {
        this.statusCode = statusCode;
        this.failure = throwable;
        next = chain.length;
        if (throwable != null || statusCode < 400 || statusCode > 599 || statusCode == 500) {
            // As the routers' 500 handler: logged when unexpected, even if an answer already went out.
            ErrorMapper.send(this, throwable != null ? throwable : new IllegalStateException("request failed"));
            return;
        }
        if (response().closed()) {
            return;
        }
        // As the routers' error handlers: 400 says "bad request"; other statuses their reason phrase.
        HttpVerticle.send(this, statusCode, statusCode == 400 ? "bad request"
                : io.netty.handler.codec.http.HttpResponseStatus.valueOf(statusCode).reasonPhrase());
    }

    @Override
    public RoutingContext put(String key, Object obj) {
        if (Caller.CONTEXT_KEY.equals(key)) {
            caller = (Caller) obj;
        } else {
            data().put(key, obj);
        }
        return this;
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T> T get(String key) {
        if (Caller.CONTEXT_KEY.equals(key)) {
            return (T) caller;
        }
        return data == null ? null : (T) data.get(key);
    }

    @Override
    public <T> T get(String key, T defaultValue) {
        T value = get(key);
        return value != null ? value : defaultValue;
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T> T remove(String key) {
        if (Caller.CONTEXT_KEY.equals(key)) {
            T was = (T) caller;
            caller = null;
            return was;
        }
        return data == null ? null : (T) data.remove(key);
    }

    /** The entries other than the caller's (which has a field of its own; {@link #get} reads both). */
    @Override
    @SuppressWarnings("unchecked")
    public <T> Map<String, T> data() {
        if (data == null) {
            data = new HashMap<>();
        }
        return (Map<String, T>) data;
    }

    @Override
    public Vertx vertx() {
        return vertx;
    }

    @Override
    public String mountPoint() {
        return null;
    }

    @Override
    public Route currentRoute() {
        return null;
    }

    /** The request's path: InferFastPath sends only paths that are their own normalized form. */
    @Override
    public String normalizedPath() {
        return request.path();
    }

    @Override
    public RequestBody body() {
        throw new UnsupportedOperationException("body()" + NOT_HERE);
    }

    @Override
    public List<FileUpload> fileUploads() {
        return List.of();
    }

    @Override
    public void cancelAndCleanupFileUploads() {
    }

    @Override
    public Session session() {
        return null;
    }

    @Override
    public boolean isSessionAccessed() {
        return false;
    }

    @Override
    public UserContext userContext() {
        throw new UnsupportedOperationException("userContext()" + NOT_HERE);
    }

    @Override
    public Throwable failure() {
        return failure;
    }

    @Override
    public int statusCode() {
        return statusCode;
    }

    @Override
    public String getAcceptableContentType() {
        return acceptableContentType;
    }

    @Override
    public void setAcceptableContentType(String contentType) {
        this.acceptableContentType = contentType;
    }

    @Override
    public ParsedHeaderValues parsedHeaders() {
        throw new UnsupportedOperationException("parsedHeaders()" + NOT_HERE);
    }

    @Override
    public int addHeadersEndHandler(Handler<Void> handler) {
        if (headersEnd == null) {
            headersEnd = Hooks.on(response()::headersEndHandler);
        }
        return headersEnd.add(handler);
    }

    @Override
    public boolean removeHeadersEndHandler(int handlerID) {
        return headersEnd != null && headersEnd.remove(handlerID);
    }

    @Override
    public int addBodyEndHandler(Handler<Void> handler) {
        if (bodyEnd == null) {
            bodyEnd = Hooks.on(response()::bodyEndHandler);
        }
        return bodyEnd.add(handler);
    }

    @Override
    public boolean removeBodyEndHandler(int handlerID) {
        return bodyEnd != null && bodyEnd.remove(handlerID);
    }

    @Override
    public int addEndHandler(Handler<AsyncResult<Void>> handler) {
        if (end == null) {
            Hooks<AsyncResult<Void>> hooks = end = new Hooks<>();
            response().endHandler(v -> hooks.run(Future.succeededFuture()))
                    .exceptionHandler(e -> hooks.run(Future.failedFuture(e)))
                    .closeHandler(v -> hooks.run(Future.failedFuture("Connection closed")));
        }
        return end.add(handler);
    }

    @Override
    public boolean removeEndHandler(int handlerID) {
        return end != null && end.remove(handlerID);
    }

    /**
     * Handlers for one event of the response, run once, in reverse order of registration; a handler's id is its
     * index (a removed one leaves its slot empty, so later ids stay valid).
     */
    private static final class Hooks<T> {
        private final List<Handler<T>> handlers = new ArrayList<>(2);
        private boolean ran;

        /** Hooks run by the response event {@code register} sets a handler for. */
        static Hooks<Void> on(java.util.function.Consumer<Handler<Void>> register) {
            Hooks<Void> hooks = new Hooks<>();
            register.accept(v -> hooks.run(null));
            return hooks;
        }

        int add(Handler<T> handler) {
            handlers.add(handler);
            return handlers.size() - 1;
        }

        boolean remove(int id) {
            if (id < 0 || id >= handlers.size() || handlers.get(id) == null) {
                return false;
            }
            handlers.set(id, null);
            return true;
        }

        void run(T event) {
            if (ran) {
                return;
            }
            ran = true;
            for (int i = handlers.size() - 1; i >= 0; i--) {
                Handler<T> h = handlers.get(i);
                if (h != null) {
                    h.handle(event);
                }
            }
        }
    }

    @Override
    public boolean failed() {
        return failure != null || statusCode != -1;
    }

    @Override
    public void reroute(io.vertx.core.http.HttpMethod method, String path) {
        throw new UnsupportedOperationException("reroute()" + NOT_HERE);
    }

    @Override
    public Map<String, String> pathParams() {
        return version == null ? Map.of("model", model) : Map.of("model", model, "version", version);
    }

    @Override
    public String pathParam(String name) {
        return switch (name) {
            case "model" -> model;
            case "version" -> version;
            default -> null;
        };
    }

    @Override
    public MultiMap queryParams() {
        return queryParams(StandardCharsets.UTF_8);
    }

    @Override
    public MultiMap queryParams(Charset encoding) {
        if (queryParams == null) {
            MultiMap params = MultiMap.caseInsensitiveMultiMap();
            try {
                new QueryStringDecoder(request.uri(), encoding).parameters().forEach(params::add);
            } catch (IllegalArgumentException e) {
                throw new GantryException(dev.gantry.core.error.ErrorCode.INVALID_ARG,
                        "malformed query string: " + e.getMessage());
            }
            queryParams = params;
        }
        return queryParams;
    }

    @Override
    public List<String> queryParam(String name) {
        return queryParams().getAll(name);
    }
}
