package dev.gantry.http.inference;

import dev.gantry.core.error.GantryException;

import java.util.OptionalLong;

/** Parses path parameters of the OIP routes. */
final class Paths {
    private Paths() {
    }

    /** The {version} path segment: absent, or a positive integer. */
    static OptionalLong version(String raw) {
        if (raw == null) {
            return OptionalLong.empty();
        }
        try {
            long v = Long.parseLong(raw);
            if (v > 0) {
                return OptionalLong.of(v);
            }
        } catch (NumberFormatException e) {
            // falls through to the error below
        }
        throw GantryException.invalid("model version must be a positive integer, was '" + raw + "'");
    }
}
