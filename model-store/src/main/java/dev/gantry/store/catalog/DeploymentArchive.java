package dev.gantry.store.catalog;

import dev.gantry.store.deployment.DeploymentStore;
import dev.gantry.store.deployment.PolicyRevision;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * A {@link DeploymentStore} that also keeps every policy revision ever applied, beyond the history a deployment
 * keeps, so it can answer which versions took traffic, with which weights, at any past time.
 */
public interface DeploymentArchive extends DeploymentStore {

    /**
     * Traffic policies in the catalogue's database, so policies, versions, approvals and the audit chain live in
     * one place. Each new revision saved is also appended to the audit chain (action {@code policy.apply} or
     * {@code policy.rollback}, target the model) in the same transaction. A record that does not extend what is
     * stored (another server saved a revision since this one was read) is refused with
     * {@link dev.gantry.store.deployment.RevisionConflictException}.
     *
     * @throws IllegalArgumentException when {@code catalog} is not one of {@link CatalogStore}'s own stores
     */
    static DeploymentArchive in(CatalogStore catalog) {
        JdbcCatalogStore jdbc = JdbcCatalogStore.own(catalog);
        return new JdbcDeploymentStore(jdbc);
    }

    /** The revision in force for {@code model} at {@code time}: the last one applied at or before it. */
    Optional<PolicyRevision> inForceAt(String model, Instant time);

    /** Every revision ever applied to {@code model}, oldest first. */
    List<PolicyRevision> revisions(String model);
}
