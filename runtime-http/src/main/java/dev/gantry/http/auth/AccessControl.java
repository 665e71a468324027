package dev.gantry.http.auth;

import dev.gantry.core.access.Role;
import dev.gantry.core.error.ErrorCode;
import dev.gantry.core.error.GantryException;
import dev.gantry.http.error.EarlyAnswer;
import dev.gantry.http.error.ErrorMapper;
import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;

import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Decides, per request, who the caller is and whether its key may use the route's group. With no keys at all
 * the server runs open (and binds only to loopback unless told otherwise); once any key exists, every route
 * except open health and metrics needs one.
 */
public final class AccessControl {
    private final KeyStore keys;
    private final RateLimiter limiter;
    private final boolean openHealth;
    private final boolean openMetrics;

    public AccessControl(KeyStore keys, RateLimiter limiter, boolean openHealth, boolean openMetrics) {
        this.keys = keys;
        this.limiter = limiter;
        this.openHealth = openHealth;
        this.openMetrics = openMetrics;
    }

    /** A handler that lets the request on only if its caller may use {@code group}. */
    public Handler<RoutingContext> guard(RouteGroup group) {
        return ctx -> {
            Decision d = decide(group, ctx.request().getHeader(io.vertx.core.http.HttpHeaders.AUTHORIZATION), ctx.pathParam("model"));
            if (d.failure() != null) {
                if (d.failure().code() == ErrorCode.UNAUTHENTICATED) {
                    ctx.response().putHeader("WWW-Authenticate", "Bearer realm=\"gantry\"");
                }
                if (d.retryAfter() > 0) {
                    ctx.response().putHeader("Retry-After", Long.toString(d.retryAfter()));
                }
                ctx.put(Caller.CONTEXT_KEY, d.caller());
                EarlyAnswer.leaveBodyUnread(ctx);
                ErrorMapper.send(ctx.response(), d.failure());
                return;
            }
            ctx.put(Caller.CONTEXT_KEY, d.caller());
            ctx.next();
        };
    }

    /** What {@link #guard} decides, without HTTP, so the rules can be read and tested on their own. */
    public record Decision(Caller caller, GantryException failure, long retryAfter) {
        private static final Decision ANONYMOUS = new Decision(Caller.ANONYMOUS, null, 0);

        static Decision allow(Caller c) {
            return c == Caller.ANONYMOUS ? ANONYMOUS : new Decision(c, null, 0);
        }

        static Decision deny(Caller c, GantryException e) {
            return new Decision(c, e, 0);
        }
    }

    public Decision decide(RouteGroup group, String authorization, String model) {
        if ((group == RouteGroup.HEALTH && openHealth) || (group == RouteGroup.METRICS && openMetrics)) {
            return Decision.allow(Caller.ANONYMOUS);
        }
        if (keys.isEmpty()) {
            return Decision.allow(Caller.ANONYMOUS);
        }
        if (authorization == null || authorization.isBlank()) {
            return Decision.deny(Caller.ANONYMOUS, new GantryException(ErrorCode.UNAUTHENTICATED,
                    "this route needs an API key: send 'Authorization: Bearer <key>'"));
        }
        String[] parts = authorization.trim().split("\\s+", 2);
        if (parts.length != 2 || !parts[0].toLowerCase(Locale.ROOT).equals("bearer")) {
            return Decision.deny(Caller.ANONYMOUS, new GantryException(ErrorCode.UNAUTHENTICATED,
                    "malformed Authorization header: expected 'Bearer <key>'"));
        }
        KeyStore.Verification v = keys.verify(parts[1].trim());
        if (v instanceof KeyStore.Verification.Invalid invalid) {
            return Decision.deny(Caller.ANONYMOUS, new GantryException(ErrorCode.UNAUTHENTICATED, invalid.reason()));
        }
        ApiKey key = ((KeyStore.Verification.Valid) v).key();
        Caller caller = Caller.of(key);
        GantryException refusal = authorize(group, key, model);
        if (refusal != null) {
            return Decision.deny(caller, refusal);
        }
        long wait = limiter.tryAcquire(key);
        if (wait > 0) {
            return new Decision(caller, new GantryException(ErrorCode.RESOURCE_EXHAUSTED, "key '" + key.name()
                    + "' is over its rate limit; retry in " + wait + " s"), wait);
        }
        return Decision.allow(caller);
    }

    /**
     * Whether {@code caller}, already let through {@link #decide} for {@code group}, may use {@code model}: for
     * routes that name the model in the body ({@code /v1/embeddings}), checked once the body is read.
     */
    public static java.util.Optional<GantryException> modelRefusal(RouteGroup group, Caller caller, String model) {
        return caller.key().map(key -> authorize(group, key, model));
    }

    private static GantryException authorize(RouteGroup group, ApiKey key, String model) {
        if (key.roles().contains(Role.ADMIN)) {
            return null;
        }
        for (Role r : key.roles()) {
            if (r != Role.INVOKE && group.allowed().contains(r)) {
                return null;
            }
        }
        if (key.roles().contains(Role.INVOKE) && group.allowed().contains(Role.INVOKE)) {
            if (group.invokeScoped() && model != null && !key.models().isEmpty() && !key.models().contains(model)) {
                return new GantryException(ErrorCode.FORBIDDEN, "key '" + key.name() + "' may not use model '"
                        + model + "'; it is limited to " + key.models().stream().sorted().toList());
            }
            return null;
        }
        return new GantryException(ErrorCode.FORBIDDEN, "key '" + key.name() + "' (roles " + names(key.roles())
                + ") may not use " + group.name().toLowerCase(Locale.ROOT).replace('_', ' ') + " routes; they need "
                + names(group.allowed()));
    }

    private static String names(Set<Role> roles) {
        return roles.stream().sorted().map(Role::wireName).collect(Collectors.joining(", ", "[", "]"));
    }
}
