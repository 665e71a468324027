package dev.gantry.http.auth;

import dev.gantry.core.access.Role;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.util.Optional;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;

class KeyFilePermissionsTest {
    @TempDir
    Path data;

    @Test
    void keyFile_isWrittenOwnerOnly() throws Exception {
        KeyStore keys = KeyStore.open(data, Clock.systemUTC());

        keys.create("ops", Set.of(Role.ADMIN), Set.of(), Optional.empty(), Optional.empty());

        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(
                data.resolve("keys.json"))));
    }
}
