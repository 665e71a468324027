package dev.gantry.core.release;

import dev.gantry.core.model.ModelReadyState;
import dev.gantry.store.catalog.Approval;
import dev.gantry.store.catalog.ModelCard;
import dev.gantry.store.catalog.ReleaseRecord;

import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * One version as the catalogue shows it: its release record and approvals, its card, where it serves now (its
 * serving state and share of primary traffic), when it last answered, and the flags an operator should act on.
 */
public record CatalogEntry(ReleaseRecord record, List<Approval> approvals, ModelCard card,
                           Optional<ModelReadyState> servingState, double trafficShare, Optional<Instant> lastServed,
                           List<String> flags) {
    public CatalogEntry {
        Objects.requireNonNull(record, "record");
        approvals = List.copyOf(approvals);
        Objects.requireNonNull(card, "card");
        Objects.requireNonNull(servingState, "servingState");
        Objects.requireNonNull(lastServed, "lastServed");
        flags = List.copyOf(flags);
    }
}
