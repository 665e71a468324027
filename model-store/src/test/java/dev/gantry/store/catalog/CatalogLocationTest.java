package dev.gantry.store.catalog;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Where the catalogue is, and where its credentials may come from: never from the URL. */
class CatalogLocationTest {
    @TempDir
    Path dir;

    @Test
    void postgresUrl_withPasswordParameter_isRefused_withoutRepeatingIt() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CatalogLocation.postgres(
                "jdbc:postgresql://db:5432/gantry?user=g&Password=s3cret", Optional.empty(), Optional.empty()));

        assertTrue(e.getMessage().startsWith("the catalogue URL must not contain a password"), e.getMessage());
        assertFalse(e.getMessage().contains("s3cret"), e.getMessage());
    }

    @Test
    void postgresUrl_withUserInfo_isRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CatalogLocation.postgres(
                "jdbc:postgresql://g:s3cret@db/gantry", Optional.empty(), Optional.empty()));

        assertFalse(e.getMessage().contains("s3cret"), e.getMessage());
    }

    @Test
    void otherUrls_areRefusedNamingTheExpectedForm() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CatalogLocation.postgres(
                "jdbc:mysql://db/gantry", Optional.empty(), Optional.empty()));

        assertEquals("the catalogue URL must look like jdbc:postgresql://host:port/database (or be left out for the "
                + "embedded H2 database), was 'jdbc:mysql://db/gantry'", e.getMessage());
    }

    @Test
    void password_comesFromTheFileBeforeTheEnvironment_andIsNeverShown() throws Exception {
        Path file = Files.writeString(dir.resolve("pw"), "from-file\n");

        CatalogLocation l = CatalogLocation.postgres("jdbc:postgresql://db/gantry", Optional.of(file),
                Map.of(CatalogLocation.USER_ENV, "gantry", CatalogLocation.PASSWORD_ENV, "from-env"));

        assertEquals(Optional.of("from-file"), l.password());
        assertEquals(Optional.of("gantry"), l.user());
        assertEquals("jdbc:postgresql://db/gantry as gantry (with a password)", l.toString());
    }

    @Test
    void password_fromTheEnvironment_whenNoFile() {
        CatalogLocation l = CatalogLocation.postgres("jdbc:postgresql://db/gantry", Optional.empty(),
                Map.of(CatalogLocation.PASSWORD_ENV, "from-env"));

        assertEquals(Optional.of("from-env"), l.password());
        assertEquals(Optional.empty(), l.user());
    }

    @Test
    void emptyPasswordFile_isRefusedNamingIt() throws Exception {
        Path file = Files.writeString(dir.resolve("pw"), "\n");

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CatalogLocation.postgres(
                "jdbc:postgresql://db/gantry", Optional.of(file), Map.of()));

        assertEquals("catalogue password file " + file + " is empty", e.getMessage());
    }
}
