package dev.gantry.http.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gantry.core.error.GantryException;
import dev.gantry.core.routing.RollbackResult;
import dev.gantry.http.json.Json;
import dev.gantry.store.deployment.PolicyRevision;
import dev.gantry.store.deployment.Route;
import dev.gantry.store.deployment.ShadowRoute;
import dev.gantry.store.deployment.TrafficPolicy;

import java.util.ArrayList;
import java.util.List;

/** The one JSON form of traffic policies, revisions and rollbacks, read and written by every admin route. */
final class PolicyJson {
    private PolicyJson() {
    }

    static ObjectNode write(TrafficPolicy p) {
        ObjectNode o = Json.object();
        ArrayNode routes = o.putArray("routes");
        for (Route r : p.routes()) {
            ObjectNode ro = routes.addObject();
            ro.put("version", Long.toString(r.version()));
            ro.put("weight", r.weight());
        }
        ArrayNode shadow = o.putArray("shadow");
        for (ShadowRoute r : p.shadow()) {
            ObjectNode so = shadow.addObject();
            so.put("version", Long.toString(r.version()));
            so.put("percent", r.percent());
        }
        p.fallback().ifPresent(f -> o.put("fallback", Long.toString(f)));
        return o;
    }

    static ObjectNode revision(PolicyRevision r) {
        ObjectNode o = Json.object();
        o.put("revision", r.revision());
        o.put("time", r.time().toString());
        o.put("actor", r.actor());
        o.put("reason", r.reason());
        r.rollbackOf().ifPresent(f -> o.put("rollback_from", f));
        o.set("policy", write(r.policy()));
        return o;
    }

    static ObjectNode rollback(RollbackResult r) {
        ObjectNode o = Json.object();
        o.put("from", r.from());
        o.put("to", r.to());
        o.put("revision", r.newRevision());
        o.set("policy", write(r.policy()));
        return o;
    }

    /**
     * {"routes": [{"version", "weight"}...], "shadow": [{"version", "percent"}...], "fallback": version}
     * (fallback optional, null for none); 400 naming the bad field.
     */
    static TrafficPolicy read(JsonNode body) {
        try {
            return readPolicy(body);
        } catch (IllegalArgumentException e) {
            throw GantryException.invalid(e.getMessage());
        }
    }

    private static TrafficPolicy readPolicy(JsonNode body) {
        JsonNode routes = body.get("routes");
        if (routes == null || !routes.isArray() || routes.isEmpty()) {
            throw GantryException.invalid("'routes' must be a non-empty list of {\"version\", \"weight\"}");
        }
        List<Route> rs = new ArrayList<>();
        for (int i = 0; i < routes.size(); i++) {
            JsonNode r = routes.get(i);
            if (!r.isObject()) {
                throw GantryException.invalid("routes[" + i + "] must be an object");
            }
            rs.add(TrafficPolicy.route(i, AdminBodies.integer(r.get("version"), "routes[" + i + "].version"),
                    AdminBodies.integer(r.get("weight"), "routes[" + i + "].weight")));
        }
        List<ShadowRoute> ss = new ArrayList<>();
        JsonNode shadow = body.get("shadow");
        if (shadow != null && !shadow.isNull()) {
            if (!shadow.isArray()) {
                throw GantryException.invalid("'shadow' must be a list of {\"version\", \"percent\"}");
            }
            for (int i = 0; i < shadow.size(); i++) {
                JsonNode r = shadow.get(i);
                if (!r.isObject()) {
                    throw GantryException.invalid("shadow[" + i + "] must be an object");
                }
                ss.add(TrafficPolicy.shadowRoute(i, AdminBodies.integer(r.get("version"), "shadow[" + i + "].version"),
                        AdminBodies.integer(r.get("percent"), "shadow[" + i + "].percent")));
            }
        }
        JsonNode fallback = body.get("fallback");
        java.util.OptionalLong fb = java.util.OptionalLong.empty();
        if (fallback != null && !fallback.isNull()) {
            long v = AdminBodies.integer(fallback, "fallback");
            if (v < 1) {
                throw GantryException.invalid("'fallback' must be a version >= 1, was " + v);
            }
            fb = java.util.OptionalLong.of(v);
        }
        return TrafficPolicy.of(rs, ss, fb);
    }
}
