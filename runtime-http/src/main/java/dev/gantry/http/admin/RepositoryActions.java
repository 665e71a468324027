package dev.gantry.http.admin;

import dev.gantry.core.error.ErrorCode;
import dev.gantry.core.error.GantryException;
import dev.gantry.core.lifecycle.ModelVersionState;
import dev.gantry.core.repository.ModelRepositoryManager;
import dev.gantry.core.routing.DeploymentManager;
import dev.gantry.http.auth.Caller;
import dev.gantry.http.auth.RouteGroup;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Triton's model repository extension as the transports (HTTP and gRPC) share it: the index of what the caller may
 * see, and whole-model load and unload through the deployment manager, which audits them.
 */
public final class RepositoryActions {
    private final ModelRepositoryManager repository;
    private final DeploymentManager deployments;

    public RepositoryActions(ModelRepositoryManager repository, DeploymentManager deployments) {
        this.repository = repository;
        this.deployments = deployments;
    }

    /** One index line: a model's version with its state, or the model alone when nothing of it is loaded. */
    public record IndexEntry(String name, Optional<Long> version, String state, Optional<String> reason) {
    }

    /** Every model in the repository or loaded that {@code caller} may see, each version with its state. */
    public List<IndexEntry> index(Caller caller) {
        List<IndexEntry> entries = new ArrayList<>();
        for (String name : DeploymentsHandler.modelNames(repository)) {
            if (!caller.sees(name)) {
                continue;
            }
            List<ModelVersionState> versions = repository.lifecycle().versions(name);
            if (versions.isEmpty()) {
                entries.add(new IndexEntry(name, Optional.empty(), "UNAVAILABLE", Optional.of("no version loaded")));
            }
            for (ModelVersionState v : versions) {
                entries.add(new IndexEntry(name, Optional.of(v.id().version()), v.state().name(), v.reason()));
            }
        }
        return entries;
    }

    /**
     * Loads (again) what the model's version policy and its traffic policy need.
     *
     * @return the versions loaded; FAILED_PRECONDITION naming the versions that did not load
     */
    public CompletableFuture<List<Long>> load(String model, Caller caller) {
        return load(model, caller, java.util.Map.of());
    }

    /**
     * As {@link #load(String, Caller)} with Triton's load parameters: {@code config} (a whole model configuration
     * as JSON text) applies to this load; {@code file:} overrides and any other parameter are refused with a 400
     * naming them.
     */
    public CompletableFuture<List<Long>> load(String model, Caller caller, java.util.Map<String, String> parameters) {
        Optional<String> config = Optional.empty();
        for (var p : parameters.entrySet()) {
            if (p.getKey().equals("config")) {
                config = Optional.of(p.getValue());
            } else if (p.getKey().startsWith("file:")) {
                return CompletableFuture.failedFuture(GantryException.invalid("load parameter '" + p.getKey()
                        + "': file overrides are not supported; upload the artifact with PUT /admin/v1/models/"
                        + model + "/versions/{v}"));
            } else {
                return CompletableFuture.failedFuture(GantryException.invalid("unknown load parameter '" + p.getKey()
                        + "'; only 'config' (a model configuration as JSON) is accepted"));
            }
        }
        return deployments.loadModel(model, caller.actor(RouteGroup.DEPLOY), config).thenApply(states -> {
            List<ModelVersionState> failed = states.stream().filter(s -> !s.isReady()).toList();
            if (!failed.isEmpty()) {
                throw new GantryException(ErrorCode.FAILED_PRECONDITION, "failed to load " + failed.stream()
                        .map(s -> "version " + s.id().version() + ": " + s.reason().orElse(s.state().name())).toList());
            }
            return states.stream().map(s -> s.id().version()).toList();
        });
    }

    /** Takes the whole model out of service: every version drains and unloads; its traffic policy is kept. */
    public CompletableFuture<Void> unload(String model, Caller caller) {
        return deployments.unloadModel(model, caller.actor(RouteGroup.DEPLOY));
    }
}
