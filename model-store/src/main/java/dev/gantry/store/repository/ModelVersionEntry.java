package dev.gantry.store.repository;

import java.nio.file.Path;

/**
 * One version directory of a model.
 *
 * @param version   the directory's name, a positive integer
 * @param directory the version directory
 * @param modelFile {@code directory} resolved against the configuration's {@code default_model_filename}
 */
public record ModelVersionEntry(long version, Path directory, Path modelFile) {
}
