package dev.gantry.store.usage;

import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * Where per-minute usage aggregates are kept. Adding is additive: a row for a minute that already has one adds
 * to it, so flushing the same minute twice (before and after a restart) counts both.
 */
public interface UsageStore {
    /** Adds every row to the stored aggregates, all or none. */
    void add(Collection<UsageRow> rows);

    /** The added-up usage that matches {@code query}, ordered by its group values. */
    List<UsageGroup> query(UsageQuery query);

    /** Per key, everything used from minute {@code fromMinute} on: what quotas start from after a restart. */
    Map<String, UsageCounts> totalsByKey(long fromMinute);
}
