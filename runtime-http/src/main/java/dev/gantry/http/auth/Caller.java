package dev.gantry.http.auth;

import dev.gantry.core.access.Actor;
import dev.gantry.core.access.Role;
import dev.gantry.core.governance.PinnedAccess;

import java.util.Optional;
import java.util.Set;

/**
 * Who made a request: a key's name, or "anonymous" when the server has no keys. Stored on the routing
 * context for the access log and for attributing changes.
 */
public record Caller(String name, Optional<ApiKey> key) {
    public static final String CONTEXT_KEY = "gantry.caller";
    public static final Caller ANONYMOUS = new Caller("anonymous", Optional.empty());

    /**
     * Which versions this caller may reach by pinning one: versions awaiting approval only for keys that deploy,
     * approve or administer (to test them), and anyone on a server without keys; a plain invoke key reaches
     * released versions only.
     */
    public PinnedAccess pinnedAccess() {
        if (key.isEmpty()) {
            return PinnedAccess.PRE_RELEASE;
        }
        Set<Role> roles = key.get().roles();
        return roles.contains(Role.DEPLOY) || roles.contains(Role.APPROVE) || roles.contains(Role.ADMIN)
                ? PinnedAccess.PRE_RELEASE : PinnedAccess.RELEASED_ONLY;
    }

    /**
     * Whether this caller may see model {@code model} where models are listed: a key limited to models sees only
     * those, unless it holds a role beyond invoke (which is not model-scoped); everyone else sees everything.
     */
    public boolean sees(String model) {
        if (key.isEmpty() || key.get().models().isEmpty()) {
            return true;
        }
        for (Role r : key.get().roles()) {
            if (r != Role.INVOKE) {
                return true;
            }
        }
        return key.get().models().contains(model);
    }

    /** Whether this caller sees everything of every model: no model list, or a role beyond invoke. */
    public boolean seesAllModels() {
        return key.isEmpty() || key.get().models().isEmpty()
                || key.get().roles().stream().anyMatch(r -> r != Role.INVOKE);
    }

    /** Whether this caller may see API keys (names, roles) where the audit trail mentions them: admins only. */
    public boolean seesKeys() {
        return key.isEmpty() || key.get().roles().contains(Role.ADMIN);
    }

    /** Who made the request on {@code ctx}: set by the access guard, anonymous where no guard ran. */
    public static Caller from(io.vertx.ext.web.RoutingContext ctx) {
        Caller c = ctx.get(CONTEXT_KEY);
        return c == null ? ANONYMOUS : c;
    }

    public static Caller of(ApiKey key) {
        return new Caller(key.name(), Optional.of(key));
    }

    /**
     * The caller as the actor of a change on a route of {@code group}: its key acting in the group's non-admin
     * role it holds (the narrowest that lets it in), else as admin when it is one, else in its first role (which
     * the group does not allow: the core refuses); anyone, on a server without keys.
     */
    public Actor actor(RouteGroup group) {
        if (key.isEmpty()) {
            return Actor.ANONYMOUS;
        }
        ApiKey k = key.get();
        for (Role r : k.roles()) {
            if (r != Role.ADMIN && group.allowed().contains(r)) {
                return Actor.key(k.id(), k.name(), r);
            }
        }
        Role acting = k.roles().contains(Role.ADMIN) ? Role.ADMIN : k.roles().iterator().next();
        return Actor.key(k.id(), k.name(), acting);
    }
}
