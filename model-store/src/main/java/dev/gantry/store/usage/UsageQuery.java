package dev.gantry.store.usage;

import java.util.EnumSet;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Which usage to add up: minutes in [{@code fromMinute}, {@code toMinute}), optionally one key and one model,
 * grouped by the given dimensions (none: one total).
 */
public record UsageQuery(long fromMinute, long toMinute, Optional<String> keyId, Optional<String> model,
                         Set<GroupBy> groupBy) {
    /** A dimension usage can be grouped by. */
    public enum GroupBy { KEY, MODEL, VERSION, MINUTE, DAY }

    public UsageQuery {
        Objects.requireNonNull(keyId, "keyId");
        Objects.requireNonNull(model, "model");
        groupBy = groupBy.isEmpty() ? EnumSet.noneOf(GroupBy.class) : EnumSet.copyOf(groupBy);
        if (toMinute < fromMinute) {
            throw new IllegalArgumentException("usage query ends (minute " + toMinute + ") before it starts (minute "
                    + fromMinute + ")");
        }
    }
}
