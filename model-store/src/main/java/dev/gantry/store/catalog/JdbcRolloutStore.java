package dev.gantry.store.catalog;

import dev.gantry.store.rollout.RolloutRecord;
import dev.gantry.store.rollout.RolloutStore;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Rollouts in the catalogue's database (table {@code rollout}, migration V5). */
public final class JdbcRolloutStore implements RolloutStore {
    private static final String COLUMNS = "id, model, candidate, baseline, state, step_index, step_started_at, "
            + "paused_left_ms, plan, reason, created_at, created_by, updated_at";

    private final JdbcCatalogStore catalog;

    private JdbcRolloutStore(JdbcCatalogStore catalog) {
        this.catalog = catalog;
    }

    /**
     * The rollout store of {@code catalog}'s database.
     *
     * @throws IllegalArgumentException when {@code catalog} is not one of {@link CatalogStore}'s own stores
     */
    public static RolloutStore of(CatalogStore catalog) {
        JdbcCatalogStore jdbc = JdbcCatalogStore.own(catalog);
        return new JdbcRolloutStore(jdbc);
    }

    @Override
    public void save(RolloutRecord r) {
        catalog.write(c -> {
            try (PreparedStatement d = c.prepareStatement("DELETE FROM rollout WHERE id = ?")) {
                d.setString(1, r.id());
                d.executeUpdate();
            }
            try (PreparedStatement p = c.prepareStatement("INSERT INTO rollout (" + COLUMNS
                    + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
                p.setString(1, r.id());
                p.setString(2, r.model());
                p.setLong(3, r.candidate());
                p.setLong(4, r.baseline());
                p.setString(5, r.state());
                p.setInt(6, r.stepIndex());
                p.setObject(7, JdbcCatalog.ts(r.stepStartedAt()));
                p.setLong(8, r.pausedLeftMillis());
                p.setString(9, r.plan());
                p.setString(10, r.reason().length() > 4000 ? r.reason().substring(0, 4000) : r.reason());
                p.setObject(11, JdbcCatalog.ts(r.createdAt()));
                p.setString(12, r.createdBy());
                p.setObject(13, JdbcCatalog.ts(r.updatedAt()));
                p.executeUpdate();
            }
            return null;
        });
    }

    @Override
    public Optional<RolloutRecord> load(String id) {
        return query("SELECT " + COLUMNS + " FROM rollout WHERE id = ?", List.of(id)).stream().findFirst();
    }

    @Override
    public List<RolloutRecord> forModel(String model) {
        return query("SELECT " + COLUMNS + " FROM rollout WHERE model = ? ORDER BY created_at, id", List.of(model));
    }

    @Override
    public List<RolloutRecord> inStates(List<String> states) {
        if (states.isEmpty()) {
            return List.of();
        }
        String marks = String.join(", ", java.util.Collections.nCopies(states.size(), "?"));
        return query("SELECT " + COLUMNS + " FROM rollout WHERE state IN (" + marks + ") ORDER BY created_at, id",
                states);
    }

    private List<RolloutRecord> query(String sql, List<String> args) {
        return catalog.read(c -> read(c, sql, args));
    }

    private static List<RolloutRecord> read(Connection c, String sql, List<String> args) throws SQLException {
        try (PreparedStatement p = c.prepareStatement(sql)) {
            for (int i = 0; i < args.size(); i++) {
                p.setString(i + 1, args.get(i));
            }
            List<RolloutRecord> out = new ArrayList<>();
            try (ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    out.add(new RolloutRecord(rs.getString(1), rs.getString(2), rs.getLong(3), rs.getLong(4),
                            rs.getString(5), rs.getInt(6), JdbcCatalog.instant(rs, 7), rs.getLong(8),
                            rs.getString(9), rs.getString(10), JdbcCatalog.instant(rs, 11), rs.getString(12),
                            JdbcCatalog.instant(rs, 13)));
                }
            }
            return out;
        }
    }
}
