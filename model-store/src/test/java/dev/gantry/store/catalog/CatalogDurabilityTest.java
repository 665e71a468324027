package dev.gantry.store.catalog;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The on-disk catalogue commits without delay and keeps its files to its owner. */
class CatalogDurabilityTest {
    @TempDir
    Path data;

    @Test
    void onDiskCatalogue_runsWithNoWriteDelay() {
        try (JdbcCatalogStore store = (JdbcCatalogStore) CatalogStore.h2(data, Clock.systemUTC())) {
            String delay = store.read(c -> {
                try (Statement s = c.createStatement(); ResultSet r = s.executeQuery(
                        "SELECT SETTING_VALUE FROM INFORMATION_SCHEMA.SETTINGS WHERE SETTING_NAME = 'WRITE_DELAY'")) {
                    r.next();
                    return r.getString(1);
                }
            });

            assertEquals("0", delay);
        }
    }

    @Test
    void onDiskCatalogue_directoryIsOwnerOnly() throws Exception {
        CatalogStore.h2(data, Clock.systemUTC()).close();

        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(data.resolve("catalog"))));
    }
}
