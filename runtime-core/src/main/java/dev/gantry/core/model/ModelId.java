package dev.gantry.core.model;

import java.util.Objects;

/** A model version: the model's name and its positive integer version. */
public record ModelId(String name, long version) implements Comparable<ModelId> {
    public ModelId {
        Objects.requireNonNull(name, "name");
        if (version <= 0) {
            throw new IllegalArgumentException("model version must be a positive integer, was " + version);
        }
    }

    @Override
    public int compareTo(ModelId o) {
        int c = name.compareTo(o.name);
        return c != 0 ? c : Long.compare(version, o.version);
    }

    @Override
    public String toString() {
        return name + "/" + version;
    }
}
