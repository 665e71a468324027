package dev.gantry.http.admin;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gantry.core.access.Actor;
import dev.gantry.core.error.GantryException;
import dev.gantry.core.repository.ModelRepositoryManager;
import dev.gantry.core.rollout.Rollouts;
import dev.gantry.http.auth.Caller;
import dev.gantry.http.auth.RouteGroup;
import dev.gantry.http.error.ErrorMapper;
import dev.gantry.http.json.Json;
import io.vertx.core.WorkerExecutor;
import io.vertx.ext.web.RoutingContext;

/**
 * Rollouts under {@code /admin/v1/models/{m}/rollouts}: start one, list and show them (with the live
 * analysis), pause, resume, promote and abort. Every decision is the core's {@link Rollouts}.
 */
public final class RolloutsHandler {
    private final ModelRepositoryManager repository;
    private final Rollouts rollouts;
    private final WorkerExecutor workers;

    public RolloutsHandler(ModelRepositoryManager repository, Rollouts rollouts, WorkerExecutor workers) {
        this.repository = repository;
        this.rollouts = rollouts;
        this.workers = workers;
    }

    public void start(RoutingContext ctx) {
        String model = ctx.pathParam("model");
        Actor actor = Caller.from(ctx).actor(RouteGroup.DEPLOY);
        AdminBodies.json(ctx).onSuccess(body -> Replies.blocking(ctx, workers, 201, () -> {
            requireModel(model);
            rollouts.awaitCatalogue();
            return RolloutJson.write(rollouts.start(model, RolloutJson.plan(body), actor));
        })).onFailure(e -> ErrorMapper.send(ctx, e));
    }

    public void list(RoutingContext ctx) {
        String model = ctx.pathParam("model");
        Replies.blocking(ctx, workers, 200, () -> {
            requireModel(model);
            ObjectNode root = Json.object();
            root.put("model", model);
            ArrayNode list = root.putArray("rollouts");
            rollouts.list(model).forEach(v -> list.add(RolloutJson.write(v)));
            return root;
        });
    }

    public void get(RoutingContext ctx) {
        String model = ctx.pathParam("model");
        String id = ctx.pathParam("id");
        Replies.blocking(ctx, workers, 200, () -> {
            requireModel(model);
            return RolloutJson.write(rollouts.get(model, id));
        });
    }

    /** pause, resume, promote or abort. */
    public void act(RoutingContext ctx, String action) {
        String model = ctx.pathParam("model");
        String id = ctx.pathParam("id");
        Actor actor = Caller.from(ctx).actor(RouteGroup.DEPLOY);
        Replies.blocking(ctx, workers, 200, () -> {
            requireModel(model);
            rollouts.awaitCatalogue();
            return RolloutJson.write(switch (action) {
                case "pause" -> rollouts.pause(model, id, actor);
                case "resume" -> rollouts.resume(model, id, actor);
                case "promote" -> rollouts.promote(model, id, actor);
                case "abort" -> rollouts.abort(model, id, actor);
                default -> throw GantryException.notFound("no rollout action '" + action + "'");
            });
        });
    }

    private void requireModel(String model) {
        if (repository.model(model).isEmpty() && repository.lifecycle().versions(model).isEmpty()) {
            throw GantryException.notFound("unknown model '" + model + "'");
        }
    }
}
