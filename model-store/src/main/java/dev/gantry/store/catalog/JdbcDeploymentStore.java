package dev.gantry.store.catalog;

import dev.gantry.store.deployment.DeploymentRecord;
import dev.gantry.store.deployment.DeploymentStoreException;
import dev.gantry.store.deployment.PolicyRevision;
import dev.gantry.store.deployment.RevisionConflictException;
import dev.gantry.store.deployment.Route;
import dev.gantry.store.deployment.ShadowRoute;
import dev.gantry.store.deployment.TrafficPolicy;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.stream.Collectors;

/** Deployment records in the catalogue's database; revisions are never deleted, only marked out of history. */
final class JdbcDeploymentStore implements DeploymentArchive {
    /*
     * deployment: one row per model (current revision, standby list). policy_revision: one row per revision
     * ever saved; in_history is true for those in the record's kept history (the history only ever drops its
     * oldest entries, so everything below the oldest kept revision is out). A revision already stored is never
     * rewritten: its number identifies what was applied.
     *
     * Each new revision is audited here, in the same transaction that stores it: the actor is the revision's,
     * the role the one the caller acted in.
     *
     * Several servers may save the same model (replicas sharing the database), each from the record it read.
     * Saves run under the catalogue write lock, so each sees what the others committed, and a record is refused
     * (RevisionConflictException, nothing written) unless it extends what is stored: its latest revision is at
     * least the stored latest, and every revision it holds up to the stored latest is the stored one. Two
     * servers that both turn revision N into N+1 therefore end with one N+1: the second is refused. Times are
     * compared to the microsecond, the precision both databases keep.
     */
    private static final String REVISION_COLUMNS = "revision, applied_at, actor, reason, rollback_of, routes, shadow, fallback";

    private final JdbcCatalogStore catalog;

    JdbcDeploymentStore(JdbcCatalogStore catalog) {
        this.catalog = catalog;
    }

    @Override
    public Optional<DeploymentRecord> load(String model) {
        try {
            return catalog.read(c -> load(c, model));
        } catch (RuntimeException e) {
            throw new DeploymentStoreException("cannot load the deployment of model '" + model + "': " + e.getMessage(), e);
        }
    }

    @Override
    public List<DeploymentRecord> loadAll() {
        try {
            return catalog.read(c -> {
                List<String> models = new ArrayList<>();
                try (PreparedStatement p = c.prepareStatement("SELECT model FROM deployment ORDER BY model");
                     ResultSet rs = p.executeQuery()) {
                    while (rs.next()) {
                        models.add(rs.getString(1));
                    }
                }
                List<DeploymentRecord> out = new ArrayList<>();
                for (String m : models) {
                    load(c, m).ifPresent(out::add);
                }
                return out;
            });
        } catch (DeploymentStoreException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new DeploymentStoreException("cannot load deployments: " + e.getMessage(), e);
        }
    }

    @Override
    public void save(DeploymentRecord record, String actorRole) {
        try {
            catalog.write(c -> {
                save(c, record, actorRole);
                return null;
            });
        } catch (RevisionConflictException | LeaseLostException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new DeploymentStoreException("cannot save the deployment of model '" + record.model() + "': "
                    + e.getMessage(), e);
        }
    }

    @Override
    public Optional<PolicyRevision> inForceAt(String model, Instant time) {
        return catalog.read(c -> revisions(c, "SELECT " + REVISION_COLUMNS + " FROM policy_revision WHERE model = ? "
                + "AND applied_at <= ? ORDER BY revision DESC FETCH FIRST 1 ROWS ONLY", model, JdbcCatalog.ts(time)))
                .stream().findFirst();
    }

    @Override
    public List<PolicyRevision> revisions(String model) {
        return catalog.read(c -> revisions(c, "SELECT " + REVISION_COLUMNS
                + " FROM policy_revision WHERE model = ? ORDER BY revision", model));
    }

    private static Optional<DeploymentRecord> load(Connection c, String model) throws SQLException {
        long current;
        String standby;
        try (PreparedStatement p = c.prepareStatement(
                "SELECT current_revision, standby FROM deployment WHERE model = ?")) {
            p.setString(1, model);
            try (ResultSet rs = p.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                current = rs.getLong(1);
                standby = rs.getString(2);
            }
        }
        List<PolicyRevision> history = revisions(c, "SELECT " + REVISION_COLUMNS
                + " FROM policy_revision WHERE model = ? AND in_history = TRUE ORDER BY revision", model);
        List<Long> sb = standby.isEmpty() ? List.of()
                : java.util.Arrays.stream(standby.split(",")).map(Long::parseLong).toList();
        try {
            return Optional.of(new DeploymentRecord(model, history, current, sb));
        } catch (IllegalArgumentException e) {
            throw new DeploymentStoreException("the stored deployment of model '" + model + "' is inconsistent: "
                    + e.getMessage(), e);
        }
    }

    private void save(Connection c, DeploymentRecord record, String actorRole) throws SQLException {
        String model = record.model();
        Optional<PolicyRevision> previous = checkExtendsStored(c, record);
        long latestStored = previous.map(PolicyRevision::revision).orElse(0L);
        String standby = record.standby().stream().map(String::valueOf).collect(Collectors.joining(","));
        try (PreparedStatement u = c.prepareStatement(
                "UPDATE deployment SET current_revision = ?, standby = ? WHERE model = ?")) {
            u.setLong(1, record.currentRevision());
            u.setString(2, standby);
            u.setString(3, model);
            if (u.executeUpdate() == 0) {
                try (PreparedStatement i = c.prepareStatement(
                        "INSERT INTO deployment (model, current_revision, standby) VALUES (?, ?, ?)")) {
                    i.setString(1, model);
                    i.setLong(2, record.currentRevision());
                    i.setString(3, standby);
                    i.executeUpdate();
                }
            }
        }
        JdbcCatalog audit = catalog.jdbc(c);
        // checkExtendsStored refused the record unless its revisions up to the stored latest are the stored
        // ones, so the new ones are exactly those above it (relaxing that check would drop revisions here).
        for (PolicyRevision r : record.history()) {
            if (r.revision() <= latestStored) {
                continue;
            }
            try (PreparedStatement p = c.prepareStatement("INSERT INTO policy_revision (model, " + REVISION_COLUMNS
                    + ", in_history) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, TRUE)")) {
                p.setString(1, model);
                p.setLong(2, r.revision());
                p.setObject(3, JdbcCatalog.ts(r.time()));
                p.setString(4, r.actor());
                p.setString(5, r.reason());
                if (r.rollbackOf().isPresent()) {
                    p.setLong(6, r.rollbackOf().get());
                } else {
                    p.setNull(6, Types.BIGINT);
                }
                p.setString(7, routes(r.policy()));
                p.setString(8, shadow(r.policy()));
                if (r.policy().fallback().isPresent()) {
                    p.setLong(9, r.policy().fallback().getAsLong());
                } else {
                    p.setNull(9, Types.BIGINT);
                }
                p.executeUpdate();
            }
            audit.audit(r.actor(), actorRole, r.rollbackOf().isPresent() ? "policy.rollback" : "policy.apply",
                    model, previous.map(JdbcDeploymentStore::auditState).orElse(""), auditState(r));
            previous = Optional.of(r);
        }
        try (PreparedStatement p = c.prepareStatement(
                "UPDATE policy_revision SET in_history = FALSE WHERE model = ? AND revision < ? AND in_history = TRUE")) {
            p.setString(1, model);
            p.setLong(2, record.history().get(0).revision());
            p.executeUpdate();
        }
    }


    /**
     * Reads only the stored revisions the record holds (and the latest number), never the model's whole history.
     *
     * @return the latest stored revision, empty when the model has none
     * @throws RevisionConflictException when {@code record} was not built on the latest stored revision
     */
    private static Optional<PolicyRevision> checkExtendsStored(Connection c, DeploymentRecord record)
            throws SQLException {
        String model = record.model();
        java.util.Map<Long, PolicyRevision> stored = new java.util.HashMap<>();
        long latest = 0;
        for (PolicyRevision r : revisions(c, "SELECT " + REVISION_COLUMNS + " FROM policy_revision WHERE model = ? "
                + "AND revision >= ?", model, record.history().get(0).revision())) {
            stored.put(r.revision(), r);
        }
        try (PreparedStatement p = c.prepareStatement(
                "SELECT COALESCE(MAX(revision), 0) FROM policy_revision WHERE model = ?")) {
            p.setString(1, model);
            try (ResultSet rs = p.executeQuery()) {
                rs.next();
                latest = rs.getLong(1);
            }
        }
        if (record.latestRevision() < latest) {
            throw conflict(model, record, latest);
        }
        for (PolicyRevision r : record.history()) {
            if (r.revision() > latest) {
                break;
            }
            PolicyRevision s = stored.get(r.revision());
            if (s == null || !sameRevision(s, r)) {
                throw conflict(model, record, latest);
            }
        }
        if (latest == 0 || stored.containsKey(latest)) {
            return Optional.ofNullable(stored.get(latest));
        }
        return revisions(c, "SELECT " + REVISION_COLUMNS + " FROM policy_revision WHERE model = ? AND revision = ?",
                model, latest).stream().findFirst();
    }

    private static RevisionConflictException conflict(String model, DeploymentRecord record, long latest) {
        return new RevisionConflictException("the traffic policy of model '" + model + "' was changed by another "
                + "server: revision " + latest + " is stored, and this change was made from revision "
                + (record.latestRevision() > latest ? record.latestRevision() - 1 : record.latestRevision())
                + "; reload and try again", latest);
    }

    private static boolean sameRevision(PolicyRevision a, PolicyRevision b) {
        return a.revision() == b.revision() && micros(a.time()).equals(micros(b.time())) && a.actor().equals(b.actor())
                && a.reason().equals(b.reason()) && a.rollbackOf().equals(b.rollbackOf())
                && routes(a.policy()).equals(routes(b.policy())) && shadow(a.policy()).equals(shadow(b.policy()))
                && a.policy().fallback().equals(b.policy().fallback());
    }

    private static Instant micros(Instant t) {
        return t.truncatedTo(java.time.temporal.ChronoUnit.MICROS);
    }

    private static String auditState(PolicyRevision r) {
        Optional<Long> fallback = r.policy().fallback().isPresent() ? Optional.of(r.policy().fallback().getAsLong())
                : Optional.empty();
        return AuditJson.object("revision", r.revision(), "routes", routes(r.policy()), "shadow", shadow(r.policy()),
                "fallback", fallback, "rollback_of", r.rollbackOf(), "reason", r.reason());
    }

    static String routes(TrafficPolicy p) {
        return p.routes().stream().map(r -> r.version() + "=" + r.weight()).collect(Collectors.joining(","));
    }

    static String shadow(TrafficPolicy p) {
        return p.shadow().stream().map(s -> s.version() + "=" + s.percent()).collect(Collectors.joining(","));
    }

    private static List<PolicyRevision> revisions(Connection c, String sql, Object... args) throws SQLException {
        try (PreparedStatement p = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                p.setObject(i + 1, args[i]);
            }
            List<PolicyRevision> out = new ArrayList<>();
            try (ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    long rollbackOf = rs.getLong(5);
                    Optional<Long> rb = rs.wasNull() ? Optional.empty() : Optional.of(rollbackOf);
                    long fallback = rs.getLong(8);
                    OptionalLong fb = rs.wasNull() ? OptionalLong.empty() : OptionalLong.of(fallback);
                    TrafficPolicy policy = new TrafficPolicy(parseRoutes(rs.getString(6)), parseShadow(rs.getString(7)),
                            fb);
                    out.add(new PolicyRevision(rs.getLong(1), JdbcCatalog.instant(rs, 2), rs.getString(3), policy, rb,
                            rs.getString(4)));
                }
            }
            return out;
        }
    }

    private static List<Route> parseRoutes(String s) {
        List<Route> out = new ArrayList<>();
        String[] parts = s.isEmpty() ? new String[0] : s.split(",");
        for (int i = 0; i < parts.length; i++) {
            String[] kv = parts[i].split("=");
            out.add(TrafficPolicy.route(i, Long.parseLong(kv[0]), Long.parseLong(kv[1])));
        }
        return out;
    }

    private static List<ShadowRoute> parseShadow(String s) {
        List<ShadowRoute> out = new ArrayList<>();
        String[] parts = s.isEmpty() ? new String[0] : s.split(",");
        for (int i = 0; i < parts.length; i++) {
            String[] kv = parts[i].split("=");
            out.add(TrafficPolicy.shadowRoute(i, Long.parseLong(kv[0]), Long.parseLong(kv[1])));
        }
        return out;
    }
}
