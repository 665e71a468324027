package dev.gantry.http.openai;

import dev.gantry.core.error.ErrorCode;
import dev.gantry.http.auth.AccessControl;
import dev.gantry.http.auth.Caller;
import dev.gantry.http.auth.RouteGroup;
import dev.gantry.http.error.EarlyAnswer;
import io.vertx.ext.web.RoutingContext;

import java.util.Optional;

/** AccessControl's decision for a {@code /v1} route, with a refusal written as an OpenAI error. */
final class OpenAiAccess {
    private OpenAiAccess() {
    }

    /** The caller if {@link AccessControl#decide} lets it on; otherwise the refusal is sent and empty returned. */
    static Optional<Caller> admit(RoutingContext ctx, AccessControl access, RouteGroup group, String model) {
        AccessControl.Decision d = access.decide(group, ctx.request().getHeader("Authorization"), model);
        ctx.put(Caller.CONTEXT_KEY, d.caller());
        if (d.failure() == null) {
            return Optional.of(d.caller());
        }
        if (d.failure().code() == ErrorCode.UNAUTHENTICATED) {
            ctx.response().putHeader("WWW-Authenticate", "Bearer realm=\"gantry\"");
        }
        if (d.retryAfter() > 0) {
            ctx.response().putHeader("Retry-After", Long.toString(d.retryAfter()));
        }
        EarlyAnswer.leaveBodyUnread(ctx);
        OpenAiErrors.send(ctx.response(), d.failure());
        return Optional.empty();
    }
}
