package dev.gantry.store.catalog;

import dev.gantry.store.rollout.LatencyCodec;
import dev.gantry.store.rollout.RolloutObservation;
import dev.gantry.store.rollout.RolloutObservationStore;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;

/** Rollout observations in the catalogue's database (table {@code rollout_observation}, migration V9). */
public final class JdbcRolloutObservationStore implements RolloutObservationStore {
    /*
     * Writes take their own pooled connection and transaction, not the catalogue's write path: an observation is
     * a measurement, so it is not audited, sends no NOTIFY (the other servers have nothing to refresh) and does
     * not wait behind a governance change. A row has exactly one writer, the server named by replica_id (one
     * thread per server writes its rows), and the row holds that server's absolute counts for the step, so
     * update-then-insert needs no lock: replaying a write is harmless. Nor is it forced to disk (no afterCommit):
     * a lost observation costs at most a second of counts, rewritten by the next put.
     */
    private static final String COLUMNS = "rollout_id, step_index, replica_id, side, offered, requests, errors, "
            + "compared, agreed, latency";

    private final JdbcCatalogStore catalog;

    private JdbcRolloutObservationStore(JdbcCatalogStore catalog) {
        this.catalog = catalog;
    }

    /**
     * The observation store of {@code catalog}'s database.
     *
     * @throws IllegalArgumentException when {@code catalog} is not one of {@link CatalogStore}'s own stores
     */
    public static RolloutObservationStore of(CatalogStore catalog) {
        JdbcCatalogStore jdbc = JdbcCatalogStore.own(catalog);
        return new JdbcRolloutObservationStore(jdbc);
    }

    @Override
    public void put(Collection<RolloutObservation> observations) {
        if (observations.isEmpty()) {
            return;
        }
        catalog.read(c -> SqlTransaction.run(c, tx -> {
            write(tx, observations);
            return null;
        }));
    }

    private void write(Connection c, Collection<RolloutObservation> observations) throws SQLException {
        try (PreparedStatement update = c.prepareStatement("UPDATE rollout_observation SET offered = ?, "
                + "requests = ?, errors = ?, compared = ?, agreed = ?, latency = ?, updated_at = ? "
                + "WHERE rollout_id = ? AND step_index = ? AND replica_id = ? AND side = ?");
             PreparedStatement insert = c.prepareStatement("INSERT INTO rollout_observation (offered, requests, "
                     + "errors, compared, agreed, latency, updated_at, rollout_id, step_index, replica_id, side) "
                     + "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
            Object now = JdbcCatalog.ts(catalog.clock().instant());
            for (RolloutObservation o : observations) {
                bind(update, o, now);
                if (update.executeUpdate() == 0) {
                    bind(insert, o, now);
                    insert.executeUpdate();
                }
            }
        }
    }

    private static void bind(PreparedStatement p, RolloutObservation o, Object now) throws SQLException {
        p.setLong(1, o.offered());
        p.setLong(2, o.requests());
        p.setLong(3, o.errors());
        p.setLong(4, o.compared());
        p.setLong(5, o.agreed());
        p.setString(6, LatencyCodec.encode(o.latency()));
        p.setObject(7, now);
        p.setString(8, o.rolloutId());
        p.setInt(9, o.stepIndex());
        p.setString(10, o.replicaId());
        p.setString(11, o.side().name());
    }

    @Override
    public List<RolloutObservation> step(String rolloutId, int stepIndex) {
        return catalog.read(c -> {
            try (PreparedStatement p = c.prepareStatement("SELECT " + COLUMNS + " FROM rollout_observation "
                    + "WHERE rollout_id = ? AND step_index = ? ORDER BY replica_id, side")) {
                p.setString(1, rolloutId);
                p.setInt(2, stepIndex);
                List<RolloutObservation> out = new ArrayList<>();
                try (ResultSet rs = p.executeQuery()) {
                    while (rs.next()) {
                        RolloutObservation.Side side;
                        long[] latency;
                        try {
                            side = RolloutObservation.Side.valueOf(rs.getString(4));
                            latency = LatencyCodec.decode(rs.getString(10));
                        } catch (IllegalArgumentException e) {
                            throw new CatalogStoreException("rollout observation of " + rolloutId + " step "
                                    + stepIndex + " by " + rs.getString(3) + " is unreadable: " + e.getMessage(), e);
                        }
                        out.add(new RolloutObservation(rs.getString(1), rs.getInt(2), rs.getString(3), side,
                                rs.getLong(5), rs.getLong(6), rs.getLong(7), rs.getLong(8), rs.getLong(9), latency));
                    }
                }
                return out;
            }
        });
    }

    @Override
    public int deleteEnded(List<String> activeStates) {
        String sql = activeStates.isEmpty() ? "DELETE FROM rollout_observation"
                : "DELETE FROM rollout_observation WHERE rollout_id NOT IN (SELECT id FROM rollout WHERE state IN ("
                + String.join(", ", Collections.nCopies(activeStates.size(), "?")) + "))";
        return catalog.read(c -> {
            try (PreparedStatement p = c.prepareStatement(sql)) {
                for (int i = 0; i < activeStates.size(); i++) {
                    p.setString(i + 1, activeStates.get(i));
                }
                return p.executeUpdate();
            }
        });
    }
}
