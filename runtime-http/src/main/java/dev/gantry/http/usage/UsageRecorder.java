package dev.gantry.http.usage;

import dev.gantry.core.error.ErrorCode;
import dev.gantry.core.error.GantryException;
import dev.gantry.core.model.ModelId;
import dev.gantry.core.usage.QuotaExceeded;
import dev.gantry.core.usage.UsageMeter;
import dev.gantry.http.auth.ApiKey;
import dev.gantry.http.auth.Caller;
import io.vertx.ext.web.RoutingContext;

import java.time.Clock;
import java.time.Duration;
import java.util.Optional;

/**
 * The HTTP side of usage accounting: who the caller is (its key id; "anonymous" on a server without keys),
 * quota refusals as 429 with Retry-After, and the calls an inference endpoint makes around each request.
 *
 * <p>An endpoint calls {@link #admit} before it runs a request, then exactly one of {@link #completed} (with
 * what the request used, tokens included for text models) or {@link #failed}.
 */
public final class UsageRecorder {
    /** The key id usage is recorded under when the server has no keys. */
    public static final String ANONYMOUS = "anonymous";
    private static final String ADMITTED = "gantry.usage.admitted";

    private final UsageMeter meter;
    private final Clock clock;

    public UsageRecorder(UsageMeter meter, Clock clock) {
        this.meter = meter;
        this.clock = clock;
    }

    public UsageMeter meter() {
        return meter;
    }

    /** The id usage of this request's caller is recorded under. */
    public static String keyId(RoutingContext ctx) {
        Caller c = ctx.get(Caller.CONTEXT_KEY);
        return c == null ? ANONYMOUS : c.key().map(ApiKey::id).orElse(ANONYMOUS);
    }

    private static String keyName(RoutingContext ctx) {
        Caller c = ctx.get(Caller.CONTEXT_KEY);
        return c == null ? ANONYMOUS : c.name();
    }

    /**
     * Counts the request against its key's quota. Empty when it may run; else the 429 to answer, with the
     * Retry-After header (seconds to the reset) already set on the response.
     */
    public Optional<GantryException> admit(RoutingContext ctx) {
        if (!meter.enforcesQuotas()) {
            // Nothing to count against and nothing to give back in failed(): no caller lookup, no context entry.
            return Optional.empty();
        }
        Optional<QuotaExceeded> refused = meter.admit(keyId(ctx), keyName(ctx));
        if (refused.isEmpty()) {
            ctx.put(ADMITTED, Boolean.TRUE);
            return Optional.empty();
        }
        long seconds = Math.max(1, Duration.between(clock.instant(), refused.get().resetAt()).toSeconds() + 1);
        ctx.response().putHeader("Retry-After", Long.toString(seconds));
        return Optional.of(new GantryException(ErrorCode.RESOURCE_EXHAUSTED, refused.get().message()));
    }

    /** Records what a successful request used. */
    public void completed(RoutingContext ctx, ModelId served, long rows, long bytesIn, long bytesOut, long tokens,
                          long computeNanos) {
        meter.record(keyId(ctx), served, rows, bytesIn, bytesOut, tokens, computeNanos);
    }

    /** The admitted request failed: it uses no quota and is not counted. */
    public void failed(RoutingContext ctx) {
        if (ctx.get(ADMITTED) != null) {
            ctx.remove(ADMITTED);
            meter.release(keyId(ctx));
        }
    }
}
