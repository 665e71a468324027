package dev.gantry.store.catalog;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Clock;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** The catalogue's SQL over one connection: the reads, and the writes of a transaction. Portable SQL only. */
final class JdbcCatalog implements CatalogStore.Tx {
    private static final String VERSION_COLUMNS = "model, version, stage, digest, size_bytes, uploaded_by, "
            + "uploaded_at, reason, approval_requested_by, sunset, successor, suspended_from, updated_at, "
            + "model_file_digest";
    private static final String AUDIT_COLUMNS = "seq, at, actor, role, action, target, before, after, prev_hash, hash";

    private final Connection c;
    private final Clock clock;
    private final AuditKey key;

    JdbcCatalog(Connection c, Clock clock, AuditKey key) {
        this.c = c;
        this.clock = clock;
        this.key = key;
    }

    @Override
    public Optional<ReleaseRecord> version(String model, long version) {
        List<ReleaseRecord> r = queryVersions("SELECT " + VERSION_COLUMNS
                + " FROM model_version WHERE model = ? AND version = ?", model, version);
        return r.stream().findFirst();
    }

    @Override
    public List<ReleaseRecord> versions(String model) {
        return queryVersions("SELECT " + VERSION_COLUMNS + " FROM model_version WHERE model = ? ORDER BY version",
                model);
    }

    @Override
    public List<ReleaseRecord> versions() {
        return queryVersions("SELECT " + VERSION_COLUMNS + " FROM model_version ORDER BY model, version");
    }

    @Override
    public List<ReleaseRecord> versionsIn(ReleaseStage stage) {
        return queryVersions("SELECT " + VERSION_COLUMNS + " FROM model_version WHERE stage = ? ORDER BY model, version",
                stage.name());
    }

    @Override
    public Optional<ModelCard> card(String model, long version) {
        try (PreparedStatement p = c.prepareStatement("SELECT card_json FROM model_card WHERE model = ? AND version = ?")) {
            p.setString(1, model);
            p.setLong(2, version);
            try (ResultSet rs = p.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                String json = rs.getString(1);
                try {
                    return Optional.of(ModelCard.fromJson(json));
                } catch (IllegalArgumentException e) {
                    throw new CatalogStoreException("the stored card of " + model + "/" + version + " is corrupt: "
                            + e.getMessage(), e);
                }
            }
        } catch (SQLException e) {
            throw failed("read the card of " + model + "/" + version, e);
        }
    }

    @Override
    public List<Approval> approvals(String model, long version) {
        String sql = "SELECT model, version, approver, role, decided_at, digest, card_hash, decision, reason, voided "
                + "FROM approval WHERE model = ? AND version = ? ORDER BY id";
        try (PreparedStatement p = c.prepareStatement(sql)) {
            p.setString(1, model);
            p.setLong(2, version);
            List<Approval> out = new ArrayList<>();
            try (ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    out.add(new Approval(rs.getString(1), rs.getLong(2), rs.getString(3), rs.getString(4),
                            instant(rs, 5), rs.getString(6), rs.getString(7),
                            Approval.Decision.valueOf(rs.getString(8)), rs.getString(9), rs.getBoolean(10)));
                }
            }
            return out;
        } catch (SQLException e) {
            throw failed("read the approvals of " + model + "/" + version, e);
        }
    }

    @Override
    public void insertVersion(ReleaseRecord r) {
        if (version(r.model(), r.version()).isPresent()) {
            throw new CatalogStoreException("version " + r.version() + " of model '" + r.model()
                    + "' is already in the catalogue");
        }
        String sql = "INSERT INTO model_version (" + VERSION_COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
        try (PreparedStatement p = c.prepareStatement(sql)) {
            p.setString(1, r.model());
            p.setLong(2, r.version());
            p.setString(3, r.stage().name());
            p.setString(4, r.digest());
            p.setLong(5, r.sizeBytes());
            p.setString(6, r.uploadedBy());
            p.setObject(7, ts(r.uploadedAt()));
            setVersionState(p, 8, r);
            p.setString(14, r.modelFileDigest().orElse(null));
            p.executeUpdate();
        } catch (SQLException e) {
            throw failed("insert " + r.target(), e);
        }
    }

    @Override
    public void updateVersion(ReleaseRecord r) {
        String sql = "UPDATE model_version SET reason = ?, approval_requested_by = ?, sunset = ?, successor = ?, "
                + "suspended_from = ?, updated_at = ?, stage = ? WHERE model = ? AND version = ?";
        try (PreparedStatement p = c.prepareStatement(sql)) {
            setVersionState(p, 1, r);
            p.setString(7, r.stage().name());
            p.setString(8, r.model());
            p.setLong(9, r.version());
            if (p.executeUpdate() != 1) {
                throw new CatalogStoreException("version " + r.version() + " of model '" + r.model()
                        + "' is not in the catalogue");
            }
        } catch (SQLException e) {
            throw failed("update " + r.target(), e);
        }
    }

    /** reason, approval_requested_by, sunset, successor, suspended_from, updated_at from {@code i}. */
    private static void setVersionState(PreparedStatement p, int i, ReleaseRecord r) throws SQLException {
        p.setString(i, r.reason().orElse(null));
        p.setString(i + 1, r.approvalRequestedBy().orElse(null));
        p.setObject(i + 2, r.sunset().map(JdbcCatalog::ts).orElse(null), Types.TIMESTAMP_WITH_TIMEZONE);
        if (r.successor().isPresent()) {
            p.setLong(i + 3, r.successor().get());
        } else {
            p.setNull(i + 3, Types.BIGINT);
        }
        p.setString(i + 4, r.suspendedFrom().map(Enum::name).orElse(null));
        p.setObject(i + 5, ts(r.updatedAt()));
    }

    @Override
    public void putCard(String model, long version, ModelCard card) {
        String json = card.toJson();
        try (PreparedStatement u = c.prepareStatement("UPDATE model_card SET card_json = ? WHERE model = ? AND version = ?")) {
            u.setString(1, json);
            u.setString(2, model);
            u.setLong(3, version);
            if (u.executeUpdate() == 1) {
                return;
            }
            try (PreparedStatement p = c.prepareStatement("INSERT INTO model_card (model, version, card_json) VALUES (?, ?, ?)")) {
                p.setString(1, model);
                p.setLong(2, version);
                p.setString(3, json);
                p.executeUpdate();
            }
        } catch (SQLException e) {
            throw failed("write the card of " + model + "/" + version, e);
        }
    }

    @Override
    public void addApproval(Approval a) {
        String sql = "INSERT INTO approval (model, version, approver, role, decided_at, digest, card_hash, decision, "
                + "reason, voided) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
        try (PreparedStatement p = c.prepareStatement(sql)) {
            p.setString(1, a.model());
            p.setLong(2, a.version());
            p.setString(3, a.approver());
            p.setString(4, a.role());
            p.setObject(5, ts(a.time()));
            p.setString(6, a.digest());
            p.setString(7, a.cardHash());
            p.setString(8, a.decision().name());
            p.setString(9, a.reason());
            p.setBoolean(10, a.voided());
            p.executeUpdate();
        } catch (SQLException e) {
            throw failed("record an approval of " + a.model() + "/" + a.version(), e);
        }
    }

    @Override
    public int voidApprovals(String model, long version) {
        try (PreparedStatement p = c.prepareStatement(
                "UPDATE approval SET voided = TRUE WHERE model = ? AND version = ? AND voided = FALSE")) {
            p.setString(1, model);
            p.setLong(2, version);
            return p.executeUpdate();
        } catch (SQLException e) {
            throw failed("void the approvals of " + model + "/" + version, e);
        }
    }

    @Override
    public AuditEntry audit(String actor, String role, String action, String target, String before, String after) {
        Instant time = clock.instant().truncatedTo(ChronoUnit.MICROS);
        long seq = 1;
        String prev = AuditChain.GENESIS;
        try (PreparedStatement p = c.prepareStatement("SELECT seq, hash FROM audit ORDER BY seq DESC FETCH FIRST 1 ROWS ONLY");
             ResultSet rs = p.executeQuery()) {
            if (rs.next()) {
                seq = rs.getLong(1) + 1;
                prev = rs.getString(2);
            }
        } catch (SQLException e) {
            throw failed("read the head of the audit chain", e);
        }
        AuditEntry e = new AuditEntry(seq, time, actor, role == null ? "" : role, action, target,
                before == null ? "" : before, after == null ? "" : after, prev, "0".repeat(64));
        String hash = AuditChain.hash(e, key);
        e = new AuditEntry(seq, time, e.actor(), e.role(), action, target, e.before(), e.after(), prev, hash);
        String sql = "INSERT INTO audit (" + AUDIT_COLUMNS + ", model, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
        try (PreparedStatement p = c.prepareStatement(sql)) {
            p.setLong(1, e.seq());
            p.setObject(2, ts(e.time()));
            p.setString(3, e.actor());
            p.setString(4, e.role());
            p.setString(5, e.action());
            p.setString(6, e.target());
            p.setString(7, e.before());
            p.setString(8, e.after());
            p.setString(9, e.prevHash());
            p.setString(10, e.hash());
            Target t = Target.parse(target);
            p.setString(11, t.model);
            if (t.version != null) {
                p.setLong(12, t.version);
            } else {
                p.setNull(12, Types.BIGINT);
            }
            p.executeUpdate();
        } catch (SQLException x) {
            throw failed("append audit entry " + seq, x);
        }
        return e;
    }

    List<AuditEntry> queryAudit(AuditQuery q) {
        StringBuilder sql = new StringBuilder("SELECT " + AUDIT_COLUMNS + " FROM audit WHERE 1 = 1");
        List<Object> args = new ArrayList<>();
        q.model().ifPresent(m -> {
            sql.append(" AND model = ?");
            args.add(m);
        });
        q.version().ifPresent(v -> {
            sql.append(" AND version = ?");
            args.add(v);
        });
        q.actor().ifPresent(a -> {
            sql.append(" AND actor = ?");
            args.add(a);
        });
        q.from().ifPresent(f -> {
            sql.append(" AND at >= ?");
            args.add(ts(f));
        });
        q.to().ifPresent(t -> {
            sql.append(" AND at < ?");
            args.add(ts(t));
        });
        sql.append(" ORDER BY seq DESC FETCH FIRST ").append(q.limit()).append(" ROWS ONLY");
        try (PreparedStatement p = c.prepareStatement(sql.toString())) {
            for (int i = 0; i < args.size(); i++) {
                p.setObject(i + 1, args.get(i));
            }
            List<AuditEntry> out = new ArrayList<>();
            try (ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    out.add(auditEntry(rs));
                }
            }
            return out;
        } catch (SQLException e) {
            throw failed("query the audit trail", e);
        }
    }

    AuditVerification verifyAudit() {
        long expected = 1;
        String prev = AuditChain.GENESIS;
        try (PreparedStatement p = c.prepareStatement("SELECT " + AUDIT_COLUMNS + " FROM audit ORDER BY seq");
             ResultSet rs = p.executeQuery()) {
            while (rs.next()) {
                long seq = rs.getLong(1);
                if (seq != expected) {
                    return AuditVerification.broken(expected, expected, "entry " + expected + " is missing (the next "
                            + "stored entry is " + seq + "): entries were deleted");
                }
                AuditEntry e;
                try {
                    e = auditEntry(rs);
                } catch (IllegalArgumentException x) {
                    return AuditVerification.broken(expected, seq, "entry " + seq + " is malformed: " + x.getMessage());
                }
                if (!e.prevHash().equals(prev)) {
                    return AuditVerification.broken(expected, seq, "entry " + seq + " does not follow entry "
                            + (seq - 1) + ": its prev_hash " + e.prevHash() + " is not that entry's hash " + prev);
                }
                String recomputed = AuditChain.hash(e, key);
                if (!java.security.MessageDigest.isEqual(recomputed.getBytes(java.nio.charset.StandardCharsets.US_ASCII),
                        e.hash().getBytes(java.nio.charset.StandardCharsets.US_ASCII))) {
                    // A keyed hash is never shown: it would hand whoever edited the entry the hash to store.
                    return AuditVerification.broken(expected, seq, key.keyed(seq)
                            ? "entry " + seq + " was altered after it was written: its keyed hash (HMAC-SHA256 under"
                                    + " the audit key) does not match the stored " + e.hash()
                            : "entry " + seq + " was altered after it was written: its fields hash to " + recomputed
                                    + ", not the stored " + e.hash());
                }
                prev = e.hash();
                expected++;
            }
        } catch (SQLException e) {
            throw failed("read the audit trail", e);
        }
        return AuditVerification.intact(expected - 1);
    }

    private static AuditEntry auditEntry(ResultSet rs) throws SQLException {
        return new AuditEntry(rs.getLong(1), instant(rs, 2), rs.getString(3), rs.getString(4), rs.getString(5),
                rs.getString(6), rs.getString(7), rs.getString(8), rs.getString(9), rs.getString(10));
    }

    private List<ReleaseRecord> queryVersions(String sql, Object... args) {
        try (PreparedStatement p = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                p.setObject(i + 1, args[i]);
            }
            List<ReleaseRecord> out = new ArrayList<>();
            try (ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    long successor = rs.getLong(11);
                    Optional<Long> succ = rs.wasNull() ? Optional.empty() : Optional.of(successor);
                    out.add(new ReleaseRecord(rs.getString(1), rs.getLong(2), ReleaseStage.valueOf(rs.getString(3)),
                            rs.getString(4), rs.getLong(5), rs.getString(6), instant(rs, 7),
                            Optional.ofNullable(rs.getString(8)), Optional.ofNullable(rs.getString(9)),
                            Optional.ofNullable(rs.getObject(10, OffsetDateTime.class)).map(OffsetDateTime::toInstant),
                            succ, Optional.ofNullable(rs.getString(12)).map(ReleaseStage::valueOf), instant(rs, 13),
                            Optional.ofNullable(rs.getString(14))));
                }
            }
            return out;
        } catch (SQLException e) {
            throw failed("read model versions", e);
        }
    }

    /** Times are kept to the microsecond on every database (PostgreSQL keeps no finer). */
    static OffsetDateTime ts(Instant i) {
        return i.truncatedTo(ChronoUnit.MICROS).atOffset(ZoneOffset.UTC);
    }

    static Instant instant(ResultSet rs, int column) throws SQLException {
        return rs.getObject(column, OffsetDateTime.class).toInstant();
    }

    private static CatalogStoreException failed(String what, SQLException e) {
        return new CatalogStoreException("cannot " + what + ": " + e.getMessage(), e);
    }

    /** The model and version an audit target names, for querying. */
    private record Target(String model, Long version) {
        static Target parse(String target) {
            if (target.startsWith("key:")) {
                return new Target(null, null);
            }
            int slash = target.lastIndexOf('/');
            if (slash > 0) {
                try {
                    return new Target(target.substring(0, slash), Long.parseLong(target.substring(slash + 1)));
                } catch (NumberFormatException e) {
                    return new Target(target, null);
                }
            }
            return new Target(target, null);
        }
    }
}
