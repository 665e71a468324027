package dev.gantry.http.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gantry.core.error.GantryException;
import dev.gantry.http.auth.ApiKey;
import dev.gantry.http.auth.KeyStore;
import dev.gantry.core.access.Role;
import dev.gantry.http.error.ErrorMapper;
import dev.gantry.http.json.Json;
import dev.gantry.http.params.Durations;
import dev.gantry.core.audit.AuditTrail;
import dev.gantry.http.auth.Caller;
import dev.gantry.http.auth.RouteGroup;
import io.vertx.core.WorkerExecutor;
import io.vertx.ext.web.RoutingContext;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;

/** {@code /admin/v1/keys}: create, list, show, rotate and revoke API keys. Secrets appear only in create/rotate answers. */
public final class KeysHandler {
    private final KeyStore keys;
    private final WorkerExecutor workers;
    private final AuditTrail audit;

    public KeysHandler(KeyStore keys, WorkerExecutor workers, AuditTrail audit) {
        this.keys = keys;
        this.workers = workers;
        this.audit = audit;
    }

    /**
     * How a key change through this route is audited, together with the change: in its transaction on a shared
     * catalogue; with a key file, committed right after the file is replaced, the change undone when its entry cannot
     * be written. No key exists without its record.
     */
    private KeyStore.Audit audited(RoutingContext ctx, String action) {
        return new KeyStore.Audit(audit, Caller.from(ctx).actor(RouteGroup.KEYS), action, k -> describe(k).toString());
    }

    public void list(RoutingContext ctx) {
        run(ctx, 200, () -> {
            ObjectNode root = Json.object();
            ArrayNode arr = root.putArray("keys");
            keys.list().forEach(k -> arr.add(describe(k)));
            return root;
        });
    }

    public void get(RoutingContext ctx) {
        String id = ctx.pathParam("id");
        run(ctx, 200, () -> describe(keys.find(id).orElseThrow(() ->
                GantryException.notFound("no API key with id '" + id + "'"))));
    }

    public void create(RoutingContext ctx) {
        AdminBodies.json(ctx).onSuccess(body -> run(ctx, 201, () -> {
            String name = AdminBodies.text(body, "name", true);
            Set<Role> roles = new TreeSet<>();
            JsonNode rs = body.get("roles");
            if (rs == null || !rs.isArray() || rs.isEmpty()) {
                throw GantryException.invalid("'roles' must be a non-empty list of invoke, deploy, approve, admin");
            }
            for (JsonNode r : rs) {
                roles.add(Role.fromWire(r.asText()).orElseThrow(() -> GantryException.invalid("unknown role '"
                        + r.asText() + "'; roles are invoke, deploy, approve, admin")));
            }
            Set<String> models = new TreeSet<>();
            JsonNode ms = body.get("models");
            if (ms != null && !ms.isNull()) {
                if (!ms.isArray()) {
                    throw GantryException.invalid("'models' must be a list of model names");
                }
                ms.forEach(m -> models.add(m.asText()));
            }
            Optional<Instant> expires = expiry(body);
            Optional<Double> rate = Optional.empty();
            if (body.hasNonNull("rate_per_second")) {
                if (!body.get("rate_per_second").isNumber()) {
                    throw GantryException.invalid("'rate_per_second' must be a number");
                }
                rate = Optional.of(body.get("rate_per_second").asDouble());
            }
            Optional<Double> limit = rate;
            Optional<String> creator = Caller.from(ctx).key().map(ApiKey::id);
            KeyStore.Created c = keys.create(name, roles, models, expires, limit, creator,
                    audited(ctx, "key.create"));
            ObjectNode out = describe(c.key());
            out.put("token", c.token());
            return out;
        })).onFailure(e -> ErrorMapper.send(ctx, e));
    }

    public void rotate(RoutingContext ctx) {
        String id = ctx.pathParam("id");
        run(ctx, 200, () -> {
            KeyStore.Created c = keys.rotate(id, audited(ctx, "key.rotate"));
            ObjectNode out = describe(c.key());
            out.put("token", c.token());
            return out;
        });
    }

    public void revoke(RoutingContext ctx) {
        String id = ctx.pathParam("id");
        run(ctx, 200, () -> {
            ApiKey k = keys.revoke(id, audited(ctx, "key.revoke"));
            return describe(k);
        });
    }

    private void run(RoutingContext ctx, int status, Callable<Object> work) {
        workers.executeBlocking(work, /* ordered= */ false)
                .onSuccess(tree -> Json.send(ctx.response(), status, tree))
                .onFailure(e -> ErrorMapper.send(ctx, e));
    }

    static Optional<Instant> expiry(JsonNode body) {
        if (body.hasNonNull("expires_at")) {
            try {
                return Optional.of(Instant.parse(body.get("expires_at").asText()));
            } catch (DateTimeParseException e) {
                throw GantryException.invalid("'expires_at' must be an ISO-8601 instant like 2027-01-31T00:00:00Z, was '"
                        + body.get("expires_at").asText() + "'");
            }
        }
        if (body.hasNonNull("expires_in")) {
            return Optional.of(Durations.fromNow("expires_in", body.get("expires_in").asText(), Instant.now()));
        }
        return Optional.empty();
    }


    static ObjectNode describe(ApiKey k) {
        ObjectNode n = KeyStore.writePublicFields(k, Json.object());
        n.put("active", k.isActive(Instant.now()));
        k.ratePerSecond().ifPresent(r -> n.put("rate_per_second", r));
        return n;
    }
}
