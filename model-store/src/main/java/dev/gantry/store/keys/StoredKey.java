package dev.gantry.store.keys;

import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * One API key as the shared catalogue keeps it: never its secret, only the SHA-256 of it.
 *
 * @param id public identifier, part of the token
 * @param name the person or service account; unique among all keys ever made, revoked ones included
 * @param roles the roles' wire names (invoke, deploy, approve, admin)
 * @param models the models an invoke key may call; empty means all
 * @param created when the key was created, or last rotated
 * @param secretSha256 hex SHA-256 of the token's secret part
 * @param ratePerSecond the key's own request rate limit, if it has one
 * @param createdBy the id of the key that made this one; empty when the local operator or the server did
 */
public record StoredKey(String id, String name, Set<String> roles, Set<String> models, Instant created,
                        Optional<Instant> expires, Optional<Instant> revoked, String secretSha256,
                        Optional<Double> ratePerSecond, Optional<String> createdBy) {
    public StoredKey {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(name, "name");
        roles = Set.copyOf(roles);
        models = Set.copyOf(models);
        Objects.requireNonNull(created, "created");
        Objects.requireNonNull(expires, "expires");
        Objects.requireNonNull(revoked, "revoked");
        Objects.requireNonNull(secretSha256, "secretSha256");
        Objects.requireNonNull(ratePerSecond, "ratePerSecond");
        Objects.requireNonNull(createdBy, "createdBy");
    }
}
