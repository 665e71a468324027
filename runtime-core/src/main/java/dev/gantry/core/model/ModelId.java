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

    /*
     * equals and hashCode written out: a ModelId keys several maps every request looks up. The record's own
     * methods are method-handle chains (ObjectMethods) that the JIT inlines in some runs and not in others (JFR:
     * 0.1% to 1.3% of the event loop's samples in them). Same values as the record's: 31 * name's hash + version's.
     */
    @Override
    public boolean equals(Object o) {
        return this == o || o instanceof ModelId m && version == m.version && name.equals(m.name);
    }

    @Override
    public int hashCode() {
        return 31 * name.hashCode() + Long.hashCode(version);
    }

    @Override
    public String toString() {
        return name + "/" + version;
    }
}
