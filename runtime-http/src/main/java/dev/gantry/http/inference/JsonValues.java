package dev.gantry.http.inference;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.gantry.core.error.GantryException;

import java.io.IOException;

/** Small readers for the scalar values of an OIP request, each failing with a message that names the field. */
final class JsonValues {
    private static final int QUOTE_LIMIT = 40;

    private JsonValues() {
    }

    /** What the parser's current token is, for an error message: {@code string "abc"}, {@code an object}. */
    static String describe(JsonParser p) throws IOException {
        JsonToken t = p.currentToken();
        if (t == null) {
            return "end of input";
        }
        return switch (t) {
            case START_OBJECT -> "an object";
            case START_ARRAY -> "an array";
            case VALUE_STRING -> "string \"" + abbreviate(p.getText()) + "\"";
            case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> "number " + abbreviate(p.getText());
            case VALUE_TRUE, VALUE_FALSE -> "boolean " + p.getText();
            case VALUE_NULL -> "null";
            default -> t.toString();
        };
    }

    static String abbreviate(String s) {
        return s.length() <= QUOTE_LIMIT ? s : s.substring(0, QUOTE_LIMIT) + "...";
    }

    static String string(JsonParser p, String field) throws IOException {
        if (p.currentToken() != JsonToken.VALUE_STRING) {
            throw GantryException.invalid(field + " must be a string, got " + describe(p));
        }
        return p.getText();
    }

    static boolean bool(JsonParser p, String field) throws IOException {
        JsonToken t = p.currentToken();
        if (t != JsonToken.VALUE_TRUE && t != JsonToken.VALUE_FALSE) {
            throw GantryException.invalid(field + " must be true or false, got " + describe(p));
        }
        return t == JsonToken.VALUE_TRUE;
    }

    static long nonNegativeLong(JsonParser p, String field) throws IOException {
        if (p.currentToken() != JsonToken.VALUE_NUMBER_INT
                || p.getNumberType() == JsonParser.NumberType.BIG_INTEGER
                || p.getLongValue() < 0) {
            throw GantryException.invalid(field + " must be a non-negative integer, got " + describe(p));
        }
        return p.getLongValue();
    }

    /** A parameter value: a string, a number (Long, BigInteger or Double) or a boolean. */
    static Object scalar(JsonParser p, String field) throws IOException {
        JsonToken t = p.currentToken();
        return switch (t) {
            case VALUE_STRING -> p.getText();
            case VALUE_NUMBER_INT -> p.getNumberType() == JsonParser.NumberType.BIG_INTEGER
                    ? p.getBigIntegerValue() : p.getLongValue();
            case VALUE_NUMBER_FLOAT -> p.getDoubleValue();
            case VALUE_TRUE -> Boolean.TRUE;
            case VALUE_FALSE -> Boolean.FALSE;
            default -> throw GantryException.invalid(field + " must be a string, number or boolean, got "
                    + describe(p));
        };
    }

    static void expect(JsonParser p, JsonToken expected, String field, String what) throws IOException {
        if (p.currentToken() != expected) {
            throw GantryException.invalid(field + " must be " + what + ", got " + describe(p));
        }
    }
}
