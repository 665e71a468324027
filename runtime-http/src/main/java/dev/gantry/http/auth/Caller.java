package dev.gantry.http.auth;

import dev.gantry.core.access.Actor;
import dev.gantry.core.access.Role;

import java.util.Optional;

/**
 * Who made a request: a key's name, or "anonymous" when the server has no keys. Stored on the routing
 * context for the access log and for attributing changes.
 */
public record Caller(String name, Optional<ApiKey> key) {
    public static final String CONTEXT_KEY = "gantry.caller";
    public static final Caller ANONYMOUS = new Caller("anonymous", Optional.empty());

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
