package dev.gantry.http.admin;

import dev.gantry.core.error.ErrorCode;
import dev.gantry.core.error.GantryException;
import dev.gantry.core.lifecycle.ModelLifecycle;
import dev.gantry.core.lifecycle.ModelVersionState;
import dev.gantry.core.repository.ModelRepositoryManager;
import dev.gantry.core.routing.DeploymentManager;
import dev.gantry.http.auth.Caller;
import dev.gantry.http.auth.Role;
import dev.gantry.http.auth.RouteGroup;
import dev.gantry.store.repository.ModelEntry;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;

/**
 * Triton's model-repository extension as actions with an explicit actor: index, load a model, unload a model.
 * The gRPC Repository* RPCs call these; they make the same core calls as the HTTP {@code /v2/repository}
 * handlers ({@link DeploymentManager#loadVersion}, {@link ModelLifecycle#unload}) and audit alike.
 */
public final class RepositoryActions {
    /*
     * load and unload touch the catalogue database (policy revisions, audit entries): call them on the named
     * worker pool, never on an event loop. They return once the loads or drains have been started; the future
     * completes when every version has settled.
     */
    private final ModelRepositoryManager repository;
    private final ModelLifecycle lifecycle;
    private final DeploymentManager deployments;
    private final Auditor auditor;

    public RepositoryActions(ModelRepositoryManager repository, DeploymentManager deployments, Auditor auditor) {
        this.repository = repository;
        this.lifecycle = repository.lifecycle();
        this.deployments = deployments;
        this.auditor = auditor;
    }

    /** One entry of the index: a model version and its state, or a model with no version loaded. */
    public record IndexEntry(String name, Optional<Long> version, String state, Optional<String> reason) {
    }

    /** Every model in the repository or loaded, each version with its state. */
    public List<IndexEntry> index() {
        TreeSet<String> names = new TreeSet<>(repository.models().keySet());
        lifecycle.snapshot().keySet().forEach(id -> names.add(id.name()));
        List<IndexEntry> entries = new ArrayList<>();
        for (String name : names) {
            List<ModelVersionState> versions = lifecycle.versions(name);
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
     * @return completes when every load settled; FAILED_PRECONDITION naming the versions that did not load
     */
    public CompletableFuture<List<Long>> load(String model, Caller caller) {
        Optional<ModelEntry> entry = repository.refresh(model);
        if (entry.isEmpty()) {
            return CompletableFuture.failedFuture(GantryException.notFound("no model '" + model
                    + "' in the repository"));
        }
        TreeSet<Long> wanted = new TreeSet<>();
        entry.get().versionsToLoad().forEach(v -> wanted.add(v.version()));
        deployments.snapshot(model).ifPresent(s -> wanted.addAll(s.policy().routedVersions()));
        List<CompletableFuture<ModelVersionState>> loads = new ArrayList<>();
        for (long v : wanted) {
            loads.add(deployments.loadVersion(model, v));
        }
        return CompletableFuture.allOf(loads.toArray(CompletableFuture[]::new)).thenApply(x -> {
            auditor.record(caller.name(), role(caller, RouteGroup.DEPLOY), "model.load", model, "",
                    "versions " + wanted);
            List<ModelVersionState> failed = loads.stream().map(CompletableFuture::join).filter(s -> !s.isReady())
                    .toList();
            if (!failed.isEmpty()) {
                throw new GantryException(ErrorCode.FAILED_PRECONDITION, "failed to load " + failed.stream()
                        .map(s -> "version " + s.id().version() + ": " + s.reason().orElse(s.state().name())).toList());
            }
            return List.copyOf(wanted);
        });
    }

    /** Takes the whole model out of service: every version drains and unloads; its traffic policy is kept. */
    public CompletableFuture<Void> unload(String model, Caller caller) {
        List<ModelVersionState> versions = lifecycle.versions(model);
        if (versions.isEmpty() && repository.model(model).isEmpty()) {
            return CompletableFuture.failedFuture(GantryException.notFound("unknown model '" + model + "'"));
        }
        List<CompletableFuture<Void>> unloads = new ArrayList<>();
        for (ModelVersionState v : versions) {
            unloads.add(lifecycle.unload(v.id()));
        }
        return CompletableFuture.allOf(unloads.toArray(CompletableFuture[]::new)).thenRun(() ->
                auditor.record(caller.name(), role(caller, RouteGroup.DEPLOY), "model.unload", model, "",
                        "every version unloaded"));
    }

    /** The role that let the caller in: the group's non-admin role it holds, else admin; "none" without keys. */
    static String role(Caller caller, RouteGroup group) {
        if (caller.key().isEmpty()) {
            return "none";
        }
        for (Role r : caller.key().get().roles()) {
            if (r != Role.ADMIN && group.allowed().contains(r)) {
                return r.wireName();
            }
        }
        return Role.ADMIN.wireName();
    }
}
