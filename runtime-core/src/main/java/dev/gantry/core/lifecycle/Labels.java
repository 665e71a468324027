package dev.gantry.core.lifecycle;

import dev.gantry.core.error.ErrorCode;
import dev.gantry.core.error.GantryException;
import dev.gantry.core.model.ModelSignature;
import dev.gantry.store.repository.ModelConfig;
import dev.gantry.store.repository.OutputConfig;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Reads the class labels named by the {@code label_filename} of a configuration's outputs. */
final class Labels {
    /** A label file larger than this is refused: labels are names, not data. */
    static final long MAX_LABEL_FILE_BYTES = 16L << 20;

    private Labels() {
    }

    /**
     * Per output name, its labels (one per line of the file, in the model directory).
     *
     * @throws GantryException INVALID_ARG naming the output and file when a file is missing, unreadable, outside
     *     the model directory, or names an output the model does not have
     */
    static Map<String, List<String>> read(Path modelDirectory, ModelConfig config, ModelSignature signature) {
        Map<String, List<String>> labels = new HashMap<>();
        for (OutputConfig output : config.outputs()) {
            if (output.labelFilename().isEmpty()) {
                continue;
            }
            String file = output.labelFilename().get();
            if (signature.output(output.name()).isEmpty()) {
                throw GantryException.invalid("output '" + output.name() + "' has label_filename '" + file
                        + "' but the model has no output of that name");
            }
            Path dir = modelDirectory.toAbsolutePath().normalize();
            Path path = dir.resolve(file).normalize();
            if (!path.startsWith(dir)) {
                throw GantryException.invalid("label_filename '" + file + "' of output '" + output.name()
                        + "' is outside the model directory");
            }
            try {
                if (Files.size(path) > MAX_LABEL_FILE_BYTES) {
                    throw GantryException.invalid("label_filename '" + file + "' of output '" + output.name()
                            + "' is larger than " + MAX_LABEL_FILE_BYTES + " bytes");
                }
                labels.put(output.name(), Files.readAllLines(path, StandardCharsets.UTF_8));
            } catch (IOException e) {
                throw new GantryException(ErrorCode.INVALID_ARG, "label_filename '" + file + "' of output '"
                        + output.name() + "' cannot be read: " + e);
            }
        }
        return labels;
    }
}
