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
        if (raw != null && isDigits(raw, 18)) {
            long v = Long.parseLong(raw);
            if (v > 0) {
                return v;
            }
        }
        throw GantryException.invalid("model version must be a positive integer, was '" + raw + "'");
    }

    /** 1 to {@code max} ASCII digits (what the regex \\d{1,18} accepted), without compiling a pattern per call. */
    private static boolean isDigits(String s, int max) {
        if (s.isEmpty() || s.length() > max) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return false;
            }
        }
        return true;
    }
}
