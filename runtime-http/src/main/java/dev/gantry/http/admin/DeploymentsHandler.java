package dev.gantry.http.admin;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gantry.core.access.Actor;
import dev.gantry.core.error.ErrorCode;
import dev.gantry.core.error.GantryException;
import dev.gantry.core.lifecycle.ModelLifecycle;
import dev.gantry.core.lifecycle.ModelVersionState;
import dev.gantry.core.model.ModelId;
import dev.gantry.core.repository.ModelRepositoryManager;
import dev.gantry.core.routing.DeploymentManager;
import dev.gantry.core.routing.DeploymentSnapshot;
import dev.gantry.http.auth.Caller;
import dev.gantry.http.auth.RouteGroup;
import dev.gantry.http.error.ErrorMapper;
import dev.gantry.http.json.Json;
import dev.gantry.http.params.PathParams;
import dev.gantry.store.deployment.PolicyRevision;
import dev.gantry.store.deployment.TrafficPolicy;
import io.vertx.core.WorkerExecutor;
import io.vertx.ext.web.RoutingContext;

import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;

/**
 * Deployments under {@code /admin/v1/models}: versions and their serving states, the traffic policy and its
 * history, load, unload, traffic changes and rollback. Every change is a call to {@link DeploymentManager}, which
 * audits it.
 */
public final class DeploymentsHandler {
    private final ModelRepositoryManager repository;
    private final ModelLifecycle lifecycle;
    private final DeploymentManager deployments;
    private final WorkerExecutor workers;

    /*
     * Changes go through the catalogue database (policy revisions and audit entries are written and fsynced
     * in one transaction), so every mutating call starts on the named worker pool, never on an event loop.
     */
    public DeploymentsHandler(ModelRepositoryManager repository, DeploymentManager deployments,
                              WorkerExecutor workers) {
        this.workers = workers;
        this.repository = repository;
        this.lifecycle = repository.lifecycle();
        this.deployments = deployments;
    }

    /** Every model the caller may see (a key limited to models sees only those). */
    public void list(RoutingContext ctx) {
        Caller caller = Caller.from(ctx);
        ObjectNode root = Json.object();
        ArrayNode models = root.putArray("models");
        for (String name : modelNames(repository)) {
            if (caller.sees(name)) {
                models.add(describe(name));
            }
        }
        Json.send(ctx.response(), 200, root);
    }

    public void get(RoutingContext ctx) {
        String model = ctx.pathParam("model");
        try {
            requireModel(model);
            Json.send(ctx.response(), 200, describe(model));
        } catch (GantryException e) {
            ErrorMapper.send(ctx.response(), e);
        }
    }

    public void history(RoutingContext ctx) {
        String model = ctx.pathParam("model");
        try {
            requireModel(model);
            ObjectNode root = Json.object();
            root.put("model", model);
            ArrayNode revisions = root.putArray("revisions");
            deployments.deployment(model).ifPresent(d -> d.history().forEach(r -> revisions.add(PolicyJson.revision(r))));
            Json.send(ctx.response(), 200, root);
        } catch (GantryException e) {
            ErrorMapper.send(ctx.response(), e);
        }
    }

    public void load(RoutingContext ctx) {
        String model = ctx.pathParam("model");
        long version;
        try {
            version = PathParams.requiredVersion(ctx.pathParam("version"));
        } catch (GantryException e) {
            ErrorMapper.send(ctx.response(), e);
            return;
        }
        Actor actor = Caller.from(ctx).actor(RouteGroup.DEPLOY);
        Replies.async(ctx, workers, 200, () -> deployments.loadVersion(model, version, actor).thenApply(s -> {
            if (!s.isReady()) {
                throw new GantryException(ErrorCode.FAILED_PRECONDITION, "model '" + model + "' version " + version
                        + " failed to load: " + s.reason().orElse(s.state().name()) + "; traffic is unchanged");
            }
            return versionState(s);
        }));
    }

    public void unload(RoutingContext ctx) {
        String model = ctx.pathParam("model");
        long version;
        try {
            version = PathParams.requiredVersion(ctx.pathParam("version"));
            if (lifecycle.state(new ModelId(model, version)).isEmpty()) {
                throw GantryException.notFound("model '" + model + "' version " + version + " is not loaded");
            }
        } catch (GantryException e) {
            ErrorMapper.send(ctx.response(), e);
            return;
        }
        Actor actor = Caller.from(ctx).actor(RouteGroup.DEPLOY);
        Replies.async(ctx, workers, 200, () -> deployments.unloadVersion(model, version, actor).thenApply(v ->
                versionState(lifecycle.state(new ModelId(model, version)).orElseThrow())));
    }

    public void traffic(RoutingContext ctx) {
        String model = ctx.pathParam("model");
        Actor actor = Caller.from(ctx).actor(RouteGroup.DEPLOY);
        AdminBodies.json(ctx).onSuccess(body -> Replies.blocking(ctx, workers, 200, () -> {
            requireModel(model);
            TrafficPolicy policy = PolicyJson.read(body);
            OptionalLong expected = body.hasNonNull("expected_revision")
                    ? OptionalLong.of(AdminBodies.integer(body.get("expected_revision"), "expected_revision"))
                    : OptionalLong.empty();
            String reason = Optional.ofNullable(AdminBodies.text(body, "reason", false)).orElse("");
            deployments.awaitCatalogue();
            PolicyRevision r = deployments.applyPolicy(model, policy, expected, actor, reason);
            ObjectNode out = PolicyJson.revision(r);
            out.put("model", model);
            return out;
        })).onFailure(e -> ErrorMapper.send(ctx, e));
    }

    public void rollback(RoutingContext ctx) {
        String model = ctx.pathParam("model");
        Actor actor = Caller.from(ctx).actor(RouteGroup.DEPLOY);
        AdminBodies.json(ctx).onSuccess(body -> {
            OptionalLong to;
            try {
                requireModel(model);
                to = body.hasNonNull("to_revision")
                        ? OptionalLong.of(AdminBodies.integer(body.get("to_revision"), "to_revision"))
                        : OptionalLong.empty();
            } catch (GantryException e) {
                ErrorMapper.send(ctx.response(), e);
                return;
            }
            Replies.async(ctx, workers, 200, () -> {
                deployments.awaitCatalogue();
                return deployments.rollback(model, to, actor).thenApply(PolicyJson::rollback);
            });
        }).onFailure(e -> ErrorMapper.send(ctx, e));
    }

    /** Every model the repository holds or the lifecycle knows, sorted. */
    static List<String> modelNames(ModelRepositoryManager repository) {
        TreeSet<String> names = new TreeSet<>(repository.models().keySet());
        repository.lifecycle().snapshot().keySet().forEach(id -> names.add(id.name()));
        return List.copyOf(names);
    }

    private void requireModel(String model) {
        if (repository.model(model).isEmpty() && lifecycle.versions(model).isEmpty()) {
            throw GantryException.notFound("unknown model '" + model + "'");
        }
    }

    private ObjectNode describe(String model) {
        ObjectNode n = Json.object();
        n.put("name", model);
        ArrayNode versions = n.putArray("versions");
        TreeSet<Long> onDisk = new TreeSet<>();
        repository.model(model).ifPresent(e -> e.versions().forEach(v -> onDisk.add(v.version())));
        for (ModelVersionState s : lifecycle.versions(model)) {
            versions.add(versionState(s));
            onDisk.remove(s.id().version());
        }
        for (long v : onDisk) {
            ObjectNode o = versions.addObject();
            o.put("version", Long.toString(v));
            o.put("state", "UNKNOWN");
            o.put("reason", "on disk, not loaded");
        }
        Optional<DeploymentSnapshot> snap = deployments.snapshot(model);
        if (snap.isPresent()) {
            n.put("revision", snap.get().revision());
            n.set("policy", PolicyJson.write(snap.get().policy()));
            ArrayNode standby = n.putArray("standby");
            snap.get().standby().forEach(v -> standby.add(Long.toString(v)));
        } else {
            n.putNull("revision");
            n.putNull("policy");
            n.putArray("standby");
        }
        return n;
    }

    static ObjectNode versionState(ModelVersionState s) {
        ObjectNode o = Json.object();
        o.put("version", Long.toString(s.id().version()));
        o.put("state", s.state().name());
        s.reason().ifPresent(r -> o.put("reason", r));
        return o;
    }
}
