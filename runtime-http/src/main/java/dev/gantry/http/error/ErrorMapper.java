package dev.gantry.http.error;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.gantry.core.error.ErrorCode;
import dev.gantry.core.error.GantryException;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.util.concurrent.CompletionException;

/** The one place that turns a failure into an HTTP status and an {@code {"error": "..."}} body. */
public final class ErrorMapper {
    private static final Logger log = LoggerFactory.getLogger(ErrorMapper.class);
    private static final JsonFactory JSON = new JsonFactory();

    private ErrorMapper() {
    }

    public static int status(ErrorCode code) {
        return switch (code) {
            case INVALID_ARG, UNSUPPORTED -> 400;
            case UNAUTHENTICATED -> 401;
            case FORBIDDEN -> 403;
            case NOT_FOUND -> 404;
            case DEADLINE_EXCEEDED -> 408;
            case ALREADY_EXISTS, FAILED_PRECONDITION -> 409;
            case GONE -> 410;
            case PAYLOAD_TOO_LARGE -> 413;
            case UNSUPPORTED_MEDIA_TYPE -> 415;
            case RESOURCE_EXHAUSTED -> 429;
            case CANCELLED -> 499;
            case UNAVAILABLE, WORKER_CRASHED -> 503;
            case INTERNAL -> 500;
            case MODEL_TIMEOUT -> 504;
            case INSUFFICIENT_STORAGE -> 507;
        };
    }

    /** Unwraps completion wrappers; anything that is not a GantryException becomes INTERNAL (and is logged). */
    /**
     * Adds {@code Retry-After: 1} to a 429 or 503 answer unless the handler set its own: those are the statuses a
     * client should retry (every 503 code is a passing condition: UNAVAILABLE, WORKER_CRASHED).
     */
    public static void retryAfter(HttpServerResponse response, int status) {
        if ((status == 429 || status == 503) && !response.headers().contains("Retry-After")) {
            response.putHeader("Retry-After", "1");
        }
    }

    public static GantryException toGantry(Throwable failure) {
        Throwable t = failure;
        while ((t instanceof CompletionException || t instanceof java.util.concurrent.ExecutionException)
                && t.getCause() != null) {
            t = t.getCause();
        }
        if (t instanceof GantryException g) {
            return g;
        }
        log.error("unexpected failure", t);
        return new GantryException(ErrorCode.INTERNAL, "internal error: " + t.getClass().getSimpleName());
    }

    /** Sends the error response for {@code failure}, unless a response was already sent. */
    public static void send(RoutingContext ctx, Throwable failure) {
        send(ctx.response(), toGantry(failure));
    }

    public static void send(HttpServerResponse response, GantryException e) {
        if (response.ended() || response.closed()) {
            return;
        }
        if (response.headWritten()) {
            response.reset();
            return;
        }
        int status = status(e.code());
        response.setStatusCode(status).putHeader("Content-Type", "application/json");
        retryAfter(response, status);
        response.end(body(e.getMessage()));
    }

    public static Buffer body(String message) {
        StringWriter w = new StringWriter(message.length() + 16);
        try (JsonGenerator g = JSON.createGenerator(w)) {
            g.writeStartObject();
            g.writeStringField("error", message);
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return Buffer.buffer(w.toString());
    }
}
