package dev.gantry.http.params;

import dev.gantry.core.error.GantryException;

import java.util.OptionalLong;

/** Parses the {version} path parameter of the OIP and admin routes. */
public final class PathParams {
    private PathParams() {
    }

    /** The {version} path segment: absent, or a positive integer. */
    public static OptionalLong version(String raw) {
        return raw == null ? OptionalLong.empty() : OptionalLong.of(requiredVersion(raw));
    }

    /** A {version} path segment that must be present: a positive integer of at most 18 digits. */
    public static long requiredVersion(String raw) {
        if (raw != null && raw.matches("\\d{1,18}") && Long.parseLong(raw) > 0) {
            return Long.parseLong(raw);
        }
        throw GantryException.invalid("model version must be a positive integer, was '" + raw + "'");
    }
}
