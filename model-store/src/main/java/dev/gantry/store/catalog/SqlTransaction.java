package dev.gantry.store.catalog;

import java.sql.Connection;
import java.sql.SQLException;

/**
 * One JDBC transaction on a connection: auto-commit off, commit when the work returns, roll back when it throws
 * (a failed rollback is kept as a suppressed exception), and the connection's auto-commit setting restored either
 * way. What must happen after the commit (forcing it to disk, telling listeners) is the caller's, after this returns.
 */
final class SqlTransaction {
    private SqlTransaction() {
    }

    static <T> T run(Connection c, JdbcCatalogStore.SqlWork<T> work) throws SQLException {
        boolean auto = c.getAutoCommit();
        c.setAutoCommit(false);
        try {
            T result = work.run(c);
            c.commit();
            return result;
        } catch (SQLException | RuntimeException | Error e) {
            try {
                c.rollback();
            } catch (SQLException r) {
                e.addSuppressed(r);
            }
            throw e;
        } finally {
            c.setAutoCommit(auto);
        }
    }
}
