package dev.gantry.http.admin;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gantry.core.audit.AuditTrail;
import dev.gantry.core.error.ErrorCode;
import dev.gantry.core.error.GantryException;
import dev.gantry.http.auth.Caller;
import dev.gantry.core.release.Releases;
import dev.gantry.http.json.Json;
import dev.gantry.http.params.PathParams;
import dev.gantry.store.catalog.AuditEntry;
import dev.gantry.store.catalog.AuditQuery;
import dev.gantry.store.catalog.AuditVerification;
import dev.gantry.store.deployment.PolicyRevision;
import io.vertx.core.WorkerExecutor;
import io.vertx.ext.web.RoutingContext;

import java.time.Instant;
import java.util.Optional;

/** The audit trail and the history behind it: {@code /admin/v1/audit[/verify]} and point-in-time traffic. */
public final class AuditHandler {
    private final AuditTrail audit;
    private final Releases releases;
    private final WorkerExecutor workers;

    public AuditHandler(AuditTrail audit, Releases releases, WorkerExecutor workers) {
        this.audit = audit;
        this.releases = releases;
        this.workers = workers;
    }

    /**
     * GET /admin/v1/audit?model=&version=&actor=&from=&to=&limit=: entries, newest first, of what the caller may
     * see: a key limited to models sees only their entries, and only admins see entries about keys.
     */
    public void audit(RoutingContext ctx) {
        Caller caller = Caller.from(ctx);
        Replies.blocking(ctx, workers, 200, () -> {
            AuditQuery q = AuditQuery.all();
            String model = ctx.queryParams().get("model");
            String version = ctx.queryParams().get("version");
            String actor = ctx.queryParams().get("actor");
            if (model != null && !caller.sees(model)) {
                throw new GantryException(ErrorCode.FORBIDDEN, "key '" + caller.name() + "' may not see model '"
                        + model + "'");
            }
            if (model != null && version != null) {
                q = q.version(model, PathParams.requiredVersion(version));
            } else if (model != null) {
                q = q.model(model);
            } else if (version != null) {
                throw GantryException.invalid("'version' needs 'model'");
            }
            if (actor != null) {
                q = q.actor(actor);
            }
            Instant from = AdminParams.instant(ctx, "from", Instant.EPOCH);
            Instant now = Instant.now().plusSeconds(1);
            Instant to = AdminParams.instant(ctx, "to", from.isAfter(now) ? from.plusNanos(1000) : now);
            if (!from.isBefore(to)) {
                throw GantryException.invalid("'from' (" + from + ") must be before 'to' (" + to + ")");
            }
            q = q.between(from, to);
            if (ctx.queryParams().get("limit") != null) {
                long limit = AdminParams.integer(ctx, "limit", 0);
                if (limit < 1 || limit > AuditQuery.MAX_LIMIT) {
                    throw GantryException.invalid("'limit' must be 1 to " + AuditQuery.MAX_LIMIT + ", was " + limit);
                }
                q = q.limit((int) limit);
            }
            ObjectNode out = Json.object();
            ArrayNode entries = out.putArray("entries");
            for (AuditEntry e : audit.query(q)) {
                if (!visible(caller, e)) {
                    continue;
                }
                ObjectNode n = entries.addObject();
                n.put("seq", e.seq());
                n.put("time", e.time().toString());
                n.put("actor", e.actor());
                n.put("role", e.role());
                n.put("action", e.action());
                n.put("target", e.target());
                n.put("before", e.before());
                n.put("after", e.after());
                n.put("prev_hash", e.prevHash());
                n.put("hash", e.hash());
            }
            return out;
        });
    }

    private static boolean visible(Caller caller, AuditEntry e) {
        String target = e.target();
        if (target.startsWith("key:")) {
            return caller.seesKeys();
        }
        if (caller.seesAllModels()) {
            return true;
        }
        int slash = target.lastIndexOf('/');
        return caller.sees(slash > 0 && target.substring(slash + 1).matches("\\d+") ? target.substring(0, slash) : target);
    }

    public void verify(RoutingContext ctx) {
        Replies.blocking(ctx, workers, 200, () -> {
            AuditVerification v = audit.verify();
            ObjectNode out = Json.object();
            out.put("ok", v.ok());
            out.put("checked", v.checked());
            v.firstBroken().ifPresent(seq -> out.put("first_broken", seq));
            v.problem().ifPresent(p -> out.put("problem", p));
            return out;
        });
    }

    /** GET /admin/v1/models/{m}/traffic/at?time=T: which versions took traffic, with which weights, at T. */
    public void trafficAt(RoutingContext ctx) {
        String model = ctx.pathParam("model");
        Replies.blocking(ctx, workers, 200, () -> {
            Instant at = AdminParams.instant(ctx, "time", null);
            if (at == null) {
                throw GantryException.invalid("'time' is required, an ISO-8601 instant");
            }
            Optional<PolicyRevision> r = releases.trafficAt(model, at);
            ObjectNode out = Json.object();
            out.put("model", model);
            out.put("time", at.toString());
            if (r.isEmpty()) {
                out.putNull("revision");
                out.putArray("routes");
                return out;
            }
            out.put("revision", r.get().revision());
            out.put("since", r.get().time().toString());
            out.put("actor", r.get().actor());
            out.set("policy", PolicyJson.write(r.get().policy()));
            return out;
        });
    }
}
