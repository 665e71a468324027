package dev.gantry.store.catalog;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/** Where a model version came from: its source (repository, paper, vendor), training run and datasets. */
public record Lineage(Optional<String> source, Optional<String> trainingRun, List<String> datasets) {
    public static final Lineage EMPTY = new Lineage(Optional.empty(), Optional.empty(), List.of());

    public Lineage {
        Objects.requireNonNull(source, "lineage.source");
        Objects.requireNonNull(trainingRun, "lineage.training_run");
        Objects.requireNonNull(datasets, "lineage.datasets");
        for (int i = 0; i < datasets.size(); i++) {
            if (datasets.get(i) == null) {
                throw new IllegalArgumentException("lineage.datasets[" + i + "] must be a string, was null");
            }
        }
        datasets = List.copyOf(datasets);
    }

    public boolean isEmpty() {
        return source.isEmpty() && trainingRun.isEmpty() && datasets.isEmpty();
    }
}
