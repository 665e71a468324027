package dev.gantry.store.catalog;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Clock;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What only a shared PostgreSQL catalogue does: servers must agree on the audit key, and bad credentials are named. */
class PostgresCatalogTest {
    @TempDir
    Path dir;

    @Test
    void aServerWithAnotherAuditKey_cannotOpenTheSharedCatalogue() {
        CatalogLocation shared = CatalogBackend.TestPostgres.freshSchema();
        try (CatalogStore first = CatalogStore.postgres(shared, Clock.systemUTC(), dir.resolve("a.key"))) {
            first.transaction(tx -> tx.audit("alice", "admin", "test", "m", "", ""));

            CatalogStoreException e = assertThrows(CatalogStoreException.class,
                    () -> CatalogStore.postgres(shared, Clock.systemUTC(), dir.resolve("b.key")));

            assertTrue(e.getMessage().startsWith("the audit key " + dir.resolve("b.key") + " is not the key the "
                    + "other servers sharing this catalogue database chain the audit trail with"), e.getMessage());
            assertTrue(e.getMessage().endsWith("give every server the same --audit-key-file"), e.getMessage());
        }
    }

    @Test
    void serversWithTheSameAuditKey_shareTheCatalogue() {
        CatalogLocation shared = CatalogBackend.TestPostgres.freshSchema();
        Path key = dir.resolve("audit.key");
        try (CatalogStore first = CatalogStore.postgres(shared, Clock.systemUTC(), key);
             CatalogStore second = CatalogStore.postgres(shared, Clock.systemUTC(), key)) {
            first.transaction(tx -> tx.audit("alice", "admin", "test", "m", "", ""));
            second.transaction(tx -> tx.audit("bob", "admin", "test", "m", "", ""));

            assertEquals(AuditVerification.intact(2), first.verifyAudit());
        }
    }

    @Test
    void serversStartingTogetherOnAnEmptyDatabase_migrateItOnce_andBothOpen() throws Exception {
        CatalogLocation shared = CatalogBackend.TestPostgres.freshSchema();
        Path key = dir.resolve("audit.key");
        AuditKey.openOrCreate(key, 1); // provisioned beforehand, as a shared secret is
        java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.ExecutorService two = java.util.concurrent.Executors.newFixedThreadPool(2);
        try {
            java.util.List<java.util.concurrent.Future<CatalogStore>> opened = new java.util.ArrayList<>();
            for (int i = 0; i < 2; i++) {
                opened.add(two.submit(() -> {
                    go.await();
                    return CatalogStore.postgres(shared, Clock.systemUTC(), key);
                }));
            }
            go.countDown();
            for (java.util.concurrent.Future<CatalogStore> f : opened) {
                try (CatalogStore s = f.get(60, java.util.concurrent.TimeUnit.SECONDS)) {
                    assertEquals(Migrations.latest(), s.schemaVersion());
                }
            }
        } finally {
            two.shutdownNow();
        }
    }

    @Test
    void wrongPassword_failsOnOpen_withTheDatabasesReason() {
        CatalogLocation good = CatalogBackend.TestPostgres.freshSchema();
        String url = good.url().replace("user=postgres", "user=nobody");
        CatalogLocation bad = CatalogLocation.postgres(url, Optional.empty(), Optional.of("wrong"));

        CatalogStoreException e = assertThrows(CatalogStoreException.class,
                () -> CatalogStore.postgres(bad, Clock.systemUTC(), dir.resolve("audit.key")));

        assertTrue(e.getMessage().startsWith("cannot connect to the catalogue database " + url + ": "), e.getMessage());
        assertTrue(e.getMessage().contains("nobody"), e.getMessage());
    }
}
