package dev.gantry.store.deployment;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** The on-disk JSON form of a {@link DeploymentRecord}, written and read field by field so the format is explicit. */
final class DeploymentJson {
    /*
     * {"format": 1, "model": "m", "currentRevision": 3, "standby": [2],
     *  "history": [{"revision": 1, "time": "2025-...Z", "actor": "system", "reason": "",
     *               "rollbackOf": null, "routes": [{"version": 1, "weight": 100}], "shadow": []}, ...]}
     */
    static final int FORMAT = 1;
    private static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private DeploymentJson() {
    }

    static byte[] write(DeploymentRecord record) {
        ObjectNode root = MAPPER.createObjectNode();
        root.put("format", FORMAT);
        root.put("model", record.model());
        root.put("currentRevision", record.currentRevision());
        ArrayNode standby = root.putArray("standby");
        record.standby().forEach(standby::add);
        ArrayNode history = root.putArray("history");
        for (PolicyRevision r : record.history()) {
            ObjectNode n = history.addObject();
            n.put("revision", r.revision());
            n.put("time", r.time().toString());
            n.put("actor", r.actor());
            n.put("reason", r.reason());
            if (r.rollbackOf().isPresent()) {
                n.put("rollbackOf", r.rollbackOf().get());
            } else {
                n.putNull("rollbackOf");
            }
            ArrayNode routes = n.putArray("routes");
            for (Route route : r.policy().routes()) {
                routes.addObject().put("version", route.version()).put("weight", route.weight());
            }
            ArrayNode shadow = n.putArray("shadow");
            for (ShadowRoute s : r.policy().shadow()) {
                shadow.addObject().put("version", s.version()).put("percent", s.percent());
            }
            r.policy().fallback().ifPresent(f -> n.put("fallback", f));
        }
        try {
            return MAPPER.writeValueAsBytes(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot encode deployment of model '" + record.model() + "'", e);
        }
    }

    /** @throws IllegalArgumentException naming what is wrong */
    static DeploymentRecord read(byte[] bytes) {
        JsonNode root;
        try {
            root = MAPPER.readTree(bytes);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not valid JSON: " + e.getOriginalMessage());
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("not valid JSON: " + e.getMessage());
        }
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException("expected a JSON object");
        }
        long format = number(root, "format");
        if (format != FORMAT) {
            throw new IllegalArgumentException("format " + format + " is not supported (expected " + FORMAT + ")");
        }
        String model = text(root, "model");
        List<PolicyRevision> history = new ArrayList<>();
        JsonNode h = array(root, "history");
        for (int i = 0; i < h.size(); i++) {
            JsonNode n = h.get(i);
            String at = "history[" + i + "]";
            List<Route> routes = new ArrayList<>();
            JsonNode rs = array(n, "routes");
            for (int j = 0; j < rs.size(); j++) {
                routes.add(TrafficPolicy.route(j, number(rs.get(j), "version"), number(rs.get(j), "weight")));
            }
            List<ShadowRoute> shadow = new ArrayList<>();
            JsonNode ss = array(n, "shadow");
            for (int j = 0; j < ss.size(); j++) {
                shadow.add(TrafficPolicy.shadowRoute(j, number(ss.get(j), "version"), number(ss.get(j), "percent")));
            }
            Instant time;
            try {
                time = Instant.parse(text(n, "time"));
            } catch (DateTimeParseException e) {
                throw new IllegalArgumentException(at + ".time is not an ISO-8601 instant: " + n.get("time"));
            }
            JsonNode rb = n.get("rollbackOf");
            Optional<Long> rollbackOf = rb == null || rb.isNull() ? Optional.empty() : Optional.of(number(n, "rollbackOf"));
            try {
                history.add(new PolicyRevision(number(n, "revision"), time, text(n, "actor"),
                        new TrafficPolicy(routes, shadow, n.hasNonNull("fallback")
                                ? java.util.OptionalLong.of(number(n, "fallback")) : java.util.OptionalLong.empty()),
                        rollbackOf, n.path("reason").asText("")));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(at + ": " + e.getMessage());
            }
        }
        List<Long> standby = new ArrayList<>();
        JsonNode sb = array(root, "standby");
        for (int i = 0; i < sb.size(); i++) {
            if (!sb.get(i).canConvertToLong() || !sb.get(i).isIntegralNumber()) {
                throw new IllegalArgumentException("standby[" + i + "] must be an integer, was " + sb.get(i));
            }
            standby.add(sb.get(i).asLong());
        }
        return new DeploymentRecord(model, history, number(root, "currentRevision"), standby);
    }

    private static long number(JsonNode n, String field) {
        JsonNode v = n == null ? null : n.get(field);
        if (v == null || !v.isIntegralNumber() || !v.canConvertToLong()) {
            throw new IllegalArgumentException("'" + field + "' must be an integer, was " + v);
        }
        return v.asLong();
    }

    private static String text(JsonNode n, String field) {
        JsonNode v = n == null ? null : n.get(field);
        if (v == null || !v.isTextual()) {
            throw new IllegalArgumentException("'" + field + "' must be a string, was " + v);
        }
        return v.asText();
    }

    private static JsonNode array(JsonNode n, String field) {
        JsonNode v = n == null ? null : n.get(field);
        if (v == null || !v.isArray()) {
            throw new IllegalArgumentException("'" + field + "' must be an array, was " + v);
        }
        return v;
    }
}
