package dev.gantry.core.access;

import java.util.Locale;
import java.util.Optional;

/** What a key may do. {@code admin} may do everything; the others are separate duties. */
public enum Role {
    /** Inference and model metadata, optionally only for the key's listed models. */
    INVOKE,
    /** Upload, load and unload versions, change traffic, roll back. */
    DEPLOY,
    /** Approval decisions. */
    APPROVE,
    /** Keys, and everything the other roles may do. */
    ADMIN;

    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Optional<Role> fromWire(String s) {
        try {
            return Optional.of(valueOf(s.trim().toUpperCase(Locale.ROOT)));
        } catch (IllegalArgumentException | NullPointerException e) {
            return Optional.empty();
        }
    }
}
