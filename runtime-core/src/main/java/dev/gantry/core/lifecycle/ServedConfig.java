package dev.gantry.core.lifecycle;

import dev.gantry.store.repository.ModelConfig;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The configuration a loaded version is served with: the model's configuration after auto-completion, what
 * auto-completion filled in, and the class labels of its outputs.
 *
 * @param config the effective configuration
 * @param autocompleted the fields Gantry filled in from the model itself ("max_batch_size", "dynamic_batching");
 *     empty when the configuration was used as written
 * @param labels per output name, the lines of its {@code label_filename}
 */
public record ServedConfig(ModelConfig config, List<String> autocompleted, Map<String, List<String>> labels) {
    public ServedConfig {
        Objects.requireNonNull(config, "config");
        autocompleted = List.copyOf(autocompleted);
        labels = Map.copyOf(labels);
    }

    /** The labels of output {@code name}; empty when it has none. */
    public List<String> labels(String name) {
        return labels.getOrDefault(name, List.of());
    }
}
