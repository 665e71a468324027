package dev.gantry.store.catalog;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.time.Instant;
import java.util.Collection;
import java.util.Optional;

/** Builds the short JSON objects stored as an audit entry's {@code before} and {@code after}. */
public final class AuditJson {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private AuditJson() {
    }

    /**
     * A JSON object of alternating names and values, in that order. Values may be strings, numbers, booleans,
     * instants, enums, collections of those, or {@link Optional}s of them (an empty one is left out).
     */
    public static String object(Object... namesAndValues) {
        if (namesAndValues.length % 2 != 0) {
            throw new IllegalArgumentException("names and values must come in pairs, got " + namesAndValues.length
                    + " items");
        }
        ObjectNode o = MAPPER.createObjectNode();
        for (int i = 0; i < namesAndValues.length; i += 2) {
            String name = (String) namesAndValues[i];
            Object v = namesAndValues[i + 1];
            if (v instanceof Optional<?> opt) {
                if (opt.isEmpty()) {
                    continue;
                }
                v = opt.get();
            }
            if (v instanceof Collection<?> c) {
                var a = o.putArray(name);
                c.forEach(x -> a.add(String.valueOf(x)));
            } else if (v instanceof Long l) {
                o.put(name, l);
            } else if (v instanceof Integer n) {
                o.put(name, n);
            } else if (v instanceof Boolean b) {
                o.put(name, b);
            } else if (v == null) {
                o.putNull(name);
            } else {
                o.put(name, String.valueOf(v));
            }
        }
        try {
            return MAPPER.writeValueAsString(o);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot encode an audit state", e);
        }
    }

    /** The lifecycle state of a version, as audited, followed by {@code extra} names and values. */
    public static String of(ReleaseRecord r, Object... extra) {
        Object[] base = {"stage", r.stage(), "digest", r.digest(), "reason", r.reason(),
                "approval_requested_by", r.approvalRequestedBy(), "sunset", r.sunset().map(Instant::toString),
                "successor", r.successor(), "suspended_from", r.suspendedFrom()};
        Object[] all = java.util.Arrays.copyOf(base, base.length + extra.length);
        System.arraycopy(extra, 0, all, base.length, extra.length);
        return object(all);
    }
}
