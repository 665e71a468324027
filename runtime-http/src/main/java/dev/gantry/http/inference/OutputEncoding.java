package dev.gantry.http.inference;

import java.util.Map;

/**
 * Which outputs a caller asked to receive as raw bytes (the OIP binary tensor data extension).
 *
 * @param binaryByDefault the request's {@code parameters.binary_data_output}
 * @param perOutput each requested output's {@code parameters.binary_data}, overriding the default
 */
public record OutputEncoding(boolean binaryByDefault, Map<String, Boolean> perOutput) {
    private static final OutputEncoding JSON = new OutputEncoding(false, Map.of());

    public OutputEncoding {
        perOutput = Map.copyOf(perOutput);
    }

    /** Every output as JSON. */
    public static OutputEncoding json() {
        return JSON;
    }

    public boolean isBinary(String outputName) {
        return perOutput.getOrDefault(outputName, binaryByDefault);
    }
}
