package dev.gantry.store.catalog;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

/** Shared fixtures for the catalogue tests: digests, a settable clock, raw JDBC into a store's database. */
final class CatalogFixtures {
    static final Instant T0 = Instant.parse("2025-06-01T12:00:00Z");

    private CatalogFixtures() {
    }

    static String digest(char c) {
        return "sha256:" + String.valueOf(c).repeat(64);
    }

    /** A raw connection to the file database of {@code CatalogStore.h2(dataDir)}, bypassing the store. */
    static Connection raw(Path dataDir) throws SQLException {
        return DriverManager.getConnection("jdbc:h2:file:" + dataDir.toAbsolutePath().resolve("catalog")
                .resolve("gantry"), "gantry", "");
    }

    /** A clock the test moves by hand. */
    static final class MutableClock extends Clock {
        private volatile Instant now;

        MutableClock(Instant start) {
            now = start;
        }

        void set(Instant t) {
            now = t;
        }

        void advanceSeconds(long s) {
            now = now.plusSeconds(s);
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }
}
