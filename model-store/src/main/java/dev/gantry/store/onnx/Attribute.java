package dev.gantry.store.onnx;

import java.util.Objects;

/** A node attribute ({@code AttributeProto}) holding one float, int, string or int list. */
public final class Attribute {

    /** {@code AttributeProto.AttributeType}, with the numbers from onnx.proto. */
    enum Kind {
        FLOAT(1),
        INT(2),
        STRING(3),
        INTS(7);

        final int code;

        Kind(int code) {
            this.code = code;
        }
    }

    private final String name;
    private final Kind kind;
    private final float floatValue;
    private final long[] ints;
    private final String string;

    private Attribute(String name, Kind kind, float floatValue, long[] ints, String string) {
        this.name = Objects.requireNonNull(name, "name");
        this.kind = kind;
        this.floatValue = floatValue;
        this.ints = ints;
        this.string = string;
    }

    public static Attribute ofFloat(String name, float value) {
        return new Attribute(name, Kind.FLOAT, value, null, null);
    }

    public static Attribute ofInt(String name, long value) {
        return new Attribute(name, Kind.INT, 0, new long[] {value}, null);
    }

    public static Attribute ofInts(String name, long... values) {
        return new Attribute(name, Kind.INTS, 0, values.clone(), null);
    }

    public static Attribute ofString(String name, String value) {
        return new Attribute(name, Kind.STRING, 0, null, Objects.requireNonNull(value, "value"));
    }

    public String name() {
        return name;
    }

    Kind kind() {
        return kind;
    }

    float floatValue() {
        return floatValue;
    }

    long[] ints() {
        return ints.clone();
    }

    String string() {
        return string;
    }
}
