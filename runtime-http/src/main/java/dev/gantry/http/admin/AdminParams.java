package dev.gantry.http.admin;

import dev.gantry.core.error.GantryException;
import io.vertx.ext.web.RoutingContext;

import java.time.Instant;
import java.time.format.DateTimeParseException;

/** Reads the query parameters of admin routes; a bad one is a 400 that names it. */
final class AdminParams {
    private AdminParams() {
    }

    /** An ISO-8601 instant, or {@code fallback} when the parameter is absent. */
    static Instant instant(RoutingContext ctx, String name, Instant fallback) {
        String v = ctx.queryParams().get(name);
        if (v == null) {
            return fallback;
        }
        try {
            return Instant.parse(v);
        } catch (DateTimeParseException e) {
            throw GantryException.invalid("'" + name + "' must be an ISO-8601 instant like 2026-11-26T12:00:00Z, was '"
                    + v + "'");
        }
    }

    /** A whole number, or {@code fallback} when the parameter is absent. */
    static long integer(RoutingContext ctx, String name, long fallback) {
        String v = ctx.queryParams().get(name);
        if (v == null) {
            return fallback;
        }
        return AdminBodies.integer(com.fasterxml.jackson.databind.node.TextNode.valueOf(v), name);
    }
}
