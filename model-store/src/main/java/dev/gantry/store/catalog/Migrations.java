package dev.gantry.store.catalog;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Brings a catalogue database's schema up to date from the ordered {@code db/migration/V<n>__*.sql} scripts. */
final class Migrations {
    /*
     * schema_version holds one row per applied script: its number, name and the SHA-256 of its text. Each
     * pending script runs in its own transaction together with its schema_version row, in order. A script that
     * was applied and has since changed, or a database newer than the scripts this build knows, is refused
     * rather than guessed at.
     *
     * PostgreSQL runs DDL inside the transaction; H2 commits each DDL statement as it goes, so the scripts use
     * IF NOT EXISTS and a script interrupted half-way is simply run again on the next open.
     *
     * The list is explicit (resources inside a jar cannot be listed portably); adding a migration means a
     * new file here and a new line in SCRIPTS, numbered higher than the line before. Numbers are taken from
     * the names; a script not yet recorded in schema_version is applied, like any pending script.
     */
    static final String DIR = "db/migration/";
    static final List<String> SCRIPTS = List.of("V1__catalog.sql", "V2__deployments.sql", "V3__usage.sql",
            "V4__model_file_digest.sql", "V5__rollouts.sql", "V6__policy_fallback.sql",
            "V7__shared_writers.sql", "V8__api_keys.sql", "V9__rollout_observations.sql");
    private static final Pattern NAME = Pattern.compile("V(\\d+)__([A-Za-z0-9_]+)\\.sql");

    private Migrations() {
    }

    /** The version the schema is at after migrating. */
    static int migrate(Connection c) throws SQLException {
        boolean auto = c.getAutoCommit();
        c.setAutoCommit(true);
        try {
            return applyPending(c);
        } finally {
            c.setAutoCommit(auto);
        }
    }

    /** Applies every script not yet recorded, each in its own transaction. */
    private static int applyPending(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS schema_version (version INT NOT NULL PRIMARY KEY, "
                    + "script VARCHAR(200) NOT NULL, checksum CHAR(64) NOT NULL, "
                    + "applied_at TIMESTAMP(6) WITH TIME ZONE NOT NULL)");
        }
        Map<Integer, String> applied = new HashMap<>();
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT version, checksum FROM schema_version")) {
            while (rs.next()) {
                applied.put(rs.getInt(1), rs.getString(2));
            }
        }
        int known = latest();
        int newest = applied.keySet().stream().mapToInt(Integer::intValue).max().orElse(0);
        if (newest > known) {
            throw new CatalogStoreException("the catalogue database is at schema version " + newest
                    + ", newer than this Gantry knows (" + known + "); run a newer Gantry or restore a backup");
        }
        for (String script : SCRIPTS) {
            int version = number(script);
            String text = read(script);
            String checksum = AuditChain.sha256(text);
            if (applied.containsKey(version)) {
                if (!applied.get(version).equals(checksum)) {
                    throw new CatalogStoreException("migration " + script + " was changed after it was applied "
                            + "to this database (checksum " + applied.get(version) + ", now " + checksum
                            + "); applied migrations must never change, add a new one instead");
                }
                continue;
            }
            try {
                SqlTransaction.run(c, tx -> {
                    apply(tx, script, version, text, checksum);
                    return null;
                });
            } catch (SQLException | RuntimeException e) {
                throw new CatalogStoreException("migration " + script + " failed: " + e.getMessage(), e);
            }
        }
        return known;
    }

    /** Runs one migration script and records it in schema_version (the caller's transaction). */
    private static void apply(Connection c, String script, int version, String text, String checksum)
            throws SQLException {
        try (Statement s = c.createStatement()) {
            for (String sql : statements(text)) {
                s.execute(sql);
            }
        }
        try (PreparedStatement p = c.prepareStatement(
                "INSERT INTO schema_version (version, script, checksum, applied_at) VALUES (?, ?, ?, ?)")) {
            p.setInt(1, version);
            p.setString(2, script);
            p.setString(3, checksum);
            p.setObject(4, OffsetDateTime.now(ZoneOffset.UTC));
            p.executeUpdate();
        }
    }

    /** The schema version of the newest script this build knows. */
    static int latest() {
        int previous = 0;
        for (String script : SCRIPTS) {
            int n = number(script);
            if (n <= previous) {
                throw new IllegalStateException("migration " + script + " must be numbered above V" + previous);
            }
            previous = n;
        }
        return previous;
    }

    private static int number(String script) {
        Matcher m = NAME.matcher(script);
        if (!m.matches()) {
            throw new IllegalStateException("migration " + script + " must be named V<n>__<description>.sql");
        }
        return Integer.parseInt(m.group(1));
    }

    /** The script's statements: comment lines dropped, split at semicolons that end a line. */
    static List<String> statements(String text) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        for (String line : text.split("\n")) {
            String t = line.strip();
            if (t.startsWith("--") || t.isEmpty()) {
                continue;
            }
            cur.append(line).append('\n');
            if (t.endsWith(";")) {
                String sql = cur.toString().strip();
                out.add(sql.substring(0, sql.length() - 1));
                cur.setLength(0);
            }
        }
        if (!cur.toString().isBlank()) {
            out.add(cur.toString().strip());
        }
        return out;
    }

    private static String read(String script) {
        try (InputStream in = Migrations.class.getClassLoader().getResourceAsStream(DIR + script)) {
            if (in == null) {
                throw new IllegalStateException("migration " + DIR + script + " is missing from the classpath");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new CatalogStoreException("cannot read migration " + DIR + script + ": " + e, e);
        }
    }
}
