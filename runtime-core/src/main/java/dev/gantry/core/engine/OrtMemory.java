package dev.gantry.core.engine;

import java.util.Arrays;
import java.util.Locale;

/** How ONNX Runtime holds the memory of a model's intermediate and output tensors between runs. */
public enum OrtMemory {
    /**
     * ORT's own default: a CPU arena per session that grows to the largest run's peak and keeps it for the
     * session's life.
     */
    ARENA("arena"),
    /**
     * The arena, and after a run the chunks it no longer uses go back to the C heap (run option {@code
     * memory.enable_memory_arena_shrinkage}): after every run that starts at least 200 ms after the last shrink.
     */
    ARENA_SHRINK("arena-shrink"),
    /** No arena: every tensor is allocated from the C heap and freed when its run is done. */
    NO_ARENA("no-arena");

    private final String label;

    OrtMemory(String label) {
        this.label = label;
    }

    /** The name used by {@code --ort-memory}, e.g. {@code no-arena}. */
    public String label() {
        return label;
    }

    /** The mode named {@code label}; {@link IllegalArgumentException} naming the choices otherwise. */
    public static OrtMemory of(String label) {
        String l = label.trim().toLowerCase(Locale.ROOT);
        for (OrtMemory m : values()) {
            if (m.label.equals(l)) {
                return m;
            }
        }
        throw new IllegalArgumentException("'" + label + "' is not an ORT memory mode; use one of "
                + String.join(", ", Arrays.stream(values()).map(OrtMemory::label).toList()));
    }

    @Override
    public String toString() {
        return label;
    }
}
