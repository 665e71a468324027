package dev.gantry.http.openai;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gantry.core.error.ErrorCode;
import dev.gantry.core.error.GantryException;
import dev.gantry.http.error.ErrorMapper;
import dev.gantry.http.json.Json;
import io.vertx.core.http.HttpServerResponse;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Renders failures on the {@code /v1} routes as OpenAI error objects,
 * {@code {"error": {"message", "type", "param", "code"}}}; the status comes from {@link ErrorMapper}, as on every
 * other route.
 */
final class OpenAiErrors {
    /** A message that starts with a request field's name (or "unknown model") blames that field. */
    private static final Pattern PARAM = Pattern.compile(
            "^(?:unknown )?(model|input|encoding_format|dimensions|truncate|user)\\b");

    private OpenAiErrors() {
    }

    static void send(HttpServerResponse response, Throwable failure) {
        GantryException e = ErrorMapper.toGantry(failure);
        if (response.ended() || response.closed()) {
            return;
        }
        if (response.headWritten()) {
            response.reset();
            return;
        }
        int status = ErrorMapper.status(e.code());
        ErrorMapper.retryAfter(response, status);
        Json.send(response, status, body(e));
    }

    static ObjectNode body(GantryException e) {
        ObjectNode root = Json.object();
        ObjectNode error = root.putObject("error");
        error.put("message", e.getMessage());
        error.put("type", type(ErrorMapper.status(e.code())));
        Matcher m = PARAM.matcher(e.getMessage());
        if (m.find()) {
            error.put("param", m.group(1));
        } else {
            error.putNull("param");
        }
        error.put("code", e.code() == ErrorCode.NOT_FOUND && e.getMessage().startsWith("unknown model")
                ? "model_not_found" : e.code().name().toLowerCase(Locale.ROOT));
        return root;
    }

    private static String type(int status) {
        return switch (status) {
            case 401 -> "authentication_error";
            case 403 -> "permission_error";
            case 429 -> "rate_limit_error";
            default -> status >= 500 ? "server_error" : "invalid_request_error";
        };
    }
}
