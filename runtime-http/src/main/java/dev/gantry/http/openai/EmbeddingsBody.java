package dev.gantry.http.openai;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.gantry.core.error.GantryException;
import dev.gantry.core.text.EmbeddingInput;
import dev.gantry.core.text.EmbeddingRequest;
import dev.gantry.http.params.PathParams;
import dev.gantry.http.json.Json;
import io.vertx.core.buffer.Buffer;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Set;

/** Reads the JSON body of {@code POST /v1/embeddings} into an {@link EmbeddingRequest}. */
final class EmbeddingsBody {
    /*
     * OpenAI's fields: model, input (a string, a list of strings, a list of token ids, or a list of such
     * lists), encoding_format (float or base64), dimensions, user (ignored). Gantry's one addition is
     * truncate (default true): false refuses text longer than the model's max_tokens instead of cutting it.
     * Other fields are refused, naming them, so a typo is not silently ignored.
     */
    static final int MAX_INPUTS = 2048;
    private static final Set<String> FIELDS = Set.of("model", "input", "encoding_format", "dimensions", "user",
            "truncate");

    /** A parsed request and how its vectors are to be written. */
    record Parsed(EmbeddingRequest request, String modelField, boolean base64) {
    }

    private EmbeddingsBody() {
    }

    static Parsed parse(Buffer body, Optional<String> routingKey) {
        JsonNode root;
        try {
            root = Json.MAPPER.readTree(body.getBytes());
        } catch (JsonProcessingException e) {
            throw GantryException.invalid("the request body is not valid JSON: " + e.getOriginalMessage());
        } catch (java.io.IOException e) {
            throw GantryException.invalid("the request body cannot be read: " + e.getMessage());
        }
        if (root == null || !root.isObject()) {
            throw GantryException.invalid("the request body must be a JSON object with 'model' and 'input'");
        }
        for (Map.Entry<String, JsonNode> field : root.properties()) {
            if (!FIELDS.contains(field.getKey())) {
                throw GantryException.invalid("unknown field '" + field.getKey() + "'; /v1/embeddings takes "
                        + FIELDS.stream().sorted().toList());
            }
        }
        JsonNode model = root.get("model");
        if (model == null || !model.isTextual() || model.textValue().isBlank()) {
            throw GantryException.invalid("model must be a non-empty string naming a model (or 'name:version'), was "
                    + (model == null ? "missing" : model.toString()));
        }
        String name = model.textValue();
        OptionalLong version = OptionalLong.empty();
        int colon = name.lastIndexOf(':');
        if (colon >= 0) {
            try {
                version = PathParams.version(name.substring(colon + 1));
            } catch (GantryException e) {
                throw GantryException.invalid("model '" + name + "': the part after ':' must be a version, a positive"
                        + " integer");
            }
            name = name.substring(0, colon);
        }
        boolean base64 = switch (text(root, "encoding_format", "float")) {
            case "float" -> false;
            case "base64" -> true;
            default -> throw GantryException.invalid("encoding_format must be 'float' or 'base64', was "
                    + root.get("encoding_format"));
        };
        OptionalInt dimensions = OptionalInt.empty();
        JsonNode dims = root.get("dimensions");
        if (dims != null && !dims.isNull()) {
            if (!dims.isIntegralNumber() || !dims.canConvertToInt() || dims.intValue() < 1) {
                throw GantryException.invalid("dimensions must be a positive integer, was " + dims);
            }
            dimensions = OptionalInt.of(dims.intValue());
        }
        JsonNode truncate = root.get("truncate");
        if (truncate != null && !truncate.isBoolean()) {
            throw GantryException.invalid("truncate must be true or false, was " + truncate);
        }
        JsonNode user = root.get("user");
        if (user != null && !user.isTextual() && !user.isNull()) {
            throw GantryException.invalid("user must be a string, was " + user);
        }
        List<EmbeddingInput> inputs = inputs(root.get("input"));
        return new Parsed(new EmbeddingRequest(name, version, inputs, truncate == null || truncate.booleanValue(),
                dimensions, routingKey), model.textValue(), base64);
    }

    private static String text(JsonNode root, String field, String absent) {
        JsonNode node = root.get(field);
        if (node == null || node.isNull()) {
            return absent;
        }
        if (!node.isTextual()) {
            throw GantryException.invalid(field + " must be a string, was " + node);
        }
        return node.textValue();
    }

    private static List<EmbeddingInput> inputs(JsonNode input) {
        if (input == null || input.isNull()) {
            throw GantryException.invalid("input is missing: send a string, a list of strings, a list of token ids"
                    + " or a list of token-id lists");
        }
        if (input.isTextual()) {
            return List.of(new EmbeddingInput.Text(input.textValue()));
        }
        if (!input.isArray()) {
            throw GantryException.invalid("input must be a string, a list of strings, a list of token ids or a list"
                    + " of token-id lists, was " + kind(input));
        }
        if (input.isEmpty()) {
            throw GantryException.invalid("input must not be an empty list");
        }
        if (input.size() > MAX_INPUTS) {
            throw GantryException.invalid("input holds " + input.size() + " items, more than the limit of "
                    + MAX_INPUTS);
        }
        JsonNode first = input.get(0);
        if (first.isIntegralNumber()) {
            return List.of(new EmbeddingInput.TokenIds(ids(input, "input")));
        }
        List<EmbeddingInput> out = new ArrayList<>(input.size());
        for (int i = 0; i < input.size(); i++) {
            JsonNode item = input.get(i);
            String where = "input[" + i + "]";
            if (first.isTextual() && item.isTextual()) {
                out.add(new EmbeddingInput.Text(item.textValue()));
            } else if (first.isArray() && item.isArray()) {
                out.add(new EmbeddingInput.TokenIds(ids(item, where)));
            } else {
                throw GantryException.invalid(where + " is " + kind(item) + "; every item of input must be "
                        + (first.isTextual() ? "a string" : first.isArray() ? "a list of token ids"
                        : "a string, a token id or a list of token ids") + " like input[0]");
            }
        }
        return out;
    }

    private static long[] ids(JsonNode list, String where) {
        if (list.isEmpty()) {
            throw GantryException.invalid(where + " is an empty list of token ids");
        }
        long[] ids = new long[list.size()];
        for (int i = 0; i < ids.length; i++) {
            JsonNode id = list.get(i);
            if (!id.isIntegralNumber() || !id.canConvertToLong() || id.longValue() < 0) {
                throw GantryException.invalid(where + "[" + i + "] must be a token id (an integer >= 0), was "
                        + id);
            }
            ids[i] = id.longValue();
        }
        return ids;
    }

    private static String kind(JsonNode node) {
        return switch (node.getNodeType()) {
            case STRING -> "a string";
            case NUMBER -> "a number " + node;
            case BOOLEAN -> "a boolean";
            case OBJECT -> "an object";
            case ARRAY -> "a list";
            case NULL -> "null";
            default -> node.getNodeType().name().toLowerCase(java.util.Locale.ROOT);
        };
    }
}
