package dev.gantry.store.repository;

/** Argument checks whose messages name the Triton field and the bad value. */
final class Checks {
    private Checks() {
    }

    static void atLeast(String field, long value, long min) {
        if (value < min) {
            throw new IllegalArgumentException(field + " must be >= " + min + ", was " + value);
        }
    }
}
