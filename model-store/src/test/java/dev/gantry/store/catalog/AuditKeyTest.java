package dev.gantry.store.catalog;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.OffsetDateTime;
import java.util.List;

import static dev.gantry.store.catalog.CatalogFixtures.T0;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The audit chain's key: created 0600 at first open, entries from its first keyed seq on are HMAC-chained and a
 * plain rehash of one is reported; a database whose entries were chained before the key existed keeps
 * verifying, and its later entries cannot be downgraded to plain hashes.
 */
class AuditKeyTest {
    @TempDir
    Path dataDir;

    private final CatalogFixtures.MutableClock clock = new CatalogFixtures.MutableClock(T0);

    private static void entry(CatalogStore store, String target) {
        store.transaction(tx -> tx.audit("alice", "admin", "version.test", target, "{}", "{\"x\":1}"));
    }

    @Test
    void firstOpen_createsAPrivateKeyFile_chainingFromTheFirstEntry() throws Exception {
        try (CatalogStore store = CatalogStore.h2(dataDir, clock)) {
            entry(store, "m/1");
            assertTrue(store.verifyAudit().ok());
        }
        Path key = dataDir.resolve("audit.key");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(key)));
        List<String> lines = Files.readAllLines(key);
        assertTrue(lines.get(0).matches("[0-9a-f]{64}"), lines.toString());
        assertEquals("hmac-from-seq 1", lines.get(1));
    }

    @Test
    void keyedEntry_rehashedWithPlainSha256_isReportedBySeq() throws Exception {
        try (CatalogStore store = CatalogStore.h2(dataDir, clock)) {
            for (int i = 1; i <= 3; i++) {
                entry(store, "m/" + i);
            }
        }
        rehashPlainly(2, "{\"x\":2}");
        try (CatalogStore store = CatalogStore.h2(dataDir, clock)) {
            AuditVerification v = store.verifyAudit();
            assertEquals(2, v.firstBroken().getAsLong(), v.toString());
            assertTrue(v.problem().orElseThrow().contains("HMAC-SHA256"), v.toString());
        }
    }

    @Test
    void databaseChainedBeforeTheKeyExisted_keepsVerifying_andItsLaterEntriesCannotBeDowngraded() throws Exception {
        try (CatalogStore store = CatalogStore.h2(dataDir, clock)) {
            entry(store, "m/1");
            entry(store, "m/2");
        }
        // As an older Gantry left it: every entry plain SHA-256, and no key file.
        rehashPlainly(1, null);
        Files.delete(dataDir.resolve("audit.key"));
        try (CatalogStore store = CatalogStore.h2(dataDir, clock)) {
            assertTrue(store.verifyAudit().ok(), store.verifyAudit().toString());
            entry(store, "m/3");
            entry(store, "m/4");
            assertTrue(store.verifyAudit().ok(), store.verifyAudit().toString());
        }
        assertTrue(Files.readAllLines(dataDir.resolve("audit.key")).contains("hmac-from-seq 3"));

        rehashPlainly(4, "{\"x\":\"forged\"}");
        try (CatalogStore store = CatalogStore.h2(dataDir, clock)) {
            assertEquals(4, store.verifyAudit().firstBroken().getAsLong());
        }
    }

    @Test
    void operatorKeyFileWithoutItsSeqLine_getsIt_andABadKeyIsRefusedNamingTheFile() throws Exception {
        Path key = dataDir.resolve("operator.key");
        Files.writeString(key, "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n");
        try (CatalogStore store = CatalogStore.h2(dataDir, clock, java.util.Optional.of(key))) {
            entry(store, "m/1");
            assertTrue(store.verifyAudit().ok());
        }
        assertTrue(Files.readAllLines(key).contains("hmac-from-seq 1"));
        assertFalse(Files.exists(dataDir.resolve("audit.key")));

        Path shortKey = dataDir.resolve("short.key");
        Files.writeString(shortKey, "abcd\n");
        CatalogStoreException e = assertThrows(CatalogStoreException.class,
                () -> CatalogStore.h2(dataDir.resolve("other"), clock, java.util.Optional.of(shortKey)));
        assertTrue(e.getMessage().contains(shortKey.toString()), e.getMessage());
    }

    @Test
    void serversCreatingOneKeyFileAtOnce_allGetTheKeyTheFileHolds_andNoTemporaryFileIsLeft() throws Exception {
        // Two servers first started together on one database with the same --audit-key-file used to write two
        // random keys: the one whose rename landed last won the file, the other chained with a key nobody kept.
        int writers = 8;
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(writers);
        try {
            for (int round = 0; round < 20; round++) {
                Path key = dataDir.resolve("round-" + round).resolve("audit.key");
                java.util.concurrent.CyclicBarrier start = new java.util.concurrent.CyclicBarrier(writers);
                List<java.util.concurrent.Future<AuditKey>> opened = new java.util.ArrayList<>();
                for (int w = 0; w < writers; w++) {
                    opened.add(pool.submit(() -> {
                        start.await();
                        return AuditKey.openOrCreate(key, 1);
                    }));
                }
                java.util.Set<String> fingerprints = new java.util.HashSet<>();
                for (java.util.concurrent.Future<AuditKey> f : opened) {
                    fingerprints.add(f.get().fingerprint());
                }
                AuditKey fromFile = AuditKey.openOrCreate(key, 99);
                assertEquals(java.util.Set.of(fromFile.fingerprint()), fingerprints, "round " + round);
                try (java.util.stream.Stream<Path> left = Files.list(key.getParent())) {
                    assertEquals(List.of(key), left.toList(), "round " + round);
                }
                assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(key)));
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /** Sets entry {@code from}'s after (when given) and rehashes it and every later entry with plain SHA-256. */
    private void rehashPlainly(long from, String newAfter) throws Exception {
        try (Connection c = CatalogFixtures.raw(dataDir)) {
            if (newAfter != null) {
                try (PreparedStatement p = c.prepareStatement("UPDATE audit SET after = ? WHERE seq = ?")) {
                    p.setString(1, newAfter);
                    p.setLong(2, from);
                    p.executeUpdate();
                }
            }
            String prev = null;
            try (PreparedStatement p = c.prepareStatement("SELECT seq, at, actor, role, action, target, before, after,"
                    + " prev_hash FROM audit WHERE seq >= ? ORDER BY seq");
                 PreparedStatement u = c.prepareStatement("UPDATE audit SET prev_hash = ?, hash = ? WHERE seq = ?")) {
                p.setLong(1, from);
                try (ResultSet rs = p.executeQuery()) {
                    while (rs.next()) {
                        String prevHash = prev == null ? rs.getString(9) : prev;
                        String hash = AuditChain.hash(prevHash, rs.getLong(1),
                                rs.getObject(2, OffsetDateTime.class).toInstant(), rs.getString(3), rs.getString(4),
                                rs.getString(5), rs.getString(6), rs.getString(7), rs.getString(8));
                        u.setString(1, prevHash);
                        u.setString(2, hash);
                        u.setLong(3, rs.getLong(1));
                        u.executeUpdate();
                        prev = hash;
                    }
                }
            }
        }
    }
}
