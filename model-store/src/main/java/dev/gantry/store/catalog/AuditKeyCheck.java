package dev.gantry.store.catalog;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Optional;

/** Servers sharing one catalogue database must chain the audit trail under one key: checked when each opens it. */
final class AuditKeyCheck {
    /*
     * The first server to open the database records its key's fingerprint (an HMAC under the key, and the first
     * keyed seq) in catalog_setting; every later one compares. Without this, a replica that created a key of its
     * own would append entries that no other replica can verify, and the trail would read as tampered with.
     * Recording and comparing happen under the catalogue write lock, so two servers starting together agree.
     */
    static final String SETTING = "audit_key";

    private AuditKeyCheck() {
    }

    /** @throws CatalogStoreException when the database's servers chain with another key */
    static void verify(Connection c, AuditKey key, Optional<Path> keyFile) throws SQLException {
        SqlTransaction.run(c, tx -> {
            check(tx, key, keyFile);
            return null;
        });
    }

    private static void check(Connection c, AuditKey key, Optional<Path> keyFile) throws SQLException {
        JdbcCatalogStore.lockRow(c, JdbcCatalogStore.WRITE_LOCK_ROW);
        String mine = key.fingerprint();
        Optional<String> recorded = Optional.empty();
        try (PreparedStatement p = c.prepareStatement("SELECT setting_value FROM catalog_setting WHERE name = ?")) {
            p.setString(1, SETTING);
            try (ResultSet rs = p.executeQuery()) {
                if (rs.next()) {
                    recorded = Optional.of(rs.getString(1));
                }
            }
        }
        if (recorded.isEmpty()) {
            try (PreparedStatement p = c.prepareStatement(
                    "INSERT INTO catalog_setting (name, setting_value) VALUES (?, ?)")) {
                p.setString(1, SETTING);
                p.setString(2, mine);
                p.executeUpdate();
            }
        } else if (!recorded.get().equals(mine)) {
            throw new CatalogStoreException("the audit key " + keyFile.map(Path::toString).orElse("(in memory)")
                    + " is not the key the other servers sharing this catalogue database chain the audit trail "
                    + "with (its fingerprint is " + mine + ", theirs " + recorded.get() + "); give every server "
                    + "the same --audit-key-file");
        }
    }
}
