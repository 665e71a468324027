package dev.gantry.http.admin;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gantry.http.auth.Caller;
import dev.gantry.http.json.Json;
import io.vertx.core.WorkerExecutor;
import io.vertx.ext.web.RoutingContext;

/** Triton's model repository extension under {@code /v2/repository}: index, load and unload of whole models. */
public final class RepositoryHandler {
    private final RepositoryActions actions;
    private final WorkerExecutor workers;

    public RepositoryHandler(RepositoryActions actions, WorkerExecutor workers) {
        this.actions = actions;
        this.workers = workers;
    }

    /** Every model the caller may see, with each version's state. */
    public void index(RoutingContext ctx) {
        ArrayNode index = Json.MAPPER.createArrayNode();
        for (RepositoryActions.IndexEntry e : actions.index(Caller.from(ctx))) {
            ObjectNode n = index.addObject();
            n.put("name", e.name());
            e.version().ifPresent(v -> n.put("version", Long.toString(v)));
            n.put("state", e.state());
            e.reason().ifPresent(r -> n.put("reason", r));
        }
        Json.send(ctx.response(), 200, index);
    }

    /**
     * Loads (again) what the model's version policy and its traffic policy need; a body
     * {@code {"parameters": {"config": "<model configuration JSON>"}}} loads them with that configuration.
     */
    public void load(RoutingContext ctx) {
        String model = ctx.pathParam("model");
        Caller caller = Caller.from(ctx);
        AdminBodies.json(ctx).onSuccess(body -> {
            java.util.Map<String, String> parameters = new java.util.LinkedHashMap<>();
            try {
                com.fasterxml.jackson.databind.JsonNode p = body.path("parameters");
                if (!p.isMissingNode() && !p.isObject()) {
                    throw dev.gantry.core.error.GantryException.invalid("'parameters' must be an object");
                }
                p.fields().forEachRemaining(e -> parameters.put(e.getKey(), e.getValue().isTextual()
                        ? e.getValue().asText() : e.getValue().toString()));
            } catch (dev.gantry.core.error.GantryException e) {
                dev.gantry.http.error.ErrorMapper.send(ctx.response(), e);
                return;
            }
            Replies.async(ctx, workers, 200, () -> actions.load(model, caller, parameters).thenApply(x -> Json.object()));
        }).onFailure(e -> dev.gantry.http.error.ErrorMapper.send(ctx, e));
    }

    /** Takes the whole model out of service: every version drains and unloads; its traffic policy is kept. */
    public void unload(RoutingContext ctx) {
        String model = ctx.pathParam("model");
        Caller caller = Caller.from(ctx);
        Replies.async(ctx, workers, 200, () -> actions.unload(model, caller).thenApply(x -> Json.object()));
    }
}
