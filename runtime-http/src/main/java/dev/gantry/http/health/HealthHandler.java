package dev.gantry.http.health;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gantry.http.json.Json;
import io.vertx.ext.web.RoutingContext;

import java.util.function.BooleanSupplier;

/** OIP server metadata, liveness and readiness. As the protocol says: 200 means true, a 4xx means false. */
public final class HealthHandler {
    private final String version;
    private final BooleanSupplier ready;

    public HealthHandler(String version, BooleanSupplier ready) {
        this.version = version;
        this.ready = ready;
    }

    public void serverMetadata(RoutingContext ctx) {
        ObjectNode root = Json.object();
        root.put("name", "gantry");
        root.put("version", version);
        var extensions = root.putArray("extensions");
        Extensions.SERVED.forEach(extensions::add);
        Json.send(ctx.response(), 200, root);
    }

    public void live(RoutingContext ctx) {
        ObjectNode root = Json.object();
        root.put("live", true);
        Json.send(ctx.response(), 200, root);
    }

    public void ready(RoutingContext ctx) {
        boolean r = ready.getAsBoolean();
        ObjectNode root = Json.object();
        root.put("ready", r);
        Json.send(ctx.response(), r ? 200 : 400, root);
    }
}
