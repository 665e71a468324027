package dev.gantry.store.repository;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import java.math.BigInteger;

/**
 * Reads the protobuf text format that Triton's config.pbtxt uses into the tree shape of the JSON form.
 *
 * <p>A field that occurs more than once, or is written as a {@code [ ... ]} list, becomes an array; a field
 * written once stays a single value, and {@link ConfigMapper} treats that as a one-element list where the
 * Triton field is repeated. Enum identifiers and {@code true}/{@code false} become strings, integers become
 * numbers, and {@code <...>} is accepted as a synonym of {@code {...}}.
 */
final class PbtxtParser {
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private final String source;
    private final PbtxtTokenizer tokens;

    private PbtxtParser(String source, String text) {
        this.source = source;
        this.tokens = new PbtxtTokenizer(source, text);
    }

    static ObjectNode parse(String source, String text) throws ModelConfigException {
        return new PbtxtParser(source, text).message(null);
    }

    private ObjectNode message(String closing) throws ModelConfigException {
        ObjectNode fields = NODES.objectNode();
        while (true) {
            PbtxtTokenizer.Token token = tokens.peek();
            if (token.kind() == PbtxtTokenizer.Kind.END) {
                if (closing != null) {
                    throw error(token, "expected '" + closing + "' before the end of the file");
                }
                return fields;
            }
            if (closing != null && token.is(closing)) {
                tokens.next();
                return fields;
            }
            field(fields);
            PbtxtTokenizer.Token separator = tokens.peek();
            if (separator.is(",") || separator.is(";")) {
                tokens.next();
            }
        }
    }

    private void field(ObjectNode fields) throws ModelConfigException {
        PbtxtTokenizer.Token name = tokens.next();
        if (name.kind() != PbtxtTokenizer.Kind.IDENTIFIER) {
            throw error(name, "expected a field name, found " + name.describe());
        }
        boolean colon = tokens.peek().is(":");
        if (colon) {
            tokens.next();
        }
        PbtxtTokenizer.Token next = tokens.peek();
        if (!colon && !next.is("{") && !next.is("<") && !next.is("[")) {
            throw error(next, "expected ':' or '{' after field '" + name.text() + "', found " + next.describe());
        }
        add(fields, name.text(), value());
    }

    private JsonNode value() throws ModelConfigException {
        PbtxtTokenizer.Token token = tokens.next();
        if (token.is("{")) {
            return message("}");
        }
        if (token.is("<")) {
            return message(">");
        }
        if (token.is("[")) {
            return list(token);
        }
        return scalar(token);
    }

    private ArrayNode list(PbtxtTokenizer.Token open) throws ModelConfigException {
        ArrayNode values = NODES.arrayNode();
        if (tokens.peek().is("]")) {
            tokens.next();
            return values;
        }
        while (true) {
            values.add(value());
            PbtxtTokenizer.Token token = tokens.next();
            if (token.is("]")) {
                return values;
            }
            if (!token.is(",")) {
                throw error(token, "expected ',' or ']' in the list opened at line " + open.line()
                        + ", found " + token.describe());
            }
        }
    }

    private JsonNode scalar(PbtxtTokenizer.Token token) throws ModelConfigException {
        switch (token.kind()) {
            case STRING -> {
                StringBuilder text = new StringBuilder(token.text());
                while (tokens.peek().kind() == PbtxtTokenizer.Kind.STRING) {
                    text.append(tokens.next().text());
                }
                return NODES.textNode(text.toString());
            }
            case NUMBER -> {
                return number(token, token.text());
            }
            case IDENTIFIER -> {
                return NODES.textNode(token.text());
            }
            default -> {
                if (token.is("-")) {
                    PbtxtTokenizer.Token operand = tokens.next();
                    if (operand.kind() == PbtxtTokenizer.Kind.NUMBER) {
                        return number(operand, "-" + operand.text());
                    }
                    if (operand.kind() == PbtxtTokenizer.Kind.IDENTIFIER) {
                        return NODES.textNode("-" + operand.text());
                    }
                    throw error(operand, "expected a number after '-', found " + operand.describe());
                }
                throw error(token, "expected a value, found " + token.describe());
            }
        }
    }

    private JsonNode number(PbtxtTokenizer.Token token, String text) throws ModelConfigException {
        boolean negative = text.startsWith("-");
        String magnitude = negative ? text.substring(1) : text;
        try {
            if (magnitude.startsWith("0x") || magnitude.startsWith("0X")) {
                BigInteger value = new BigInteger(magnitude.substring(2), 16);
                return integral(negative ? value.negate() : value);
            }
            if (magnitude.matches("[0-9]+")) {
                return integral(new BigInteger(text));
            }
            boolean floatSuffix = text.endsWith("f") || text.endsWith("F");
            return NODES.numberNode(new BigDecimal(floatSuffix ? text.substring(0, text.length() - 1) : text)
                    .doubleValue());
        } catch (NumberFormatException e) {
            throw error(token, "malformed number " + text);
        }
    }

    private static JsonNode integral(BigInteger value) {
        if (value.bitLength() < Integer.SIZE) {
            return NODES.numberNode(value.intValue());
        }
        if (value.bitLength() < Long.SIZE) {
            return NODES.numberNode(value.longValue());
        }
        return NODES.numberNode(value);
    }

    private static void add(ObjectNode fields, String name, JsonNode value) {
        JsonNode existing = fields.get(name);
        if (existing == null) {
            fields.set(name, value);
            return;
        }
        ArrayNode values;
        if (existing.isArray()) {
            values = (ArrayNode) existing;
        } else {
            values = NODES.arrayNode().add(existing);
            fields.set(name, values);
        }
        if (value.isArray()) {
            values.addAll((ArrayNode) value);
        } else {
            values.add(value);
        }
    }

    private ModelConfigException error(PbtxtTokenizer.Token at, String message) {
        return new ModelConfigException(
                source + ": line " + at.line() + ", column " + at.column() + ": " + message);
    }
}
