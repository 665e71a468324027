package dev.gantry.store.catalog;

import dev.gantry.store.keys.ApiKeyStore;
import dev.gantry.store.keys.StoredKey;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;

/** API keys in the catalogue's database (table {@code api_key}, migration V8). */
public final class JdbcApiKeyStore implements ApiKeyStore {
    /*
     * change() is one catalogue write transaction (JdbcCatalogStore.write): on PostgreSQL it first locks row 1 of
     * catalog_lock, so two servers changing keys at once run one after the other and the second sees what the
     * first committed (its "name taken" check is then right). UNIQUE (name) and the primary key are the last line
     * of defence; a violation is reported as KeyConflictException. Roles and models are stored newline-separated
     * (neither may contain a newline: names are validated, model names come from the repository's layout).
     */
    private static final String COLUMNS = "id, name, roles, models, created_at, expires_at, revoked_at, "
            + "secret_sha256, rate_per_second, created_by";
    private static final String UNIQUE_VIOLATION = "23505";

    private final JdbcCatalogStore catalog;

    private JdbcApiKeyStore(JdbcCatalogStore catalog) {
        this.catalog = catalog;
    }

    /**
     * The key store of {@code catalog}'s database.
     *
     * @throws IllegalArgumentException when {@code catalog} is not one of {@link CatalogStore}'s own stores
     */
    public static ApiKeyStore of(CatalogStore catalog) {
        JdbcCatalogStore jdbc = JdbcCatalogStore.own(catalog);
        return new JdbcApiKeyStore(jdbc);
    }

    @Override
    public List<StoredKey> list() {
        return catalog.read(JdbcApiKeyStore::all);
    }

    @Override
    public Optional<StoredKey> find(String id) {
        return catalog.read(c -> query(c, "SELECT " + COLUMNS + " FROM api_key WHERE id = ?", id)).stream()
                .findFirst();
    }

    @Override
    public <T> T change(Function<Changes, T> work) {
        try {
            return catalog.write(c -> work.apply(new Tx(c, catalog.jdbc(c))));
        } catch (CatalogStoreException e) {
            if (e.getCause() instanceof SQLException s && UNIQUE_VIOLATION.equals(s.getSQLState())) {
                throw new KeyConflictException("an API key with this name or id exists already", e);
            }
            throw e;
        }
    }

    private static List<StoredKey> all(Connection c) throws SQLException {
        return query(c, "SELECT " + COLUMNS + " FROM api_key ORDER BY seq");
    }

    private static List<StoredKey> query(Connection c, String sql, String... args) throws SQLException {
        try (PreparedStatement p = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                p.setString(i + 1, args[i]);
            }
            List<StoredKey> out = new ArrayList<>();
            try (ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    double rate = rs.getDouble(9);
                    Optional<Double> ratePerSecond = rs.wasNull() ? Optional.empty() : Optional.of(rate);
                    out.add(new StoredKey(rs.getString(1), rs.getString(2), lines(rs.getString(3)),
                            lines(rs.getString(4)), JdbcCatalog.instant(rs, 5), optionalInstant(rs, 6),
                            optionalInstant(rs, 7), rs.getString(8).strip(), ratePerSecond,
                            Optional.ofNullable(rs.getString(10))));
                }
            }
            return out;
        }
    }

    private static Optional<java.time.Instant> optionalInstant(ResultSet rs, int column) throws SQLException {
        OffsetDateTime t = rs.getObject(column, OffsetDateTime.class);
        return t == null ? Optional.empty() : Optional.of(t.toInstant());
    }

    private static Set<String> lines(String s) {
        Set<String> out = new TreeSet<>();
        if (s != null && !s.isEmpty()) {
            out.addAll(Arrays.asList(s.split("\n")));
        }
        return out;
    }

    private static String joined(Set<String> values) {
        for (String v : values) {
            if (v.contains("\n")) {
                throw new IllegalArgumentException("a key's role or model must not contain a line break, was '"
                        + v.replace("\n", "\\n") + "'");
            }
        }
        return String.join("\n", new TreeSet<>(values));
    }

    /** Sets the columns after id and name, from parameter {@code i}: roles .. created_by. */
    private static void setFields(PreparedStatement p, int i, StoredKey k) throws SQLException {
        p.setString(i, joined(k.roles()));
        p.setString(i + 1, joined(k.models()));
        p.setObject(i + 2, JdbcCatalog.ts(k.created()));
        p.setObject(i + 3, k.expires().map(JdbcCatalog::ts).orElse(null), Types.TIMESTAMP_WITH_TIMEZONE);
        p.setObject(i + 4, k.revoked().map(JdbcCatalog::ts).orElse(null), Types.TIMESTAMP_WITH_TIMEZONE);
        p.setString(i + 5, k.secretSha256());
        if (k.ratePerSecond().isPresent()) {
            p.setDouble(i + 6, k.ratePerSecond().get());
        } else {
            p.setNull(i + 6, Types.DOUBLE);
        }
        p.setString(i + 7, k.createdBy().orElse(null));
    }

    private static final class Tx implements Changes {
        private final Connection c;
        private final JdbcCatalog catalog;

        Tx(Connection c, JdbcCatalog catalog) {
            this.c = c;
            this.catalog = catalog;
        }

        @Override
        public List<StoredKey> list() {
            try {
                return all(c);
            } catch (SQLException e) {
                throw failed("read the API keys", e);
            }
        }

        @Override
        public void insert(StoredKey k) {
            String sql = "INSERT INTO api_key (id, name, seq, roles, models, created_at, expires_at, revoked_at, "
                    + "secret_sha256, rate_per_second, created_by) "
                    + "SELECT ?, ?, COALESCE(MAX(seq), 0) + 1, ?, ?, ?, ?, ?, ?, ?, ? FROM api_key";
            try (PreparedStatement p = c.prepareStatement(sql)) {
                p.setString(1, k.id());
                p.setString(2, k.name());
                setFields(p, 3, k);
                p.executeUpdate();
            } catch (SQLException e) {
                throw failed("add API key " + k.id() + " (" + k.name() + ")", e);
            }
        }

        @Override
        public void update(StoredKey k) {
            String sql = "UPDATE api_key SET roles = ?, models = ?, created_at = ?, expires_at = ?, revoked_at = ?, "
                    + "secret_sha256 = ?, rate_per_second = ?, created_by = ?, name = ? WHERE id = ?";
            try (PreparedStatement p = c.prepareStatement(sql)) {
                setFields(p, 1, k);
                p.setString(9, k.name());
                p.setString(10, k.id());
                if (p.executeUpdate() != 1) {
                    throw new CatalogStoreException("no API key with id '" + k.id() + "' to update");
                }
            } catch (SQLException e) {
                throw failed("update API key " + k.id(), e);
            }
        }

        @Override
        public void remove(String id) {
            try (PreparedStatement p = c.prepareStatement("DELETE FROM api_key WHERE id = ?")) {
                p.setString(1, id);
                p.executeUpdate();
            } catch (SQLException e) {
                throw failed("remove API key " + id, e);
            }
        }

        @Override
        public void audit(String actor, String role, String action, String target, String before, String after) {
            catalog.audit(actor, role, action, target, before, after);
        }

        private static CatalogStoreException failed(String what, SQLException e) {
            return new CatalogStoreException("cannot " + what + ": " + e.getMessage(), e);
        }
    }
}
