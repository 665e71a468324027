package dev.gantry.store.artifact;

/** Called as an install passes each step; tests throw from it to simulate a crash there. */
@FunctionalInterface
interface Checkpoint {
    Checkpoint NONE = step -> { };

    /** After each extracted file: {@code "extracted <name>"}; before the atomic move: {@code "ready"}. */
    void reached(String step);
}
