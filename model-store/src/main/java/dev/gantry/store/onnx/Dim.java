package dev.gantry.store.onnx;

import java.util.Objects;

/** One dimension of a tensor shape: a fixed size ({@code dim_value}) or a named symbol ({@code dim_param}). */
public record Dim(long value, String param) {

    public Dim {
        if (param == null && value < 0) {
            throw new IllegalArgumentException("dim value must be >= 0, was " + value);
        }
        if (param != null && param.isEmpty()) {
            throw new IllegalArgumentException("dim param must not be empty");
        }
    }

    public static Dim of(long value) {
        return new Dim(value, null);
    }

    public static Dim param(String name) {
        return new Dim(0, Objects.requireNonNull(name, "name"));
    }

    public boolean isSymbolic() {
        return param != null;
    }
}
