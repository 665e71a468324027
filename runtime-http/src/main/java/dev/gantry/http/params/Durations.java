package dev.gantry.http.params;

import dev.gantry.core.error.GantryException;

import java.time.Duration;
import java.util.Locale;

/** Reads the durations operators type: "90d", "12h", "30m", "45s", or ISO-8601 ("PT2H"). */
public final class Durations {
    private Durations() {
    }

    /**
     * The instant {@code text} (a duration) from {@code now}.
     *
     * @throws GantryException INVALID_ARG naming the field when it is not a duration or lands past year 9999
     */
    public static java.time.Instant fromNow(String field, String text, java.time.Instant now) {
        Duration d = parse(text);
        if (d.isNegative() || d.isZero()) {
            throw GantryException.invalid("'" + field + "' must be a positive duration, was '" + text + "'");
        }
        try {
            java.time.Instant at = now.plus(d);
            if (at.isAfter(LATEST)) {
                throw new ArithmeticException();
            }
            return at;
        } catch (ArithmeticException | java.time.DateTimeException e) {
            throw GantryException.invalid("'" + field + "' of '" + text + "' lands past the year 9999");
        }
    }

    private static final java.time.Instant LATEST = java.time.Instant.parse("9999-12-31T23:59:59Z");

    /** @throws GantryException INVALID_ARG naming the text that is not a duration */
    public static Duration parse(String s) {
        String t = s.trim().toLowerCase(Locale.ROOT);
        try {
            if (t.matches("\\d{1,12}[dhms]")) {
                long n = Long.parseLong(t.substring(0, t.length() - 1));
                return switch (t.charAt(t.length() - 1)) {
                    case 'd' -> Duration.ofDays(n);
                    case 'h' -> Duration.ofHours(n);
                    case 'm' -> Duration.ofMinutes(n);
                    default -> Duration.ofSeconds(n);
                };
            }
            return Duration.parse(s.trim());
        } catch (RuntimeException e) {
            throw GantryException.invalid("duration must look like 90d, 12h, 30m, 45s or PT2H, was '" + s + "'");
        }
    }
}
