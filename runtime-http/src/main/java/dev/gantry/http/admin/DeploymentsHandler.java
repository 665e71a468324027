package dev.gantry.http.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gantry.core.error.ErrorCode;
import dev.gantry.core.error.GantryException;
import dev.gantry.core.lifecycle.ModelLifecycle;
import dev.gantry.core.lifecycle.ModelVersionState;
import dev.gantry.core.model.ModelId;
import dev.gantry.core.repository.ModelRepositoryManager;
import dev.gantry.core.routing.DeploymentManager;
import dev.gantry.core.routing.DeploymentSnapshot;
import dev.gantry.core.routing.RollbackResult;
import dev.gantry.http.auth.Caller;
import dev.gantry.http.error.ErrorMapper;
import dev.gantry.http.params.PathParams;
import dev.gantry.http.json.Json;
import dev.gantry.store.deployment.PolicyRevision;
import dev.gantry.store.deployment.Route;
import dev.gantry.store.deployment.ShadowRoute;
import dev.gantry.store.deployment.TrafficPolicy;
import dev.gantry.store.repository.ModelEntry;
import io.vertx.core.Future;
import io.vertx.ext.web.RoutingContext;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;

/**
 * Deployments under {@code /admin/v1/models}: versions and their states, the traffic policy and its history,
 * load, unload, traffic changes and rollback; plus Triton's model-repository extension under /v2/repository.
 */
public final class DeploymentsHandler {
    private final ModelRepositoryManager repository;
    private final ModelLifecycle lifecycle;
    private final DeploymentManager deployments;

    private final Auditor auditor;
    private final io.vertx.core.WorkerExecutor workers;

    /*
     * Changes go through the catalogue database (policy revisions and audit entries are written and fsynced
     * in one transaction), so every mutating call starts on the named worker pool, never on an event loop.
     */
    public DeploymentsHandler(ModelRepositoryManager repository, DeploymentManager deployments, Auditor auditor,
                              io.vertx.core.WorkerExecutor workers) {
        this.workers = workers;
        this.auditor = auditor;
        this.repository = repository;
        this.lifecycle = repository.lifecycle();
        this.deployments = deployments;
    }

    public void list(RoutingContext ctx) {
        ObjectNode root = Json.object();
        ArrayNode models = root.putArray("models");
        for (String name : modelNames()) {
            models.add(describe(name));
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
            deployments.deployment(model).ifPresent(d -> d.history().forEach(r -> revisions.add(revision(r))));
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
        String actor = actor(ctx);
        String role = GovernanceHandler.role(ctx, dev.gantry.http.auth.RouteGroup.DEPLOY);
        reply(ctx, () -> deployments.loadVersion(model, version).thenApply(s -> {
            auditor.record(actor, role, "version.load", model + "/" + version, "", s.state().name()
                    + s.reason().map(r -> ": " + r).orElse(""));
            if (!s.isReady()) {
                throw new GantryException(ErrorCode.FAILED_PRECONDITION, "model '" + model + "' version " + version
                        + " failed to load: " + s.reason().orElse(s.state().name()) + "; traffic is unchanged");
            }
            return versionState(s);
        }), 200);
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
        String actor = actor(ctx);
        String role = GovernanceHandler.role(ctx, dev.gantry.http.auth.RouteGroup.DEPLOY);
        reply(ctx, () -> deployments.unloadVersion(model, version).thenApply(v -> {
            auditor.record(actor, role, "version.unload", model + "/" + version, "READY", "unloaded");
            return versionState(lifecycle.state(new ModelId(model, version)).orElseThrow());
        }), 200);
    }

    public void traffic(RoutingContext ctx) {
        String model = ctx.pathParam("model");
        String actor = actor(ctx);
        AdminBodies.json(ctx).onSuccess(body -> reply(ctx, () -> {
            requireModel(model);
            TrafficPolicy policy = policy(body);
            OptionalLong expected = body.hasNonNull("expected_revision")
                    ? OptionalLong.of(integer(body.get("expected_revision"), "expected_revision"))
                    : OptionalLong.empty();
            String reason = Optional.ofNullable(AdminBodies.text(body, "reason", false)).orElse("");
            PolicyRevision r = deployments.applyPolicy(model, policy, expected, actor, reason);
            ObjectNode out = revision(r);
            out.put("model", model);
            return CompletableFuture.completedFuture(out);
        }, 200)).onFailure(e -> ErrorMapper.send(ctx, e));
    }

    public void rollback(RoutingContext ctx) {
        String model = ctx.pathParam("model");
        String actor = actor(ctx);
        AdminBodies.json(ctx).onSuccess(body -> {
            OptionalLong to;
            try {
                requireModel(model);
                to = body.hasNonNull("to_revision") ? OptionalLong.of(integer(body.get("to_revision"), "to_revision"))
                        : OptionalLong.empty();
            } catch (GantryException e) {
                ErrorMapper.send(ctx.response(), e);
                return;
            }
            reply(ctx, () -> deployments.rollback(model, to, actor).thenApply(this::rollbackResult), 200);
        }).onFailure(e -> ErrorMapper.send(ctx, e));
    }

    // ---- Triton's model repository extension ----

    public void repositoryIndex(RoutingContext ctx) {
        ArrayNode index = Json.MAPPER.createArrayNode();
        for (String name : modelNames()) {
            List<ModelVersionState> versions = lifecycle.versions(name);
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
    public void repositoryLoad(RoutingContext ctx) {
        String model = ctx.pathParam("model");
        Optional<ModelEntry> entry = repository.refresh(model);
        if (entry.isEmpty()) {
            ErrorMapper.send(ctx.response(), GantryException.notFound("no model '" + model + "' in the repository"));
            return;
        }
        TreeSet<Long> wanted = new TreeSet<>();
        entry.get().versionsToLoad().forEach(v -> wanted.add(v.version()));
        deployments.snapshot(model).ifPresent(s -> wanted.addAll(s.policy().routedVersions()));
        List<CompletableFuture<ModelVersionState>> loads = new ArrayList<>();
        String actor = actor(ctx);
        String role = GovernanceHandler.role(ctx, dev.gantry.http.auth.RouteGroup.DEPLOY);
        reply(ctx, () -> {
            for (long v : wanted) {
                loads.add(deployments.loadVersion(model, v));
            }
            return CompletableFuture.allOf(loads.toArray(CompletableFuture[]::new));
        }, x -> {
            auditor.record(actor, role, "model.load", model, "", "versions " + wanted);
            List<ModelVersionState> failed = loads.stream().map(CompletableFuture::join).filter(s -> !s.isReady())
                    .toList();
            if (!failed.isEmpty()) {
                throw new GantryException(ErrorCode.FAILED_PRECONDITION, "failed to load " + failed.stream()
                        .map(s -> "version " + s.id().version() + ": " + s.reason().orElse(s.state().name())).toList());
            }
            return Json.object();
        }, 200);
    }

    /** Takes the whole model out of service: every version drains and unloads; its traffic policy is kept. */
    public void repositoryUnload(RoutingContext ctx) {
        String model = ctx.pathParam("model");
        List<CompletableFuture<Void>> unloads = new ArrayList<>();
        List<ModelVersionState> versions = lifecycle.versions(model);
        if (versions.isEmpty() && repository.model(model).isEmpty()) {
            ErrorMapper.send(ctx.response(), GantryException.notFound("unknown model '" + model + "'"));
            return;
        }
        String actor = actor(ctx);
        String role = GovernanceHandler.role(ctx, dev.gantry.http.auth.RouteGroup.DEPLOY);
        reply(ctx, () -> {
            for (ModelVersionState v : versions) {
                unloads.add(lifecycle.unload(v.id()));
            }
            return CompletableFuture.allOf(unloads.toArray(CompletableFuture[]::new));
        }, x -> {
            auditor.record(actor, role, "model.unload", model, "", "every version unloaded");
            return Json.object();
        }, 200);
    }

    // ---- helpers ----

    /** Starts {@code work} on the worker pool and answers with what its future completes with. */
    private <T> void reply(RoutingContext ctx, java.util.concurrent.Callable<CompletableFuture<T>> work, int status) {
        io.vertx.core.Context context = ctx.vertx().getOrCreateContext();
        workers.executeBlocking(work, /* ordered= */ false)
                .compose(cf -> Future.fromCompletionStage(cf, context))
                .onSuccess(tree -> Json.send(ctx.response(), status, tree))
                .onFailure(e -> ErrorMapper.send(ctx, e));
    }

    /** As {@link #reply(RoutingContext, java.util.concurrent.Callable, int)}, then maps the result on the worker. */
    private <T, R> void reply(RoutingContext ctx, java.util.concurrent.Callable<CompletableFuture<T>> work,
                              java.util.function.Function<T, R> then, int status) {
        reply(ctx, () -> work.call().thenApply(then), status);
    }

    private List<String> modelNames() {
        TreeSet<String> names = new TreeSet<>(repository.models().keySet());
        lifecycle.snapshot().keySet().forEach(id -> names.add(id.name()));
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
            n.set("policy", policy(snap.get().policy()));
            ArrayNode standby = n.putArray("standby");
            snap.get().standby().forEach(v -> standby.add(Long.toString(v)));
        } else {
            n.putNull("revision");
            n.putNull("policy");
            n.putArray("standby");
        }
        return n;
    }

    private static ObjectNode versionState(ModelVersionState s) {
        ObjectNode o = Json.object();
        o.put("version", Long.toString(s.id().version()));
        o.put("state", s.state().name());
        s.reason().ifPresent(r -> o.put("reason", r));
        return o;
    }

    static ObjectNode policy(TrafficPolicy p) {
        ObjectNode o = Json.object();
        ArrayNode routes = o.putArray("routes");
        for (Route r : p.routes()) {
            ObjectNode ro = routes.addObject();
            ro.put("version", Long.toString(r.version()));
            ro.put("weight", r.weight());
        }
        ArrayNode shadow = o.putArray("shadow");
        for (ShadowRoute r : p.shadow()) {
            ObjectNode so = shadow.addObject();
            so.put("version", Long.toString(r.version()));
            so.put("percent", r.percent());
        }
        return o;
    }

    private static ObjectNode revision(PolicyRevision r) {
        ObjectNode o = Json.object();
        o.put("revision", r.revision());
        o.put("time", r.time().toString());
        o.put("actor", r.actor());
        o.put("reason", r.reason());
        r.rollbackOf().ifPresent(f -> o.put("rollback_from", f));
        o.set("policy", policy(r.policy()));
        return o;
    }

    private ObjectNode rollbackResult(RollbackResult r) {
        ObjectNode o = Json.object();
        o.put("from", r.from());
        o.put("to", r.to());
        o.put("revision", r.newRevision());
        o.set("policy", policy(r.policy()));
        return o;
    }

    static TrafficPolicy policy(JsonNode body) {
        try {
            return readPolicy(body);
        } catch (IllegalArgumentException e) {
            throw GantryException.invalid(e.getMessage());
        }
    }

    private static TrafficPolicy readPolicy(JsonNode body) {
        JsonNode routes = body.get("routes");
        if (routes == null || !routes.isArray() || routes.isEmpty()) {
            throw GantryException.invalid("'routes' must be a non-empty list of {\"version\", \"weight\"}");
        }
        List<Route> rs = new ArrayList<>();
        for (int i = 0; i < routes.size(); i++) {
            JsonNode r = routes.get(i);
            if (!r.isObject()) {
                throw GantryException.invalid("routes[" + i + "] must be an object");
            }
            rs.add(TrafficPolicy.route(i, integer(r.get("version"), "routes[" + i + "].version"),
                    integer(r.get("weight"), "routes[" + i + "].weight")));
        }
        List<ShadowRoute> ss = new ArrayList<>();
        JsonNode shadow = body.get("shadow");
        if (shadow != null && !shadow.isNull()) {
            if (!shadow.isArray()) {
                throw GantryException.invalid("'shadow' must be a list of {\"version\", \"percent\"}");
            }
            for (int i = 0; i < shadow.size(); i++) {
                JsonNode r = shadow.get(i);
                if (!r.isObject()) {
                    throw GantryException.invalid("shadow[" + i + "] must be an object");
                }
                ss.add(TrafficPolicy.shadowRoute(i, integer(r.get("version"), "shadow[" + i + "].version"),
                        integer(r.get("percent"), "shadow[" + i + "].percent")));
            }
        }
        return TrafficPolicy.of(rs, ss);
    }

    /** A whole number given as a JSON number or a string of digits (versions are strings in the OIP). */
    static long integer(JsonNode n, String field) {
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

    static String actor(RoutingContext ctx) {
        Caller c = ctx.get(Caller.CONTEXT_KEY);
        return c == null ? Caller.ANONYMOUS.name() : c.name();
    }
}
