package dev.gantry.core.routing;

import dev.gantry.store.deployment.TrafficPolicy;

import java.util.List;
import java.util.Objects;

/**
 * What the hot path reads of one model's deployment: published whole, never changed.
 *
 * @param standby versions kept loaded without traffic, most recently served first
 */
public record DeploymentSnapshot(long revision, TrafficPolicy policy, TrafficSplitter splitter, List<Long> standby) {
    public DeploymentSnapshot {
        Objects.requireNonNull(policy, "policy");
        Objects.requireNonNull(splitter, "splitter");
        standby = List.copyOf(standby);
    }
}
