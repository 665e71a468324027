package dev.gantry.store.catalog;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Clock;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The on-disk catalogue commits without delay, append-only, and keeps its files to its owner. */
class CatalogDurabilityTest {
    @TempDir
    Path data;

    @Test
    void onDiskCatalogue_runsWithNoWriteDelay() {
        assertEquals("0", setting("WRITE_DELAY"));
    }

    /** H2 2.5.252 lost acknowledged commits to its crash recovery when it reused space (see CatalogDialect). */
    @Test
    void onDiskCatalogue_appendsEveryCommitWithoutReusingSpace() {
        assertEquals("FALSE", setting("REUSE_SPACE"));
    }

    @Test
    void onDiskCatalogue_doesNotCompactOnClose() {
        assertEquals("0", setting("MAX_COMPACT_TIME"));
    }

    private String setting(String name) {
        try (JdbcCatalogStore store = (JdbcCatalogStore) CatalogStore.h2(data, Clock.systemUTC())) {
            return store.read(c -> {
                try (PreparedStatement s = c.prepareStatement(
                        "SELECT SETTING_VALUE FROM INFORMATION_SCHEMA.SETTINGS WHERE SETTING_NAME = ?")) {
                    s.setString(1, name);
                    try (ResultSet r = s.executeQuery()) {
                        r.next();
                        return r.getString(1);
                    }
                }
            });
        }
    }

    @Test
    void onDiskCatalogue_directoryIsOwnerOnly() throws Exception {
        CatalogStore.h2(data, Clock.systemUTC()).close();

        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(data.resolve("catalog"))));
    }
}
