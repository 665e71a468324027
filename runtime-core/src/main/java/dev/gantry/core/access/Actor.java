package dev.gantry.core.access;

import java.util.Objects;
import java.util.Optional;

/**
 * Who performs a state-changing action and in which role: an API key acting in one of its roles, the server
 * itself, the local operator editing the key file, or anyone at all on a server that has no keys yet. Every
 * audit entry names both.
 *
 * @param keyId the acting key's public id, for {@link Kind#KEY}
 * @param role the key role the action was allowed by, for {@link Kind#KEY}
 */
public record Actor(Kind kind, String name, Optional<String> keyId, Optional<Role> role) {
    /** What kind of party acts. */
    public enum Kind {
        /** An API key, in one of its roles. */
        KEY,
        /** The server itself: retirements at sunset, versions catalogued at first start, crash suspensions. */
        SYSTEM,
        /** Someone with access to the data directory, through {@code gantry keys}. */
        LOCAL_OPERATOR,
        /** A caller on a server with no keys (loopback only, or --insecure): it may do everything. */
        ANONYMOUS
    }

    public static final Actor SYSTEM = new Actor(Kind.SYSTEM, "system", Optional.empty(), Optional.empty());
    public static final Actor LOCAL_OPERATOR = new Actor(Kind.LOCAL_OPERATOR, "local operator (gantry keys)",
            Optional.empty(), Optional.empty());
    public static final Actor ANONYMOUS = new Actor(Kind.ANONYMOUS, "anonymous", Optional.empty(), Optional.empty());

    public Actor {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(keyId, "keyId");
        Objects.requireNonNull(role, "role");
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("actor name must not be blank, was "
                    + (name == null ? "null" : "'" + name + "'"));
        }
        if (kind == Kind.KEY && (keyId.isEmpty() || role.isEmpty())) {
            throw new IllegalArgumentException("a key actor needs its key id and the role it acts in");
        }
    }

    /** Key {@code keyId}, named {@code name}, acting in {@code role}. */
    public static Actor key(String keyId, String name, Role role) {
        return new Actor(Kind.KEY, name, Optional.of(keyId), Optional.of(role));
    }

    /** The role the audit trail records: the key's role used, else system, file (the key file) or none. */
    public String auditRole() {
        return switch (kind) {
            case KEY -> role.orElseThrow().wireName();
            case SYSTEM -> "system";
            case LOCAL_OPERATOR -> "file";
            case ANONYMOUS -> "none";
        };
    }

    /** Acts with every right: an admin key, the server itself, or anyone on a server without keys. */
    public boolean isAdmin() {
        return kind != Kind.KEY || role.orElseThrow() == Role.ADMIN;
    }
}
