package dev.gantry.store.repository;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The subset of Triton's model configuration that Gantry uses, read from config.json or config.pbtxt.
 *
 * @param name                 Triton's {@code name}; when present it equals the model's directory name
 * @param maxBatchSize         {@code max_batch_size}; 0 means the model takes no batch dimension
 * @param dynamicBatching      present iff the config has a {@code dynamic_batching} block, even an empty one
 * @param instanceGroups       {@code instance_group}; never empty
 * @param versionPolicy        {@code version_policy}; the newest version by default
 * @param defaultModelFilename {@code default_model_filename}; the file name inside each version directory
 * @param gantry               Gantry's extensions
 * @param warmup               Triton's {@code model_warmup}: the requests to warm up with and to check batching
 *                             with, instead of inputs guessed from the signature; empty when not given
 * @param warnings             what was read but not used: unknown keys with their path, ignored Triton keys
 * @param outputs              the {@code output} entries Gantry reads (name and {@code label_filename})
 * @param fromFile             whether it was read from a configuration file; false when the model directory has
 *                             none (the configuration is then Triton's defaults, and may be auto-completed at load)
 */
public record ModelConfig(Optional<String> name, int maxBatchSize, Optional<DynamicBatching> dynamicBatching,
                          List<InstanceGroup> instanceGroups, VersionPolicy versionPolicy,
                          String defaultModelFilename, GantryOptions gantry, List<WarmupSample> warmup,
                          List<String> warnings, List<OutputConfig> outputs, boolean fromFile) {

    public static final String DEFAULT_MODEL_FILENAME = "model.onnx";

    public ModelConfig {
        Objects.requireNonNull(name, "name");
        Checks.atLeast("max_batch_size", maxBatchSize, 0);
        Objects.requireNonNull(dynamicBatching, "dynamicBatching");
        if (maxBatchSize > 0 && dynamicBatching.isPresent()) {
            for (int size : dynamicBatching.get().preferredBatchSizes()) {
                if (size > maxBatchSize) {
                    throw new IllegalArgumentException("dynamic_batching.preferred_batch_size must be <= max_batch_size "
                            + maxBatchSize + ", was " + size);
                }
            }
        }
        instanceGroups = instanceGroups.isEmpty() ? List.of(InstanceGroup.defaults()) : List.copyOf(instanceGroups);
        Objects.requireNonNull(versionPolicy, "versionPolicy");
        if (!isPlainFileName(defaultModelFilename)) {
            throw new IllegalArgumentException(
                    "default_model_filename must be a file name without a directory, was '" + defaultModelFilename + "'");
        }
        Objects.requireNonNull(gantry, "gantry");
        warmup = List.copyOf(warmup);
        warnings = List.copyOf(warnings);
        outputs = List.copyOf(outputs);
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (OutputConfig output : outputs) {
            if (!seen.add(output.name())) {
                throw new IllegalArgumentException("output '" + output.name() + "' appears more than once");
            }
        }
    }

    /** What Triton assumes for a model directory without a configuration file. */
    public static ModelConfig defaults() {
        return new ModelConfig(Optional.empty(), 0, Optional.empty(), List.of(InstanceGroup.defaults()),
                VersionPolicy.defaults(), DEFAULT_MODEL_FILENAME, GantryOptions.defaults(), List.of(), List.of(),
                List.of(), false);
    }

    /** This configuration with {@code warning} appended to its warnings. */
    public ModelConfig withWarning(String warning) {
        List<String> all = new ArrayList<>(warnings);
        all.add(warning);
        return new ModelConfig(name, maxBatchSize, dynamicBatching, instanceGroups, versionPolicy,
                defaultModelFilename, gantry, warmup, all, outputs, fromFile);
    }

    /** This configuration with another {@code max_batch_size} and {@code dynamic_batching} (auto-completion). */
    public ModelConfig withBatching(int newMaxBatchSize, Optional<DynamicBatching> newDynamicBatching) {
        return new ModelConfig(name, newMaxBatchSize, newDynamicBatching, instanceGroups, versionPolicy,
                defaultModelFilename, gantry, warmup, warnings, outputs, fromFile);
    }

    /** The {@code output} entry for {@code outputName}, if the configuration has one. */
    public Optional<OutputConfig> output(String outputName) {
        return outputs.stream().filter(o -> o.name().equals(outputName)).findFirst();
    }

    private static boolean isPlainFileName(String fileName) {
        return fileName != null && !fileName.isBlank() && !fileName.equals(".") && !fileName.equals("..")
                && fileName.indexOf('/') < 0 && fileName.indexOf('\\') < 0;
    }
}
