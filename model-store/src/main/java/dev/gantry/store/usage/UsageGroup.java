package dev.gantry.store.usage;

import java.util.Optional;
import java.util.OptionalLong;

/**
 * One line of a usage query's answer: the values of the dimensions it was grouped by (empty for the others)
 * and the counts added up over that group. {@code epochMinute} is the group's minute, or for DAY the first
 * minute of its UTC day.
 */
public record UsageGroup(Optional<String> keyId, Optional<String> model, OptionalLong version,
                         OptionalLong epochMinute, UsageCounts counts) {
}
