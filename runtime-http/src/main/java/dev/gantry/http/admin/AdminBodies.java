package dev.gantry.http.admin;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.gantry.core.error.ErrorCode;
import dev.gantry.core.error.GantryException;
import dev.gantry.http.error.EarlyAnswer;
import dev.gantry.http.inference.BodyReader;
import dev.gantry.http.json.Json;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;

import java.time.Duration;

/** Reads the small JSON bodies of admin requests. */
public final class AdminBodies {
    static final long MAX_ADMIN_BODY = 1 << 20;
    /** Routing-context key of the body timeout in milliseconds; see {@link #bodyTimeout(Duration)}. */
    static final String BODY_TIMEOUT_KEY = "gantry.admin.bodyTimeoutMs";
    /** The body timeout when the route did not set one (the default of --body-timeout-ms). */
    static final long DEFAULT_BODY_TIMEOUT_MS = 30_000;

    private AdminBodies() {
    }

    /** A route handler that makes admin bodies read further down the route time out after {@code timeout}. */
    public static Handler<RoutingContext> bodyTimeout(Duration timeout) {
        long ms = timeout.toMillis();
        return ctx -> {
            ctx.put(BODY_TIMEOUT_KEY, ms);
            ctx.next();
        };
    }

    /**
     * The body as a JSON object; an empty body is an empty object. Like inference bodies, it is refused past
     * {@link #MAX_ADMIN_BODY} bytes (413) and when it has not arrived within the body timeout (408, connection
     * closed).
     */
    public static Future<JsonNode> json(RoutingContext ctx) {
        String type = ctx.request().getHeader("Content-Type");
        if (type != null && !isJson(type)) {
            EarlyAnswer.leaveBodyUnread(ctx);
            return Future.failedFuture(new GantryException(ErrorCode.UNSUPPORTED_MEDIA_TYPE, "Content-Type '" + type
                    + "' is not accepted here; send application/json"));
        }
        Long timeoutMs = ctx.get(BODY_TIMEOUT_KEY);
        return BodyReader.read(ctx.request(), MAX_ADMIN_BODY, ctx.vertx(),
                timeoutMs == null ? DEFAULT_BODY_TIMEOUT_MS : timeoutMs).compose(buf -> {
            if (buf.length() == 0) {
                return Future.succeededFuture(Json.object());
            }
            try {
                JsonNode n = Json.MAPPER.readTree(buf.getBytes());
                if (n == null || !n.isObject()) {
                    return Future.failedFuture(GantryException.invalid("the request body must be a JSON object"));
                }
                return Future.succeededFuture(n);
            } catch (JsonProcessingException e) {
                return Future.failedFuture(GantryException.invalid("the request body is not valid JSON: "
                        + e.getOriginalMessage()));
            } catch (java.io.IOException e) {
                return Future.failedFuture(GantryException.invalid("the request body could not be read"));
            }
        });
    }

    /** application/json, or another JSON type (application/merge-patch+json), with or without parameters. */
    static boolean isJson(String contentType) {
        String t = contentType.split(";", 2)[0].trim().toLowerCase(java.util.Locale.ROOT);
        return t.equals("application/json") || (t.startsWith("application/") && t.endsWith("+json"));
    }

    /** A string field; required ones must be present and non-blank. */
    public static String text(JsonNode body, String field, boolean required) {
        JsonNode n = body.get(field);
        if (n == null || n.isNull()) {
            if (required) {
                throw GantryException.invalid("'" + field + "' is required");
            }
            return null;
        }
        if (!n.isTextual() || (required && n.asText().isBlank())) {
            throw GantryException.invalid("'" + field + "' must be a non-empty string");
        }
        return n.asText();
    }

    /** A whole number given as a JSON number or a string of digits (versions are strings in the OIP). */
    public static long integer(JsonNode n, String field) {
        if (n == null || n.isNull()) {
            throw GantryException.invalid("'" + field + "' is required");
        }
        if (n.isIntegralNumber() && n.canConvertToLong()) {
            return n.asLong();
        }
        if (n.isTextual() && n.asText().matches("-?\\d{1,18}")) {
            return Long.parseLong(n.asText());
        }
        throw GantryException.invalid("'" + field + "' must be a whole number, was " + n);
    }
}
