package dev.gantry.store.repository;

import java.util.Objects;
import java.util.Optional;

/**
 * One entry of Triton's {@code output} list, as far as Gantry uses it.
 *
 * @param name          the output's name in the model
 * @param labelFilename {@code label_filename}: a text file in the model directory with one class label per line,
 *                      used by the classification extension; empty when the config names none
 */
public record OutputConfig(String name, Optional<String> labelFilename) {
    public OutputConfig {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("name must not be empty, was '" + name + "'");
        }
        Objects.requireNonNull(labelFilename, "labelFilename");
        labelFilename.ifPresent(f -> {
            if (f.isBlank() || f.contains("..") || f.startsWith("/") || f.indexOf('\\') >= 0) {
                throw new IllegalArgumentException("label_filename must be a file in the model directory, was '"
                        + f + "'");
            }
        });
    }
}
