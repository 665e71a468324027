package dev.gantry.core.routing;

import dev.gantry.core.error.ErrorCode;
import dev.gantry.core.error.GantryException;
import dev.gantry.core.inference.InferenceRequest;
import dev.gantry.core.inference.InferenceResponse;
import dev.gantry.core.inference.InputValidator;
import dev.gantry.core.lifecycle.ModelLifecycle;
import dev.gantry.core.lifecycle.ModelVersionState;
import dev.gantry.core.model.ModelId;
import dev.gantry.core.repository.ModelRepositoryManager;

import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;

/**
 * Picks the version that serves a request and hands the request to its scheduler. Unversioned requests go to
 * the highest READY version.
 */
public final class ModelRouter {
    private final ModelRepositoryManager repository;
    private final ModelLifecycle lifecycle;

    public ModelRouter(ModelRepositoryManager repository) {
        this.repository = repository;
        this.lifecycle = repository.lifecycle();
    }

    /**
     * The version that would serve a request for {@code model} (and {@code version}, if given).
     *
     * @throws GantryException NOT_FOUND for an unknown model or version, UNAVAILABLE when it is not READY
     */
    public ModelVersionState resolve(String model, OptionalLong version) {
        List<ModelVersionState> versions = lifecycle.versions(model);
        if (versions.isEmpty() && repository.model(model).isEmpty()) {
            throw GantryException.notFound("unknown model '" + model + "'");
        }
        if (version.isPresent()) {
            ModelId id = new ModelId(model, version.getAsLong());
            ModelVersionState s = lifecycle.state(id).orElseThrow(() -> GantryException.notFound("model '" + model
                    + "' has no version " + version.getAsLong() + "; its versions are "
                    + versions.stream().map(v -> v.id().version()).toList()));
            if (!s.isReady()) {
                throw new GantryException(ErrorCode.UNAVAILABLE, "model '" + model + "' version " + id.version()
                        + " is " + s.state() + s.reason().map(r -> ": " + r).orElse(""));
            }
            return s;
        }
        for (int i = versions.size() - 1; i >= 0; i--) {
            if (versions.get(i).isReady()) {
                return versions.get(i);
            }
        }
        throw new GantryException(ErrorCode.UNAVAILABLE, "model '" + model + "' has no READY version"
                + (versions.isEmpty() ? "" : "; its versions are " + versions.stream()
                .map(v -> v.id().version() + " " + v.state() + v.reason().map(r -> " (" + r + ")").orElse(""))
                .toList()));
    }

    /**
     * Validates and admits a request. Failures (unknown model, invalid input, full queue, timeout, engine
     * error) complete the future exceptionally with a {@link GantryException}; this method does not throw.
     */
    public CompletableFuture<InferenceResponse> infer(String model, OptionalLong version, InferenceRequest request) {
        ModelVersionState target;
        try {
            target = resolve(model, version);
            InputValidator.validate(request, target.signature().orElseThrow(),
                    target.batchPolicy().orElseThrow().maxBatchSize());
        } catch (GantryException e) {
            return CompletableFuture.failedFuture(e);
        }
        return target.scheduler().orElseThrow().enqueue(request);
    }
}
