package dev.gantry.http.inference;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.gantry.core.error.ErrorCode;
import dev.gantry.core.error.GantryException;
import dev.gantry.core.sharedmemory.SharedMemoryRegistry;
import dev.gantry.http.auth.Caller;
import dev.gantry.http.error.EarlyAnswer;
import dev.gantry.http.error.ErrorMapper;
import dev.gantry.http.json.Json;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.RoutingContext;

import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Optional;

/**
 * Triton's system shared memory extension over HTTP: register, status and unregister regions, per caller.
 * The CUDA shared memory extension is answered 400: Gantry has no GPU memory path.
 */
public final class SharedMemoryHandler {
    /** Largest register body read: it is three small fields. */
    private static final long MAX_BODY = 16 * 1024;

    private final SharedMemoryRegistry registry;

    public SharedMemoryHandler(SharedMemoryRegistry registry) {
        this.registry = registry;
    }

    /** The owner of the caller's regions: its API key's id, or "anonymous" while the server has no keys. */
    public static String owner(RoutingContext ctx) {
        Caller caller = ctx.get(Caller.CONTEXT_KEY);
        return caller == null || caller.key().isEmpty() ? "anonymous" : "key:" + caller.key().get().id();
    }

    /** {@code POST /v2/systemsharedmemory/region/{region}/register} with {@code {"key", "offset", "byte_size"}}. */
    public void register(RoutingContext ctx) {
        if (!fromThisHost(ctx)) {
            EarlyAnswer.leaveBodyUnread(ctx);
            ErrorMapper.send(ctx.response(), new GantryException(ErrorCode.FORBIDDEN, "shared memory can only be"
                    + " registered by a client on the server's own host (this request came from "
                    + ctx.request().remoteAddress().hostAddress() + ")"));
            return;
        }
        String name = ctx.pathParam("region");
        BodyReader.read(ctx.request(), MAX_BODY).onSuccess(body -> {
            try {
                JsonNode json = parse(body);
                String key = text(json, "key");
                long offset = json.has("offset") ? number(json, "offset") : 0;
                long byteSize = number(json, "byte_size");
                registry.register(owner(ctx), name, key, offset, byteSize);
                Json.send(ctx.response(), 200, Json.object());
            } catch (GantryException e) {
                ErrorMapper.send(ctx.response(), e);
            }
        }).onFailure(e -> ErrorMapper.send(ctx, e));
    }

    /** {@code GET /v2/systemsharedmemory[/region/{region}]/status}: a list of {name, key, offset, byte_size}. */
    public void status(RoutingContext ctx) {
        try {
            ArrayNode list = Json.MAPPER.createArrayNode();
            for (SharedMemoryRegistry.Status s : registry.status(owner(ctx),
                    Optional.ofNullable(ctx.pathParam("region")))) {
                list.addObject().put("name", s.name()).put("key", s.key()).put("offset", s.offset())
                        .put("byte_size", s.byteSize());
            }
            Json.send(ctx.response(), 200, list);
        } catch (GantryException e) {
            ErrorMapper.send(ctx.response(), e);
        }
    }

    /** {@code POST /v2/systemsharedmemory[/region/{region}]/unregister}: one region, or all of the caller's. */
    public void unregister(RoutingContext ctx) {
        try {
            registry.unregister(owner(ctx), Optional.ofNullable(ctx.pathParam("region")));
            Json.send(ctx.response(), 200, Json.object());
        } catch (GantryException e) {
            ErrorMapper.send(ctx.response(), e);
        }
    }

    /** Any {@code /v2/cudasharedmemory/...} route. */
    public void cuda(RoutingContext ctx) {
        EarlyAnswer.leaveBodyUnread(ctx);
        ErrorMapper.send(ctx.response(), new GantryException(ErrorCode.UNSUPPORTED, "CUDA shared memory is not"
                + " supported: Gantry has no GPU memory path; use system shared memory (/v2/systemsharedmemory)"));
    }

    private static boolean fromThisHost(RoutingContext ctx) {
        var remote = ctx.request().remoteAddress();
        if (remote == null || remote.hostAddress() == null) {
            return false;
        }
        try {
            return InetAddress.getByName(remote.hostAddress()).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }

    private static JsonNode parse(Buffer body) {
        try {
            JsonNode json = Json.MAPPER.readTree(body.getBytes());
            if (json == null || !json.isObject()) {
                throw GantryException.invalid("register body must be a JSON object with key, offset and byte_size");
            }
            return json;
        } catch (IOException e) {
            throw GantryException.invalid("register body is not valid JSON: " + e.getMessage());
        }
    }

    private static String text(JsonNode json, String field) {
        JsonNode v = json.get(field);
        if (v == null || !v.isTextual()) {
            throw GantryException.invalid("register body needs '" + field + "' as a string");
        }
        return v.textValue();
    }

    private static long number(JsonNode json, String field) {
        JsonNode v = json.get(field);
        if (v == null || !v.canConvertToLong() || !v.isIntegralNumber()) {
            throw GantryException.invalid("register body needs '" + field + "' as an integer");
        }
        return v.longValue();
    }
}
