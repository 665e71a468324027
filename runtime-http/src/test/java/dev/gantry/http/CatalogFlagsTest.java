package dev.gantry.http;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** --catalog selects the catalogue database; its password never comes from the command line. */
class CatalogFlagsTest {
    @TempDir
    Path dir;

    @Test
    void noCatalogFlag_keepsTheEmbeddedDatabase() throws Exception {
        assertTrue(ServerConfigParser.parse(List.of(), Map.of()).security().catalog().isEmbedded());
    }

    @Test
    void catalogFlag_selectsPostgres_withUserAndPasswordFromTheEnvironment() throws Exception {
        ServerConfig c = ServerConfigParser.parse(List.of("--catalog", "jdbc:postgresql://db:5432/gantry"),
                Map.of("GANTRY_CATALOG_USER", "gantry", "GANTRY_CATALOG_PASSWORD", "s3cret"));

        assertEquals(Optional.of("jdbc:postgresql://db:5432/gantry"), c.security().catalog().jdbcUrl());
        assertEquals("jdbc:postgresql://db:5432/gantry as gantry (with a password)", c.security().catalog().toString());
    }

    @Test
    void catalogFlag_fromTheEnvironment_withThePasswordFile() throws Exception {
        Path pw = Files.writeString(dir.resolve("pw"), "s3cret\n");

        ServerConfig c = ServerConfigParser.parse(List.of("--catalog-password-file", pw.toString()),
                Map.of("GANTRY_CATALOG", "jdbc:postgresql://db/gantry"));

        assertEquals("jdbc:postgresql://db/gantry (with a password)", c.security().catalog().toString());
    }

    @Test
    void passwordInTheCatalogUrl_isRefused_withoutEchoingIt() {
        var e = assertThrows(ServerConfigParser.ConfigException.class, () -> ServerConfigParser.parse(
                List.of("--catalog", "jdbc:postgresql://db/gantry?user=g&password=s3cret"), Map.of()));

        assertTrue(e.getMessage().startsWith("--catalog: the catalogue URL must not contain a password"),
                e.getMessage());
        assertTrue(e.getMessage().contains("--catalog-password-file"), e.getMessage());
        assertFalse(e.getMessage().contains("s3cret"), e.getMessage());
    }

    @Test
    void passwordFile_withoutCatalog_isRefused() {
        var e = assertThrows(ServerConfigParser.ConfigException.class, () -> ServerConfigParser.parse(
                List.of("--catalog-password-file", dir.resolve("pw").toString()), Map.of()));

        assertEquals("--catalog-password-file is only used with --catalog jdbc:postgresql://...; the embedded "
                + "catalogue has no password", e.getMessage());
    }

    @Test
    void missingPasswordFile_isRefusedNamingIt() {
        Path missing = dir.resolve("missing");
        var e = assertThrows(ServerConfigParser.ConfigException.class, () -> ServerConfigParser.parse(
                List.of("--catalog", "jdbc:postgresql://db/gantry", "--catalog-password-file", missing.toString()),
                Map.of()));

        assertEquals("--catalog-password-file " + missing + " does not exist or cannot be read", e.getMessage());
    }
}
