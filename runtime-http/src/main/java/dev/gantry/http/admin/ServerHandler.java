package dev.gantry.http.admin;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gantry.core.replica.Replication;
import dev.gantry.http.inference.BodyMemory;
import dev.gantry.http.json.Json;
import dev.gantry.http.sizing.ServerSizing;
import io.vertx.ext.web.RoutingContext;

import java.util.function.Supplier;

/**
 * Answers {@code GET /admin/v1/server}: the machine and sizing, and where this server stands among those sharing
 * its catalogue ({@code replication}). Reads only memory, so it runs on the event loop.
 */
public final class ServerHandler {
    private final ServerSizing sizing;
    private final Supplier<Replication.Status> replication;
    private final BodyMemory bodyMemory;

    public ServerHandler(ServerSizing sizing, Supplier<Replication.Status> replication, BodyMemory bodyMemory) {
        this.sizing = sizing;
        this.replication = replication;
        this.bodyMemory = bodyMemory;
    }

    public void send(RoutingContext ctx) {
        ObjectNode root = sizing.json();
        ObjectNode body = ((ObjectNode) root.get("sizing")).putObject("max_body_memory_bytes");
        body.put("value", bodyMemory.budget());
        body.put("derived", BodyMemory.derivedBudget());
        body.put("overridden", !bodyMemory.derived());
        Replication.Status s = replication.get();
        ObjectNode r = root.putObject("replication");
        r.put("shared_catalog", s.shared());
        r.put("replica_id", s.replicaId());
        r.put("applied_change", s.applied());
        r.put("head_change", s.head());
        r.put("caught_up", s.caughtUp());
        r.put("background_lease", s.backgroundLease());
        r.put("last_change_lag_ms", s.lastLagMillis());
        Json.send(ctx.response(), 200, root);
    }
}
