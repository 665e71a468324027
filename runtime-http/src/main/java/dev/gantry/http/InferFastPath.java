package dev.gantry.http;

import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.util.List;

/**
 * The main port's request handler: inference requests go to the inference handlers, everything else to the full
 * router. The inference handlers run as a fixed chain without a router ({@link InferenceContext}) by default, or,
 * while the access log or tracing is on (they read the matched route), behind a router that holds only the
 * inference routes.
 */
final class InferFastPath implements Handler<HttpServerRequest> {
    /*
     * Why. Vert.x Web walks its routes in order and, for each, matches the path (a regex for routes with
     * parameters) before the method, so that it can answer 405. A POST to /v2/models/m/infer was matched against
     * every route registered before it (~15 regexes on each ctx.next() of the four handlers in front of it).
     *
     * Same semantics by construction. The chain, and the small router when the access log or tracing is on, are
     * built by the same code as the full router: the same handlers in front (connection guard, access log,
     * browser guard, tracing), the same inference route handlers (access control, inference), and for the small
     * router the same patterns and 404/405/400/500 handlers. A request is sent there only when
     * its method is POST and its raw path is exactly one of the two inference shapes with plain segments
     * (letters, digits, '-', '_', '.', not "." or ".."): such a path is its own normalized form, its parameters
     * decode to themselves, and no route before the inference routes in the full router can match it (they are
     * GET routes, or /admin/*, /v2/repository/*). Anything else (other methods, percent-encoding, "//", a
     * trailing slash, dot segments) takes the full router, which answers as it always did.
     */
    private static final String PREFIX = "/v2/models/";
    private static final String INFER = "/infer";
    private static final String VERSIONS = "/versions/";

    /** Null when {@link #chain} is used. */
    private final Router inference;
    /** The inference route's handlers, in the order a router would run them; null when {@link #inference} is. */
    private final Handler<RoutingContext>[] chain;
    private final Router all;
    private final Vertx vertx;

    @SuppressWarnings("unchecked")
    private InferFastPath(Router inference, List<Handler<RoutingContext>> chain, Router all, Vertx vertx) {
        this.inference = inference;
        this.chain = chain == null ? null : chain.toArray(Handler[]::new);
        this.all = all;
        this.vertx = vertx;
    }

    /** Inference requests to {@code inference}, a router holding only the inference routes. */
    static InferFastPath routed(Router inference, Router all) {
        return new InferFastPath(inference, null, all, null);
    }

    /** Inference requests through {@code chain} (the handlers an inference route holds, in order), no router. */
    static InferFastPath direct(List<Handler<RoutingContext>> chain, Router all, Vertx vertx) {
        return new InferFastPath(null, List.copyOf(chain), all, vertx);
    }

    @Override
    public void handle(HttpServerRequest request) {
        if (request.method() == HttpMethod.POST) {
            String path = request.path();
            int modelEnd = modelEnd(path);
            if (modelEnd >= 0) {
                if (chain == null) {
                    inference.handle(request);
                    return;
                }
                int end = path.length() - INFER.length();
                String model = path.substring(PREFIX.length(), modelEnd);
                String version = modelEnd == end ? null : path.substring(modelEnd + VERSIONS.length(), end);
                new InferenceContext(request, vertx, chain, model, version).next();
                return;
            }
        }
        all.handle(request);
    }

    /** {@code /v2/models/{m}/infer} or {@code /v2/models/{m}/versions/{v}/infer}, every segment plain. */
    static boolean isInferencePath(String path) {
        return modelEnd(path) >= 0;
    }

    /** Where an inference path's model segment ends (at "/infer" or "/versions/"), or -1 for any other path. */
    private static int modelEnd(String path) {
        if (path == null || !path.startsWith(PREFIX) || !path.endsWith(INFER)) {
            return -1;
        }
        int end = path.length() - INFER.length();
        int modelEnd = segmentEnd(path, PREFIX.length(), end);
        if (modelEnd < 0 || modelEnd == end) {
            return modelEnd;
        }
        if (!path.startsWith(VERSIONS, modelEnd)) {
            return -1;
        }
        return segmentEnd(path, modelEnd + VERSIONS.length(), end) == end ? modelEnd : -1;
    }

    /** The end of a plain segment starting at {@code from} (at the next '/' or {@code limit}), or -1. */
    private static int segmentEnd(String path, int from, int limit) {
        int i = from;
        while (i < limit) {
            char c = path.charAt(i);
            if (c == '/') {
                break;
            }
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_'
                    || c == '.')) {
                return -1;
            }
            i++;
        }
        int length = i - from;
        if (length == 0 || (length == 1 && path.charAt(from) == '.')
                || (length == 2 && path.charAt(from) == '.' && path.charAt(from + 1) == '.')) {
            return -1;
        }
        return i;
    }
}
