package dev.gantry.http.auth;

import dev.gantry.core.access.Role;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * One API key as stored: never its secret, only the SHA-256 of it.
 *
 * @param id public identifier, part of the token, used to find the key
 * @param name the person or service account the key belongs to; what logs and audit entries show
 * @param roles what the key may do
 * @param models the models an {@code invoke} key may call; empty means all
 * @param created when the key was created (or last rotated)
 * @param expires when the key stops working, if ever
 * @param revoked when the key was revoked, if it was
 * @param secretSha256 hex SHA-256 of the secret part of the token
 * @param ratePerSecond this key's request rate limit, overriding the server default; empty for the default
 * @param createdBy the id of the key that created this one; empty when the local operator did (gantry keys)
 */
public record ApiKey(String id, String name, Set<Role> roles, Set<String> models, Instant created,
                     Optional<Instant> expires, Optional<Instant> revoked, String secretSha256,
                     Optional<Double> ratePerSecond, Optional<String> createdBy) {
    public ApiKey {
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
        if (roles.isEmpty()) {
            throw new IllegalArgumentException("key '" + name + "' needs at least one role");
        }
    }

    public boolean isActive(Instant now) {
        return revoked.isEmpty() && expires.map(now::isBefore).orElse(true);
    }

    public boolean has(Role role) {
        return roles.contains(role) || roles.contains(Role.ADMIN);
    }

    /** Whether an invoke-only grant covers {@code model}. */
    public boolean mayInvoke(String model) {
        return roles.contains(Role.ADMIN) || (roles.contains(Role.INVOKE) && (models.isEmpty() || models.contains(model)));
    }

    ApiKey revokedAt(Instant when) {
        return new ApiKey(id, name, roles, models, created, expires, Optional.of(when), secretSha256, ratePerSecond,
                createdBy);
    }

    ApiKey withSecret(String newSha256, Instant when) {
        return new ApiKey(id, name, roles, models, when, expires, revoked, newSha256, ratePerSecond, createdBy);
    }
}
