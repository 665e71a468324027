package dev.gantry.core.rollout;

import java.time.Duration;
import java.util.Objects;

/**
 * One step of a rollout plan: the candidate takes {@code percent} of traffic as a shadow (copies, answers
 * discarded) or as a weight (real answers) for at least {@code duration}, and may pass only after
 * {@code minRequests} candidate requests.
 */
public record Step(Kind kind, int percent, Duration duration, long minRequests) {
    /** How the candidate takes traffic in a step. */
    public enum Kind { SHADOW, WEIGHT }

    /** @throws IllegalArgumentException naming the field of {@code steps[index]} that is out of range */
    public static Step of(int index, Kind kind, long percent, Duration duration, long minRequests) {
        String at = "steps[" + index + "].";
        Objects.requireNonNull(kind, at + "kind");
        Objects.requireNonNull(duration, at + "duration");
        if (kind == Kind.SHADOW && (percent < 1 || percent > 100)) {
            throw new IllegalArgumentException(at + "shadow_percent must be in 1..100, was " + percent);
        }
        if (kind == Kind.WEIGHT && (percent < 1 || percent > 100)) {
            throw new IllegalArgumentException(at + "weight must be in 1..100, was " + percent);
        }
        if (duration.isNegative() || duration.compareTo(Duration.ofDays(7)) > 0) {
            throw new IllegalArgumentException(at + "duration must be between 0 and 7 days, was " + duration);
        }
        if (minRequests < 0 || minRequests > 100_000_000) {
            throw new IllegalArgumentException(at + "min_requests must be in 0..100000000, was " + minRequests);
        }
        return new Step(kind, (int) percent, duration, minRequests);
    }

    /** A weight of 100: the promotion itself, not a step that is analysed. */
    public boolean isPromotion() {
        return kind == Kind.WEIGHT && percent == 100;
    }

    @Override
    public String toString() {
        return (kind == Kind.SHADOW ? "shadow " : "weight ") + percent + "% for " + duration.toMillis() + " ms, min "
                + minRequests + " requests";
    }
}
