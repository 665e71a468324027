package dev.gantry.http.inference;

import dev.gantry.http.params.PathParams;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gantry.core.error.GantryException;
import dev.gantry.core.lifecycle.ModelLifecycle;
import dev.gantry.core.lifecycle.ModelVersionState;
import dev.gantry.core.model.ModelId;
import dev.gantry.core.model.ModelSignature;
import dev.gantry.core.model.TensorSpec;
import dev.gantry.core.repository.ModelRepositoryManager;
import dev.gantry.core.routing.ModelRouter;
import dev.gantry.core.scheduling.BatchPolicy;
import dev.gantry.http.error.ErrorMapper;
import dev.gantry.http.json.Json;
import dev.gantry.store.repository.ModelEntry;
import io.vertx.ext.web.RoutingContext;

import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/** OIP model metadata and model readiness, in both the unversioned and the versioned form. */
public final class MetadataHandler {
    /*
     * Metadata is answered for every model the repository holds, READY or not, so an operator can see why a
     * version is UNAVAILABLE. Besides the OIP fields (name, versions, platform, inputs, outputs) it carries
     * Gantry's: each version's state and reason, the batching decision and notes such as ignored config keys.
     */
    private final ModelRepositoryManager repository;
    private final ModelLifecycle lifecycle;
    private final ModelRouter router;

    public MetadataHandler(ModelRepositoryManager repository, ModelRouter router) {
        this.repository = repository;
        this.lifecycle = repository.lifecycle();
        this.router = router;
    }

    public void metadata(RoutingContext ctx) {
        try {
            String model = ctx.pathParam("model");
            OptionalLong version = PathParams.version(ctx.pathParam("version"));
            Optional<ModelEntry> entry = repository.model(model);
            List<ModelVersionState> versions = lifecycle.versions(model);
            ModelVersionState shown = describedVersion(model, version).orElse(null);
            ObjectNode root = Json.object();
            root.put("name", model);
            ArrayNode vs = root.putArray("versions");
            for (ModelVersionState v : versions) {
                vs.add(Long.toString(v.id().version()));
            }
            root.put("platform", "onnxruntime_onnx");
            if (shown != null) {
                signature(root, shown.signature());
                root.put("state", shown.state().name());
                shown.reason().ifPresent(r -> root.put("reason", r));
                shown.batchPolicy().ifPresent(p -> batching(root.putObject("batching"), p));
                ArrayNode notes = root.putArray("notes");
                shown.notes().forEach(notes::add);
            } else {
                root.putArray("inputs");
                root.putArray("outputs");
                root.put("state", "UNAVAILABLE");
            }
            ArrayNode states = root.putArray("version_states");
            for (ModelVersionState v : versions) {
                ObjectNode s = states.addObject();
                s.put("version", Long.toString(v.id().version()));
                s.put("state", v.state().name());
                v.reason().ifPresent(r -> s.put("reason", r));
            }
            entry.ifPresent(e -> {
                ArrayNode problems = root.putArray("problems");
                e.problems().forEach(problems::add);
            });
            Json.send(ctx.response(), 200, root);
        } catch (GantryException e) {
            ErrorMapper.send(ctx.response(), e);
        }
    }

    /**
     * The version metadata describes (over HTTP and gRPC): the asked-for one, else the one unversioned requests
     * reach, else the highest; empty when the model has no version loaded yet.
     *
     * @throws GantryException NOT_FOUND for an unknown model or version
     */
    public Optional<ModelVersionState> describedVersion(String model, OptionalLong version) {
        List<ModelVersionState> versions = lifecycle.versions(model);
        if (repository.model(model).isEmpty() && versions.isEmpty()) {
            throw GantryException.notFound("unknown model '" + model + "'");
        }
        return Optional.ofNullable(pick(model, version, versions));
    }

    private ModelVersionState pick(String model, OptionalLong version, List<ModelVersionState> versions) {
        if (version.isPresent()) {
            return lifecycle.state(new ModelId(model, version.getAsLong())).orElseThrow(() ->
                    GantryException.notFound("model '" + model + "' has no version " + version.getAsLong()
                            + "; its versions are " + versions.stream().map(v -> v.id().version()).toList()));
        }
        try {
            return router.resolve(model, OptionalLong.empty());
        } catch (GantryException notReady) {
            return versions.isEmpty() ? null : versions.get(versions.size() - 1);
        }
    }

    /** {@code GET /v2/models/{m}[/versions/{v}]/config}: the effective configuration, in Triton's JSON form. */
    public void config(RoutingContext ctx) {
        try {
            String model = ctx.pathParam("model");
            OptionalLong version = PathParams.version(ctx.pathParam("version"));
            Optional<ModelEntry> entry = repository.model(model);
            List<ModelVersionState> versions = lifecycle.versions(model);
            if (entry.isEmpty() && versions.isEmpty()) {
                throw GantryException.notFound("unknown model '" + model + "'");
            }
            ModelVersionState shown = pick(model, version, versions);
            Optional<dev.gantry.core.lifecycle.ServedConfig> served = shown == null ? Optional.empty()
                    : lifecycle.servedConfig(shown.id());
            dev.gantry.store.repository.ModelConfig config = served.map(dev.gantry.core.lifecycle.ServedConfig::config)
                    .or(() -> entry.map(ModelEntry::config))
                    .orElseGet(dev.gantry.store.repository.ModelConfig::defaults);
            Json.send(ctx.response(), 200, TritonConfigJson.render(model, config,
                    shown == null ? Optional.empty() : shown.signature(),
                    served.isPresent() ? shown.batchPolicy() : Optional.empty(),
                    served.map(dev.gantry.core.lifecycle.ServedConfig::autocompleted).orElse(List.of())));
        } catch (GantryException e) {
            ErrorMapper.send(ctx.response(), e);
        }
    }

    /**
     * {@code GET /v2/models[/{m}[/versions/{v}]]/stats}: the statistics extension, for every loaded version of
     * every model (the models a model-limited key may use), of one model, or of one version.
     */
    public void statistics(RoutingContext ctx) {
        try {
            String model = ctx.pathParam("model");
            OptionalLong version = PathParams.version(ctx.pathParam("version"));
            List<dev.gantry.core.metrics.ModelStatistics> stats = new java.util.ArrayList<>();
            if (model == null) {
                for (ModelVersionState v : lifecycle.snapshot().values()) {
                    if (visibleTo(ctx, v.id().name())) {
                        lifecycle.statistics(v.id()).ifPresent(stats::add);
                    }
                }
            } else {
                List<ModelVersionState> versions = lifecycle.versions(model);
                if (repository.model(model).isEmpty() && versions.isEmpty()) {
                    throw GantryException.notFound("unknown model '" + model + "'");
                }
                if (version.isPresent()) {
                    ModelId id = new ModelId(model, version.getAsLong());
                    ModelVersionState state = pick(model, version, versions);
                    stats.add(lifecycle.statistics(id).orElseThrow(() -> GantryException.unavailable("model '"
                            + model + "' version " + id.version() + " is not loaded (" + state.state() + ")")));
                } else {
                    for (ModelVersionState v : versions) {
                        lifecycle.statistics(v.id()).ifPresent(stats::add);
                    }
                }
            }
            Json.send(ctx.response(), 200, StatisticsJson.render(stats));
        } catch (GantryException e) {
            ErrorMapper.send(ctx.response(), e);
        }
    }

    /** Whether the caller's key covers {@code model} (an invoke key limited to other models does not). */
    private static boolean visibleTo(RoutingContext ctx, String model) {
        dev.gantry.http.auth.Caller caller = ctx.get(dev.gantry.http.auth.Caller.CONTEXT_KEY);
        if (caller == null || caller.key().isEmpty()) {
            return true;
        }
        var key = caller.key().get();
        boolean wider = key.roles().stream().anyMatch(r -> r != dev.gantry.core.access.Role.INVOKE);
        return wider || key.mayInvoke(model);
    }

    public void ready(RoutingContext ctx) {
        try {
            String model = ctx.pathParam("model");
            OptionalLong version = PathParams.version(ctx.pathParam("version"));
            boolean ready = isReady(model, version);
            ObjectNode root = Json.object();
            root.put("name", model);
            version.ifPresent(v -> root.put("version", Long.toString(v)));
            root.put("ready", ready);
            Json.send(ctx.response(), ready ? 200 : 400, root);
        } catch (GantryException e) {
            ErrorMapper.send(ctx.response(), e);
        }
    }

    /**
     * Whether the model (or that version) would serve a request now, over HTTP and gRPC.
     *
     * @throws GantryException NOT_FOUND for an unknown model or version
     */
    public boolean isReady(String model, OptionalLong version) {
        try {
            return router.resolve(model, version).isReady();
        } catch (GantryException e) {
            if (e.code() == dev.gantry.core.error.ErrorCode.NOT_FOUND) {
                throw e;
            }
            return false;
        }
    }

    private static void signature(ObjectNode root, Optional<ModelSignature> signature) {
        ArrayNode in = root.putArray("inputs");
        ArrayNode out = root.putArray("outputs");
        signature.ifPresent(s -> {
            s.inputs().forEach(t -> tensor(in.addObject(), t));
            s.outputs().forEach(t -> tensor(out.addObject(), t));
        });
    }

    private static void tensor(ObjectNode node, TensorSpec t) {
        node.put("name", t.name());
        node.put("datatype", t.datatypeName());
        ArrayNode shape = node.putArray("shape");
        for (long d : t.shape()) {
            shape.add(d);
        }
        t.unsupportedReason().ifPresent(r -> node.put("unsupported", r));
    }

    private static void batching(ObjectNode node, BatchPolicy p) {
        node.put("max_batch_size", p.maxBatchSize());
        node.put("dynamic_batching", p.batchAcrossRequests());
        node.put("max_queue_delay_microseconds", p.maxQueueDelayMicros());
        ArrayNode preferred = node.putArray("preferred_batch_size");
        p.preferredBatchSizes().forEach(preferred::add);
        node.put("max_queue_size", p.maxQueueSize());
        node.put("default_timeout_microseconds", p.defaultTimeoutMicros());
        node.put("instance_count", p.instanceCount());
        node.put("max_batch_elements", p.maxBatchElements());
    }
}
