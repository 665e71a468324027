package dev.gantry.store.catalog;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The append-only catalogue file gives its space back at open, by a copy, keeping every commit. */
class H2CompactionTest {
    private static final Instant T0 = Instant.parse("2026-11-30T00:00:00Z");

    @TempDir
    Path data;

    private Path file() {
        return data.resolve("catalog").resolve("gantry.mv.db");
    }

    private Path base() {
        return data.resolve("catalog").resolve("gantry");
    }

    /** Commits one by one, as the server does: every commit appends a chunk. */
    private void commit(int changes) {
        try (CatalogStore store = CatalogStore.h2(data, Clock.systemUTC())) {
            for (int i = 0; i < changes; i++) {
                int n = i;
                store.transaction(tx -> tx.audit("alice", "admin", "version.test", "m/" + n, "{}", "{\"i\":" + n + "}"));
            }
        }
    }

    @Test
    void grownFile_isCompactedAtOpen_keepingEveryCommitAndAVerifiedAuditChain() throws Exception {
        commit(300);
        long grown = Files.size(file());

        assertTrue(H2Compaction.compactIfLarger(base(), 0));

        assertTrue(Files.size(file()) < grown / 4, "compacted " + Files.size(file()) + " of " + grown + " bytes");
        try (CatalogStore store = CatalogStore.h2(data, Clock.systemUTC())) {
            assertEquals(300, store.audit(AuditQuery.all().limit(1000)).size());
            AuditVerification v = store.verifyAudit();
            assertTrue(v.ok(), v.toString());
            assertEquals(300, v.checked());
        }
    }

    @Test
    void compactedFile_takesFurtherCommits() {
        commit(50);
        H2Compaction.compactIfLarger(base(), 0);

        commit(5);

        try (CatalogStore store = CatalogStore.h2(data, Clock.systemUTC())) {
            assertEquals(55, store.audit(AuditQuery.all().limit(1000)).size());
            assertTrue(store.verifyAudit().ok());
        }
    }

    @Test
    void fileUnderTheThreshold_isLeftAsItIs() throws Exception {
        commit(5);
        long size = Files.size(file());
        long modified = Files.getLastModifiedTime(file()).toMillis();

        assertFalse(H2Compaction.compactIfLarger(base(), H2Compaction.COMPACT_ABOVE_BYTES));

        assertEquals(size, Files.size(file()));
        assertEquals(modified, Files.getLastModifiedTime(file()).toMillis());
    }

    @Test
    void leftoverOfAnInterruptedCompaction_isDeleted_andTheOldFileKept() throws Exception {
        commit(5);
        Path leftover = base().resolveSibling("gantry.mv.db.compacting");
        Files.write(leftover, new byte[]{1, 2, 3}); // what a kill half-way through the copy leaves

        assertFalse(H2Compaction.compactIfLarger(base(), H2Compaction.COMPACT_ABOVE_BYTES));

        assertFalse(Files.exists(leftover));
        try (CatalogStore store = CatalogStore.h2(data, Clock.systemUTC())) {
            assertEquals(5, store.audit(AuditQuery.all().limit(100)).size());
        }
    }
}
