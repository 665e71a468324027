package dev.gantry.store.catalog;

import dev.gantry.store.usage.UsageCounts;
import dev.gantry.store.usage.UsageGroup;
import dev.gantry.store.usage.UsageQuery;
import dev.gantry.store.usage.UsageRow;
import dev.gantry.store.usage.UsageStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/** Usage aggregates in the catalogue's database (table usage_minute, migration V3). Portable SQL only. */
public final class JdbcUsageStore implements UsageStore {
    /*
     * Writes take their own pooled connection and transaction rather than the catalogue's write lock: usage
     * rows are not part of the audit chain, and a flush must not wait behind (or hold up) a governance change.
     * In one process the caller serializes flushes; servers sharing the database (replicas flushing the same
     * key, model and minute on PostgreSQL) are serialized by the usage row of catalog_lock, so update-then-insert never races
     * and every count is added exactly once.
     */
    private static final String COUNTS = "SUM(requests), SUM(row_count), SUM(bytes_in), SUM(bytes_out), SUM(tokens), "
            + "SUM(compute_nanos), SUM(cost)";

    private static final Logger log = LoggerFactory.getLogger(JdbcUsageStore.class);

    private final JdbcCatalogStore catalog;

    private JdbcUsageStore(JdbcCatalogStore catalog) {
        this.catalog = catalog;
    }

    /**
     * Usage kept in {@code catalog}'s database.
     *
     * @throws IllegalArgumentException when {@code catalog} is not one of {@link CatalogStore}'s own stores
     */
    public static UsageStore in(CatalogStore catalog) {
        JdbcCatalogStore jdbc = JdbcCatalogStore.own(catalog);
        return new JdbcUsageStore(jdbc);
    }

    @Override
    public void add(Collection<UsageRow> rows) {
        if (rows.isEmpty()) {
            return;
        }
        catalog.read(c -> {
            SqlTransaction.run(c, tx -> {
                write(tx, rows);
                return null;
            });
            // Committed: the counts are added. A failure to force them to disk must not reach the caller as "not
            // written", or its retry would add them a second time.
            try {
                catalog.afterCommit(c);
            } catch (SQLException | RuntimeException e) {
                log.warn("usage flush committed but not forced to disk: {}", e.toString());
            }
            return null;
        });
    }

    private void write(Connection c, Collection<UsageRow> rows) throws SQLException {
        try (PreparedStatement update = c.prepareStatement("UPDATE usage_minute SET requests = requests + ?, "
                + "row_count = row_count + ?, bytes_in = bytes_in + ?, bytes_out = bytes_out + ?, "
                + "tokens = tokens + ?, compute_nanos = compute_nanos + ?, cost = cost + ? "
                + "WHERE epoch_minute = ? AND key_id = ? AND model = ? AND version = ?");
             PreparedStatement insert = c.prepareStatement("INSERT INTO usage_minute (requests, row_count, "
                     + "bytes_in, bytes_out, tokens, compute_nanos, cost, epoch_minute, key_id, model, version) "
                     + "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
            catalog.lockShared(c, JdbcCatalogStore.USAGE_LOCK_ROW);
            for (UsageRow r : rows) {
                bind(update, r);
                if (update.executeUpdate() == 0) {
                    bind(insert, r);
                    insert.executeUpdate();
                }
            }
        }
    }

    private static void bind(PreparedStatement p, UsageRow r) throws SQLException {
        UsageCounts n = r.counts();
        p.setLong(1, n.requests());
        p.setLong(2, n.rows());
        p.setLong(3, n.bytesIn());
        p.setLong(4, n.bytesOut());
        p.setLong(5, n.tokens());
        p.setLong(6, n.computeNanos());
        p.setDouble(7, n.cost());
        p.setLong(8, r.epochMinute());
        p.setString(9, r.keyId());
        p.setString(10, r.model());
        p.setLong(11, r.version());
    }

    @Override
    public List<UsageGroup> query(UsageQuery q) {
        List<String> dims = new ArrayList<>();
        for (UsageQuery.GroupBy g : q.groupBy()) {
            dims.add(switch (g) {
                case KEY -> "key_id";
                case MODEL -> "model";
                case VERSION -> "version";
                case MINUTE -> "epoch_minute";
                case DAY -> "(epoch_minute / 1440) * 1440";
            });
        }
        StringBuilder sql = new StringBuilder("SELECT ");
        for (String d : dims) {
            sql.append(d).append(", ");
        }
        sql.append(COUNTS).append(" FROM usage_minute WHERE epoch_minute >= ? AND epoch_minute < ?");
        q.keyId().ifPresent(k -> sql.append(" AND key_id = ?"));
        q.model().ifPresent(m -> sql.append(" AND model = ?"));
        if (!dims.isEmpty()) {
            String list = String.join(", ", dims);
            sql.append(" GROUP BY ").append(list).append(" ORDER BY ").append(list);
        }
        return catalog.read(c -> {
            try (PreparedStatement p = c.prepareStatement(sql.toString())) {
                int i = 1;
                p.setLong(i++, q.fromMinute());
                p.setLong(i++, q.toMinute());
                if (q.keyId().isPresent()) {
                    p.setString(i++, q.keyId().get());
                }
                if (q.model().isPresent()) {
                    p.setString(i, q.model().get());
                }
                List<UsageGroup> out = new ArrayList<>();
                try (ResultSet rs = p.executeQuery()) {
                    while (rs.next()) {
                        Optional<String> key = Optional.empty();
                        Optional<String> model = Optional.empty();
                        OptionalLong version = OptionalLong.empty();
                        OptionalLong minute = OptionalLong.empty();
                        int col = 1;
                        for (UsageQuery.GroupBy g : q.groupBy()) {
                            switch (g) {
                                case KEY -> key = Optional.of(rs.getString(col));
                                case MODEL -> model = Optional.of(rs.getString(col));
                                case VERSION -> version = OptionalLong.of(rs.getLong(col));
                                case MINUTE, DAY -> minute = OptionalLong.of(rs.getLong(col));
                            }
                            col++;
                        }
                        out.add(new UsageGroup(key, model, version, minute, counts(rs, col)));
                    }
                }
                return out;
            }
        });
    }

    @Override
    public Map<String, UsageCounts> totalsByKey(long fromMinute) {
        return catalog.read(c -> {
            Map<String, UsageCounts> out = new LinkedHashMap<>();
            try (PreparedStatement p = c.prepareStatement("SELECT key_id, " + COUNTS
                    + " FROM usage_minute WHERE epoch_minute >= ? GROUP BY key_id ORDER BY key_id")) {
                p.setLong(1, fromMinute);
                try (ResultSet rs = p.executeQuery()) {
                    while (rs.next()) {
                        out.put(rs.getString(1), counts(rs, 2));
                    }
                }
            }
            return out;
        });
    }

    /** Sums of an empty group come back as NULL, which getLong/getDouble read as 0. */
    private static UsageCounts counts(ResultSet rs, int first) throws SQLException {
        return new UsageCounts(rs.getLong(first), rs.getLong(first + 1), rs.getLong(first + 2),
                rs.getLong(first + 3), rs.getLong(first + 4), rs.getLong(first + 5), rs.getDouble(first + 6));
    }
}
