package dev.gantry.store.repository;

import java.util.Collection;
import java.util.Comparator;
import java.util.List;

/** Triton's {@code version_policy}: which of the versions on disk to serve. */
public sealed interface VersionPolicy {

    /** Which of the available versions (in any order) to load, sorted ascending. */
    List<Long> select(Collection<Long> available);

    /** The newest {@code numVersions} versions; Triton's default is the newest one. */
    record Latest(int numVersions) implements VersionPolicy {
        public Latest {
            Checks.atLeast("num_versions", numVersions, 1);
        }

        @Override
        public List<Long> select(Collection<Long> available) {
            return available.stream().distinct().sorted(Comparator.reverseOrder()).limit(numVersions).sorted().toList();
        }
    }

    /** Every version on disk. */
    record All() implements VersionPolicy {
        @Override
        public List<Long> select(Collection<Long> available) {
            return available.stream().distinct().sorted().toList();
        }
    }

    /** The listed versions that are on disk. */
    record Specific(List<Long> versions) implements VersionPolicy {
        public Specific {
            if (versions.isEmpty()) {
                throw new IllegalArgumentException("versions must not be empty, was []");
            }
            for (Long version : versions) {
                Checks.atLeast("versions", version, 1);
            }
            versions = versions.stream().distinct().sorted().toList();
        }

        @Override
        public List<Long> select(Collection<Long> available) {
            return available.stream().distinct().filter(versions::contains).sorted().toList();
        }
    }

    static VersionPolicy defaults() {
        return new Latest(1);
    }
}
