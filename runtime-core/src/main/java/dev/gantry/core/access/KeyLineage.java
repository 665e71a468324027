package dev.gantry.core.access;

import java.util.List;

/**
 * Who made which key: the keys that created a key, nearest first (a key created by "ops", which "root" created, has
 * ["ops", "root"]). Separation of duties uses it, so a key made by an uploader acts for the uploader. Key names are
 * never reused, so a name identifies one key for good.
 */
@FunctionalInterface
public interface KeyLineage {
    /** No key records its creator: each key acts only for itself. */
    KeyLineage NONE = name -> List.of();

    /** The names of the keys that created {@code keyName}, directly or through a chain, nearest first. */
    List<String> creatorsOf(String keyName);

    /** Whether {@code a} and {@code b} act for the same party: the same key, or one made (through a chain) by the other. */
    default boolean related(String a, String b) {
        return a.equals(b) || creatorsOf(a).contains(b) || creatorsOf(b).contains(a);
    }
}
