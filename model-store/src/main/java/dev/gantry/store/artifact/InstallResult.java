package dev.gantry.store.artifact;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What {@link ArtifactStore#install} did.
 *
 * @param outcome    {@link Outcome#CREATED} or {@link Outcome#IDENTICAL}
 * @param sha256     the upload's digest, lowercase hex
 * @param sizeBytes  the upload's size as received
 * @param files      the files in the version directory, relative with '/' separators, sorted; the hidden digest
 *                   sidecar is not listed
 * @param cardJson   the bundle's {@code card.json}, if it has one
 * @param configJson the bundle's {@code config.json}, if it has one; it is kept in the version directory, where
 *                   the scanner ignores it: whether it becomes the model's configuration is the caller's decision
 */
public record InstallResult(Outcome outcome, String sha256, long sizeBytes, List<String> files,
                            Optional<String> cardJson, Optional<String> configJson) {

    /** Whether the version was written by this install or was already there with the same bytes. */
    public enum Outcome {
        CREATED,
        IDENTICAL
    }

    public InstallResult {
        Objects.requireNonNull(outcome, "outcome");
        Objects.requireNonNull(sha256, "sha256");
        files = List.copyOf(files);
        Objects.requireNonNull(cardJson, "cardJson");
        Objects.requireNonNull(configJson, "configJson");
    }
}
