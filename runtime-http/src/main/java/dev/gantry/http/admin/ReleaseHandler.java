package dev.gantry.http.admin;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gantry.core.access.Actor;
import dev.gantry.core.error.GantryException;
import dev.gantry.core.release.Releases;
import dev.gantry.http.auth.Caller;
import dev.gantry.http.auth.RouteGroup;
import dev.gantry.http.error.ErrorMapper;
import dev.gantry.http.json.Json;
import dev.gantry.http.params.Durations;
import dev.gantry.http.params.PathParams;
import dev.gantry.store.catalog.ReleaseRecord;
import io.vertx.core.WorkerExecutor;
import io.vertx.ext.web.RoutingContext;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Optional;

/**
 * A version's release record under {@code /admin/v1/models/{m}/versions/{v}}: the record, its model card, and the
 * lifecycle actions (request-approval, approve, reject, deprecate, suspend, resume).
 */
public final class ReleaseHandler {
    private final Releases releases;
    private final WorkerExecutor workers;

    public ReleaseHandler(Releases releases, WorkerExecutor workers) {
        this.releases = releases;
        this.workers = workers;
    }

    public void version(RoutingContext ctx) {
        Replies.blocking(ctx, workers, 200, () -> ReleaseJson.describe(releases, record(ctx)));
    }

    public void card(RoutingContext ctx) {
        Replies.blocking(ctx, workers, 200, () -> {
            ReleaseRecord r = record(ctx);
            return Json.MAPPER.readTree(releases.card(r.model(), r.version()).toJson());
        });
    }

    public void patchCard(RoutingContext ctx) {
        Actor actor = Caller.from(ctx).actor(RouteGroup.DEPLOY);
        AdminBodies.json(ctx).onSuccess(patch -> Replies.blocking(ctx, workers, 200, () -> {
            ReleaseRecord r = record(ctx);
            return ReleaseJson.describe(releases, releases.patchCard(r.model(), r.version(), patch.toString(), actor));
        })).onFailure(e -> ErrorMapper.send(ctx, e));
    }

    /** POST .../versions/{v}/{action}: request-approval, approve, reject, deprecate, suspend, resume. */
    public void transition(RoutingContext ctx, String action) {
        RouteGroup group = action.equals("approve") || action.equals("reject") ? RouteGroup.APPROVAL : RouteGroup.DEPLOY;
        Actor actor = Caller.from(ctx).actor(action.equals("resume") ? RouteGroup.KEYS : group);
        AdminBodies.json(ctx).onSuccess(body -> Replies.blocking(ctx, workers, 200, () -> {
            ReleaseRecord r = record(ctx);
            String reason = Optional.ofNullable(AdminBodies.text(body, "reason", false)).orElse("");
            String m = r.model();
            long v = r.version();
            ReleaseRecord after = switch (action) {
                case "request-approval" -> releases.requestApproval(m, v, actor, reason);
                case "approve" -> releases.approve(m, v, actor, reason);
                case "reject" -> releases.reject(m, v, actor, reason);
                case "deprecate" -> releases.deprecate(m, v, actor, sunset(body),
                        body.hasNonNull("successor") ? Optional.of(AdminBodies.integer(body.get("successor"),
                                "successor")) : Optional.empty(), reason);
                case "suspend" -> releases.suspend(m, v, actor, reason);
                case "resume" -> releases.resume(m, v, actor, reason);
                default -> throw GantryException.notFound("no lifecycle action '" + action + "'");
            };
            return ReleaseJson.describe(releases, after);
        })).onFailure(e -> ErrorMapper.send(ctx, e));
    }

    private static Instant sunset(JsonNode body) {
        if (body.hasNonNull("sunset")) {
            try {
                return Instant.parse(body.get("sunset").asText());
            } catch (DateTimeParseException e) {
                throw GantryException.invalid("'sunset' must be an ISO-8601 instant like 2027-01-31T00:00:00Z, was '"
                        + body.get("sunset").asText() + "'");
            }
        }
        if (body.hasNonNull("sunset_in")) {
            return Durations.fromNow("sunset_in", body.get("sunset_in").asText(), Instant.now());
        }
        throw GantryException.invalid("deprecating needs 'sunset' (an ISO-8601 instant) or 'sunset_in' (e.g. 30d)");
    }

    private ReleaseRecord record(RoutingContext ctx) {
        return releases.record(ctx.pathParam("model"), PathParams.requiredVersion(ctx.pathParam("version")));
    }
}
