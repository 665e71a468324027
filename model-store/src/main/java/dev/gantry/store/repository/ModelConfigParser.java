package dev.gantry.store.repository;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;

/** Reads a model's configuration from Triton's config.json or config.pbtxt. */
public final class ModelConfigParser {
    public static final String JSON_FILE = "config.json";
    public static final String PBTXT_FILE = "config.pbtxt";

    private static final JsonMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();

    private ModelConfigParser() {
    }

    /** Parses the JSON form of a Triton model configuration for the model in directory {@code modelName}. */
    public static ModelConfig parseJson(String text, String modelName) throws ModelConfigException {
        JsonNode root;
        try {
            root = JSON.readTree(text);
        } catch (JsonProcessingException e) {
            JsonLocation at = e.getLocation();
            String where = at == null ? "" : "line " + at.getLineNr() + ", column " + at.getColumnNr() + ": ";
            throw new ModelConfigException(JSON_FILE + ": " + where + e.getOriginalMessage(), e);
        }
        if (root == null || root.isMissingNode()) {
            throw new ModelConfigException(JSON_FILE + ": the file is empty");
        }
        return ConfigMapper.map(root, JSON_FILE, modelName);
    }

    /** Parses a Triton config.pbtxt (protobuf text format) for the model in directory {@code modelName}. */
    public static ModelConfig parsePbtxt(String text, String modelName) throws ModelConfigException {
        return ConfigMapper.map(PbtxtParser.parse(PBTXT_FILE, text), PBTXT_FILE, modelName);
    }
}
