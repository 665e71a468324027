package dev.gantry.http.admin;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gantry.core.access.Actor;
import dev.gantry.core.error.ErrorCode;
import dev.gantry.core.error.GantryException;
import dev.gantry.core.lifecycle.ModelVersionState;
import dev.gantry.core.repository.ModelRepositoryManager;
import dev.gantry.core.routing.DeploymentManager;
import dev.gantry.http.auth.Caller;
import dev.gantry.http.auth.RouteGroup;
import dev.gantry.http.json.Json;
import io.vertx.core.WorkerExecutor;
import io.vertx.ext.web.RoutingContext;

import java.util.List;

/** Triton's model repository extension under {@code /v2/repository}: index, load and unload of whole models. */
public final class RepositoryHandler {
    private final ModelRepositoryManager repository;
    private final DeploymentManager deployments;
    private final WorkerExecutor workers;

    public RepositoryHandler(ModelRepositoryManager repository, DeploymentManager deployments,
                             WorkerExecutor workers) {
        this.repository = repository;
        this.deployments = deployments;
        this.workers = workers;
    }

    /** Every model the caller may see, with each version's state. */
    public void index(RoutingContext ctx) {
        Caller caller = Caller.from(ctx);
        ArrayNode index = Json.MAPPER.createArrayNode();
        for (String name : DeploymentsHandler.modelNames(repository)) {
            if (!caller.sees(name)) {
                continue;
            }
            List<ModelVersionState> versions = repository.lifecycle().versions(name);
            if (versions.isEmpty()) {
                ObjectNode n = index.addObject();
                n.put("name", name);
                n.put("state", "UNAVAILABLE");
                n.put("reason", "no version loaded");
            }
            for (ModelVersionState v : versions) {
                ObjectNode n = index.addObject();
                n.put("name", name);
                n.put("version", Long.toString(v.id().version()));
                n.put("state", v.state().name());
                v.reason().ifPresent(r -> n.put("reason", r));
            }
        }
        Json.send(ctx.response(), 200, index);
    }

    /** Loads (again) what the model's version policy and its traffic policy need. */
    public void load(RoutingContext ctx) {
        String model = ctx.pathParam("model");
        Actor actor = Caller.from(ctx).actor(RouteGroup.DEPLOY);
        Replies.async(ctx, workers, 200, () -> deployments.loadModel(model, actor).thenApply(states -> {
            List<ModelVersionState> failed = states.stream().filter(s -> !s.isReady()).toList();
            if (!failed.isEmpty()) {
                throw new GantryException(ErrorCode.FAILED_PRECONDITION, "failed to load " + failed.stream()
                        .map(s -> "version " + s.id().version() + ": " + s.reason().orElse(s.state().name())).toList());
            }
            return Json.object();
        }));
    }

    /** Takes the whole model out of service: every version drains and unloads; its traffic policy is kept. */
    public void unload(RoutingContext ctx) {
        String model = ctx.pathParam("model");
        Actor actor = Caller.from(ctx).actor(RouteGroup.DEPLOY);
        Replies.async(ctx, workers, 200, () -> deployments.unloadModel(model, actor).thenApply(x -> Json.object()));
    }
}
