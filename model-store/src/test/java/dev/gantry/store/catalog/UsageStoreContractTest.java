package dev.gantry.store.catalog;

import dev.gantry.store.usage.UsageCounts;
import dev.gantry.store.usage.UsageGroup;
import dev.gantry.store.usage.UsageQuery;
import dev.gantry.store.usage.UsageRow;
import dev.gantry.store.usage.UsageStore;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Clock;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Usage aggregates in the catalogue database: adding is additive, queries group and filter, data outlives a reopen. */
@ParameterizedClass(name = "{0}")
@EnumSource(CatalogBackend.class)
class UsageStoreContractTest {
    static final long DAY = 1440;
    static final UsageCounts ONE = new UsageCounts(1, 2, 30, 40, 5, 600, 0.25);

    @Parameter
    CatalogBackend backend;

    @TempDir
    Path dataDir;

    CatalogBackend.Database db;

    @BeforeEach
    void freshDatabase() {
        db = backend.fresh(dataDir);
    }

    @Test
    void addingTheSameMinuteTwice_addsUp_andSurvivesAReopen() {
        try (CatalogStore catalog = db.open(Clock.systemUTC())) {
            UsageStore store = JdbcUsageStore.in(catalog);
            store.add(List.of(new UsageRow(100, "k1", "m", 1, ONE)));
            store.add(List.of(new UsageRow(100, "k1", "m", 1, ONE)));
        }
        try (CatalogStore catalog = db.open(Clock.systemUTC())) {
            List<UsageGroup> all = JdbcUsageStore.in(catalog).query(new UsageQuery(0, 1000, Optional.empty(),
                    Optional.empty(), EnumSet.noneOf(UsageQuery.GroupBy.class)));
            assertEquals(List.of(new UsageGroup(Optional.empty(), Optional.empty(), OptionalLong.empty(),
                    OptionalLong.empty(), ONE.plus(ONE))), all);
        }
    }

    @Test
    void query_groupsByDayAndKey_withinTheRange() {
        try (CatalogStore catalog = db.open(Clock.systemUTC())) {
            UsageStore store = JdbcUsageStore.in(catalog);
            store.add(List.of(new UsageRow(DAY * 10 + 5, "k1", "m", 1, ONE),
                    new UsageRow(DAY * 10 + 900, "k1", "m", 2, ONE),
                    new UsageRow(DAY * 11 + 1, "k1", "m", 1, ONE),
                    new UsageRow(DAY * 11 + 2, "k2", "other", 1, ONE),
                    new UsageRow(DAY * 12, "k1", "m", 1, ONE)));
            List<UsageGroup> byDay = store.query(new UsageQuery(DAY * 10, DAY * 12, Optional.of("k1"),
                    Optional.of("m"), EnumSet.of(UsageQuery.GroupBy.KEY, UsageQuery.GroupBy.DAY)));
            assertEquals(List.of(
                    new UsageGroup(Optional.of("k1"), Optional.empty(), OptionalLong.empty(), OptionalLong.of(DAY * 10),
                            ONE.plus(ONE)),
                    new UsageGroup(Optional.of("k1"), Optional.empty(), OptionalLong.empty(), OptionalLong.of(DAY * 11),
                            ONE)), byDay);
            assertEquals(Map.of("k1", ONE.plus(ONE), "k2", ONE), store.totalsByKey(DAY * 11));
        }
    }
}
