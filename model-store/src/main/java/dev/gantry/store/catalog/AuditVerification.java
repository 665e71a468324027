package dev.gantry.store.catalog;

import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * What walking the audit chain found: every entry intact, or the first one that is not and why.
 *
 * @param checked how many entries were checked (up to and including the broken one)
 */
public record AuditVerification(long checked, OptionalLong firstBroken, Optional<String> problem) {
    public AuditVerification {
        Objects.requireNonNull(firstBroken, "firstBroken");
        Objects.requireNonNull(problem, "problem");
        if (firstBroken.isPresent() != problem.isPresent()) {
            throw new IllegalArgumentException("firstBroken and problem must both be present or both empty");
        }
    }

    public static AuditVerification intact(long checked) {
        return new AuditVerification(checked, OptionalLong.empty(), Optional.empty());
    }

    public static AuditVerification broken(long checked, long seq, String why) {
        return new AuditVerification(checked, OptionalLong.of(seq), Optional.of(why));
    }

    public boolean ok() {
        return firstBroken.isEmpty();
    }
}
