package dev.gantry.http.inference;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.gantry.core.error.GantryException;
import dev.gantry.core.inference.Shapes;
import dev.gantry.core.inference.Tensor;
import dev.gantry.core.model.DataType;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Reads one input's JSON {@code data} array, flat or nested, straight into the tensor's little-endian bytes. */
final class JsonTensorReader {
    /*
     * The caller has already checked the element count against the limits and the size of the body. The buffer
     * still starts small and doubles as values arrive, up to the declared count: a declared FP64[16777216] with
     * one value in a padded body costs a few KiB, not 128 MiB. Nested data is accepted only when
     * it matches the shape exactly; the first child of the outer array decides between flat and nested.
     * Every element is checked against the declared type as it streams past; nothing is boxed.
     * Numbers from the request's own parser are converted from the token's characters by JsonNumbers when its
     * fast path applies (most values clients send), and by the parser otherwise; both give the same value.
     * Tokens replayed from a TokenBuffer (data sent before datatype and shape) always go through the parser.
     */
    private static final BigInteger UINT64_MAX = BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);

    private final JsonParser parser;
    private final String name;
    private final DataType type;
    private final long[] shape;
    private final int count;
    private final boolean fastNumbers;
    /** First allocation of a fixed-size tensor's buffer; it doubles from there as values arrive. */
    static final int INITIAL_BYTES = 4096;

    private ByteBuffer bytes;
    private final List<byte[]> strings;
    private int index;

    private JsonTensorReader(JsonParser parser, String name, DataType type, long[] shape, int count,
                             boolean fastNumbers) {
        this.parser = parser;
        this.fastNumbers = fastNumbers;
        this.name = name;
        this.type = type;
        this.shape = shape;
        this.count = count;
        if (type.isFixedSize()) {
            this.bytes = firstBuffer(count * type.byteSize());
            this.strings = null;
        } else {
            this.bytes = null;
            this.strings = new ArrayList<>(Math.min(count, INITIAL_BYTES / 8));
        }
    }

    /**
     * Reads the array at the parser's current token; {@code count} is the product of {@code shape}.
     * {@code fastNumbers} lets number tokens be converted from their characters: only for a parser of JSON text,
     * whose number tokens' characters are exactly what the request holds.
     */
    static Tensor read(JsonParser parser, String name, DataType type, long[] shape, int count, boolean fastNumbers)
            throws IOException {
        if (parser.currentToken() != JsonToken.START_ARRAY) {
            throw GantryException.invalid("input '" + name + "' data must be an array, got "
                    + JsonValues.describe(parser));
        }
        return new JsonTensorReader(parser, name, type, shape, count, fastNumbers).readArray();
    }

    private Tensor readArray() throws IOException {
        JsonToken first = parser.nextToken();
        if (first == JsonToken.START_ARRAY && shape.length > 1) {
            readNested(0, first);
        } else {
            readFlat(first);
        }
        if (bytes != null) {
            return Tensor.of(name, type, shape, bytes.flip());
        }
        return Tensor.ofStrings(name, shape, strings);
    }

    private void readFlat(JsonToken first) throws IOException {
        for (JsonToken t = first; t != JsonToken.END_ARRAY; t = parser.nextToken()) {
            if (index == count) {
                throw GantryException.invalid("input '" + name + "' data has more than " + count
                        + " elements; shape " + Shapes.describe(shape) + " needs exactly " + count);
            }
            if (t == JsonToken.START_ARRAY) {
                throw GantryException.invalid("input '" + name + "' data mixes nested arrays and values at element "
                        + index + "; send it flat or nested to match shape " + Shapes.describe(shape));
            }
            element(t);
        }
        if (index != count) {
            throw TensorAdmission.countMismatch(name, index, shape, count);
        }
    }

    /** Reads the array for dimension {@code level}, whose first child token is {@code first}. */
    private void readNested(int level, JsonToken first) throws IOException {
        long expected = shape[level];
        boolean innermost = level == shape.length - 1;
        long seen = 0;
        for (JsonToken t = first; t != JsonToken.END_ARRAY; t = parser.nextToken()) {
            if (++seen > expected) {
                throw nestingMismatch(level, "more than " + expected + " entries");
            }
            if (innermost) {
                if (t == JsonToken.START_ARRAY) {
                    throw nestingMismatch(level, "an array where a value belongs");
                }
                element(t);
            } else {
                if (t != JsonToken.START_ARRAY) {
                    throw nestingMismatch(level, JsonValues.describe(parser) + " where an array belongs");
                }
                readNested(level + 1, parser.nextToken());
            }
        }
        if (seen != expected) {
            throw nestingMismatch(level, seen + " entries");
        }
    }

    private GantryException nestingMismatch(int level, String found) {
        return GantryException.invalid("input '" + name + "' nested data does not match shape "
                + Shapes.describe(shape) + ": at depth " + level + " (dimension " + shape[level] + ") found "
                + found);
    }

    /** Room for one more element; only reached while fewer than {@code count} elements were read. */
    private void ensureRoom() {
        if (bytes != null && bytes.remaining() < type.byteSize()) {
            bytes = grown(bytes, count * type.byteSize());
        }
    }

    /** The first buffer of a tensor whose values take {@code fullBytes} once all have arrived. */
    static ByteBuffer firstBuffer(int fullBytes) {
        return ByteBuffer.allocate(Math.min(fullBytes, INITIAL_BYTES)).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** {@code bytes}' contents in a buffer twice its size, at most {@code fullBytes}, ready for more. */
    static ByteBuffer grown(ByteBuffer bytes, int fullBytes) {
        return ByteBuffer.allocate((int) Math.min(fullBytes, 2L * bytes.capacity())).order(ByteOrder.LITTLE_ENDIAN)
                .put(bytes.flip());
    }

    private void element(JsonToken t) throws IOException {
        ensureRoom();
        switch (type) {
            case BOOL -> {
                if (t != JsonToken.VALUE_TRUE && t != JsonToken.VALUE_FALSE) {
                    throw mismatch("true or false");
                }
                bytes.put((byte) (t == JsonToken.VALUE_TRUE ? 1 : 0));
            }
            case INT8 -> bytes.put((byte) integer(t, Byte.MIN_VALUE, Byte.MAX_VALUE));
            case UINT8 -> bytes.put((byte) integer(t, 0, 0xFF));
            case INT16 -> bytes.putShort((short) integer(t, Short.MIN_VALUE, Short.MAX_VALUE));
            case UINT16 -> bytes.putShort((short) integer(t, 0, 0xFFFF));
            case INT32 -> bytes.putInt((int) integer(t, Integer.MIN_VALUE, Integer.MAX_VALUE));
            case UINT32 -> bytes.putInt((int) integer(t, 0, 0xFFFF_FFFFL));
            case INT64 -> bytes.putLong(integer(t, Long.MIN_VALUE, Long.MAX_VALUE));
            case UINT64 -> bytes.putLong(uint64(t));
            case FP16 -> bytes.putShort(Float.floatToFloat16(fp32(t)));
            case FP32 -> bytes.putFloat(fp32(t));
            case FP64 -> bytes.putDouble(fp64(t));
            case BYTES -> {
                if (t != JsonToken.VALUE_STRING) {
                    throw mismatch("a string");
                }
                strings.add(parser.getText().getBytes(StandardCharsets.UTF_8));
            }
        }
        index++;
    }

    private long integer(JsonToken t, long min, long max) throws IOException {
        if (t != JsonToken.VALUE_NUMBER_INT) {
            throw mismatch("an integer");
        }
        long fast = fastLong();
        if (fast != JsonNumbers.NOT_FAST) {
            if (fast < min || fast > max) {
                throw outOfRange(parser.getText(), min, max);
            }
            return fast;
        }
        if (parser.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
            throw outOfRange(parser.getText(), min, max);
        }
        long v = parser.getLongValue();
        if (v < min || v > max) {
            throw outOfRange(parser.getText(), min, max);
        }
        return v;
    }

    private long uint64(JsonToken t) throws IOException {
        if (t != JsonToken.VALUE_NUMBER_INT) {
            throw mismatch("an integer");
        }
        long v = fastLong();
        if (v == JsonNumbers.NOT_FAST) {
            if (parser.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
                BigInteger big = parser.getBigIntegerValue();
                if (big.signum() < 0 || big.compareTo(UINT64_MAX) > 0) {
                    throw GantryException.invalid("input '" + name + "' element " + index + ": " + parser.getText()
                            + " is out of range for UINT64 (0.." + UINT64_MAX + ")");
                }
                return big.longValue();
            }
            v = parser.getLongValue();
        }
        if (v < 0) {
            throw GantryException.invalid("input '" + name + "' element " + index + ": " + v
                    + " is out of range for UINT64 (0.." + UINT64_MAX + ")");
        }
        return v;
    }

    /** The integer token's value from its characters, or NOT_FAST (then the parser converts it). */
    private long fastLong() throws IOException {
        if (!fastNumbers) {
            return JsonNumbers.NOT_FAST;
        }
        return JsonNumbers.toLong(parser.getTextCharacters(), parser.getTextOffset(), parser.getTextLength());
    }

    private float fp32(JsonToken t) throws IOException {
        if (t == JsonToken.VALUE_STRING) {
            return (float) special();
        }
        if (t != JsonToken.VALUE_NUMBER_INT && t != JsonToken.VALUE_NUMBER_FLOAT) {
            throw mismatch("a number or \"NaN\", \"Infinity\", \"-Infinity\"");
        }
        float v = floatValue(t);
        boolean overflows = type == DataType.FP16
                ? Float.isInfinite(Float.float16ToFloat(Float.floatToFloat16(v)))
                : Float.isInfinite(v);
        if (overflows) {
            throw GantryException.invalid("input '" + name + "' element " + index + ": " + parser.getText()
                    + " is out of range for " + type + " (largest magnitude "
                    + (type == DataType.FP16 ? "65504" : Float.toString(Float.MAX_VALUE)) + ")");
        }
        return v;
    }

    private double fp64(JsonToken t) throws IOException {
        if (t == JsonToken.VALUE_STRING) {
            return special();
        }
        if (t != JsonToken.VALUE_NUMBER_INT && t != JsonToken.VALUE_NUMBER_FLOAT) {
            throw mismatch("a number or \"NaN\", \"Infinity\", \"-Infinity\"");
        }
        double v = doubleValue(t);
        if (Double.isInfinite(v)) {
            throw GantryException.invalid("input '" + name + "' element " + index + ": " + parser.getText()
                    + " is out of range for FP64");
        }
        return v;
    }

    /** The number token as a float: as the parser would convert it, without its float parsing when possible. */
    private float floatValue(JsonToken t) throws IOException {
        if (fastNumbers) {
            char[] text = parser.getTextCharacters();
            int offset = parser.getTextOffset();
            int length = parser.getTextLength();
            if (t == JsonToken.VALUE_NUMBER_INT) {
                long v = JsonNumbers.toLong(text, offset, length);
                if (v != JsonNumbers.NOT_FAST) {
                    return (float) v;
                }
            } else {
                float v = JsonNumbers.toFloat(text, offset, length);
                if (v == v) {
                    return v;
                }
            }
        }
        return parser.getFloatValue();
    }

    /** The number token as a double: as the parser would convert it, without its float parsing when possible. */
    private double doubleValue(JsonToken t) throws IOException {
        if (fastNumbers) {
            char[] text = parser.getTextCharacters();
            int offset = parser.getTextOffset();
            int length = parser.getTextLength();
            if (t == JsonToken.VALUE_NUMBER_INT) {
                long v = JsonNumbers.toLong(text, offset, length);
                if (v != JsonNumbers.NOT_FAST) {
                    return (double) v;
                }
            } else {
                double v = JsonNumbers.toDouble(text, offset, length);
                if (v == v) {
                    return v;
                }
            }
        }
        return parser.getDoubleValue();
    }

    private double special() throws IOException {
        return switch (parser.getText()) {
            case "NaN" -> Double.NaN;
            case "Infinity" -> Double.POSITIVE_INFINITY;
            case "-Infinity" -> Double.NEGATIVE_INFINITY;
            default -> throw mismatch("a number or \"NaN\", \"Infinity\", \"-Infinity\"");
        };
    }

    private GantryException mismatch(String expected) throws IOException {
        return GantryException.invalid("input '" + name + "' element " + index + ": " + type + " expects "
                + expected + ", got " + JsonValues.describe(parser));
    }

    private GantryException outOfRange(String text, long min, long max) {
        return TensorAdmission.outOfRange(name, index, text, type, min, max);
    }
}
