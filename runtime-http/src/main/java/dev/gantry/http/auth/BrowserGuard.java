package dev.gantry.http.auth;

import dev.gantry.core.error.ErrorCode;
import dev.gantry.core.error.GantryException;
import dev.gantry.http.error.EarlyAnswer;
import dev.gantry.http.error.ErrorMapper;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.RoutingContext;

import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.BooleanSupplier;

/**
 * Keeps browsers from being used against the server. A web page on another origin may not change anything:
 * requests that change state and carry a foreign {@code Origin} get 403 (a "simple" cross-site POST needs no
 * preflight, so CORS alone would not stop it), and so do preflights from origins not allowed. While no key exists
 * (the open posture) only loopback {@code Host} names are answered, so a DNS-rebinding page that resolves its own
 * name to 127.0.0.1 reaches nothing.
 */
public final class BrowserGuard implements Handler<RoutingContext> {
    /*
     * Same origin is not cross-site: an Origin whose authority equals the Host header is the server's own page.
     * "Origin: null" (sandboxed frames, file: pages) is always foreign. GET and HEAD change nothing and pass;
     * their responses carry no CORS header for a foreign origin, so the page cannot read them.
     */
    private static final Set<HttpMethod> SAFE = Set.of(HttpMethod.GET, HttpMethod.HEAD);
    private static final Set<String> LOOPBACK = Set.of("localhost", "127.0.0.1", "[::1]", "::1");
    private static final String ALLOWED_HEADERS = "Authorization, Content-Type, Content-Encoding, Accept-Encoding, "
            + "Gantry-Route-Key, Inference-Header-Content-Length, traceparent";
    private static final String EXPOSED_HEADERS = "Gantry-Model-Version, Inference-Header-Content-Length, "
            + "Deprecation, Sunset, Retry-After";

    private final List<String> allowedOrigins;
    private final List<String> allowedHosts;
    private final BooleanSupplier noKeys;
    /*
     * The last Host value found answered. Clients send the same Host on every request, and the check trimmed,
     * lower-cased and split it each time (2% of the event loop under MLP load). A plain field: a String is safely
     * published through its final fields, and a loop that reads a stale value only checks once more.
     */
    private String answeredHost;

    /** @param noKeys true while no API key exists: then only loopback (and allowed) Host names are answered */
    public BrowserGuard(List<String> allowedOrigins, List<String> allowedHosts, BooleanSupplier noKeys) {
        this.allowedOrigins = List.copyOf(allowedOrigins);
        this.allowedHosts = List.copyOf(allowedHosts);
        this.noKeys = noKeys;
    }

    @Override
    public void handle(RoutingContext ctx) {
        HttpServerRequest req = ctx.request();
        String host = req.getHeader(io.vertx.core.http.HttpHeaders.HOST);
        if (noKeys.getAsBoolean() && !hostAnswered(host)) {
            refuse(ctx, "Host '" + host + "' is not a loopback name: a server without API keys answers only "
                    + "localhost, 127.0.0.1 and [::1] (and --allowed-hosts), so web pages cannot reach it by DNS rebinding");
            return;
        }
        String origin = req.getHeader(io.vertx.core.http.HttpHeaders.ORIGIN);
        if (origin == null || sameOrigin(origin, host)) {
            ctx.next();
            return;
        }
        boolean allowed = allowedOrigins.contains(origin.toLowerCase(Locale.ROOT));
        boolean preflight = req.method() == HttpMethod.OPTIONS && req.getHeader("Access-Control-Request-Method") != null;
        if (preflight) {
            if (!allowed) {
                refuse(ctx, "origin '" + origin + "' may not call this server (allow it with --allowed-origins)");
                return;
            }
            ctx.response().setStatusCode(204)
                    .putHeader("Access-Control-Allow-Origin", origin)
                    .putHeader("Vary", "Origin")
                    .putHeader("Access-Control-Allow-Methods", "GET, HEAD, POST, PUT, PATCH, DELETE")
                    .putHeader("Access-Control-Allow-Headers", ALLOWED_HEADERS)
                    .putHeader("Access-Control-Max-Age", "600")
                    .end();
            return;
        }
        if (allowed) {
            ctx.response().putHeader("Access-Control-Allow-Origin", origin).putHeader("Vary", "Origin")
                    .putHeader("Access-Control-Expose-Headers", EXPOSED_HEADERS);
        } else if (!SAFE.contains(req.method())) {
            refuse(ctx, "cross-site " + req.method() + " from origin '" + origin + "' refused: web pages of other "
                    + "origins may not change anything here (allow an origin with --allowed-origins)");
            return;
        }
        ctx.next();
    }

    private boolean hostAnswered(String host) {
        if (host == null) {
            return false;
        }
        if (host.equals(answeredHost)) {
            return true;
        }
        boolean answered = answers(host);
        if (answered) {
            answeredHost = host;
        }
        return answered;
    }

    private boolean answers(String host) {
        String h = host.trim().toLowerCase(Locale.ROOT);
        if (allowedHosts.contains(h)) {
            return true;
        }
        String name = stripPort(h);
        return LOOPBACK.contains(name) || allowedHosts.contains(name) || name.matches("127\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}");
    }

    private static String stripPort(String h) {
        if (h.startsWith("[")) {
            int end = h.indexOf(']');
            return end > 0 ? h.substring(0, end + 1) : h;
        }
        int colon = h.indexOf(':');
        return colon >= 0 && h.indexOf(':', colon + 1) < 0 ? h.substring(0, colon) : h;
    }

    private static boolean sameOrigin(String origin, String host) {
        if (host == null || origin.equals("null")) {
            return false;
        }
        int scheme = origin.indexOf("://");
        return scheme > 0 && origin.substring(scheme + 3).equalsIgnoreCase(host.trim());
    }

    private static void refuse(RoutingContext ctx, String message) {
        EarlyAnswer.leaveBodyUnread(ctx);
        ErrorMapper.send(ctx.response(), new GantryException(ErrorCode.FORBIDDEN, message));
    }
}
