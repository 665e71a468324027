package dev.gantry.http.auth;

import dev.gantry.core.access.Role;
import dev.gantry.core.error.GantryException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Optional;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The first admin key from a token chosen outside Gantry (GANTRY_BOOTSTRAP_ADMIN_TOKEN). */
class KeyStoreBootstrapTest {
    static final String TOKEN = "gantry_0123456789ab_" + "s".repeat(40);

    @Test
    void bootstrapToken_becomesTheAdminKey_whileNoKeyExists_andIsStoredOnlyAsAHash(@TempDir Path data) throws Exception {
        KeyStore keys = KeyStore.open(data, Clock.systemUTC());
        ApiKey key = keys.bootstrapFrom(TOKEN, "admin").orElseThrow();
        assertEquals(Set.of(Role.ADMIN), key.roles());
        assertInstanceOf(KeyStore.Verification.Valid.class, keys.verify(TOKEN));
        assertFalse(Files.readString(data.resolve("keys.json")).contains("s".repeat(40)));
    }

    @Test
    void bootstrapToken_isIgnoredOnceAnyKeyExists(@TempDir Path data) {
        KeyStore keys = KeyStore.open(data, Clock.systemUTC());
        keys.create("first", Set.of(Role.INVOKE), Set.of(), Optional.empty(), Optional.empty());
        assertTrue(keys.bootstrapFrom(TOKEN, "admin").isEmpty());
        assertInstanceOf(KeyStore.Verification.Invalid.class, keys.verify(TOKEN));
    }

    @Test
    void bootstrapToken_thatIsTooWeakOrMalformed_isRefused(@TempDir Path data) {
        KeyStore keys = KeyStore.open(data, Clock.systemUTC());
        assertThrows(GantryException.class, () -> keys.bootstrapFrom("gantry_0123456789ab_short", "admin"));
        assertThrows(GantryException.class, () -> keys.bootstrapFrom("hunter2", "admin"));
        assertTrue(keys.isEmpty());
    }
}
