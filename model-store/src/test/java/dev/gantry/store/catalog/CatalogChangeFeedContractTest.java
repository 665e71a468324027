package dev.gantry.store.catalog;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;

import static dev.gantry.store.catalog.CatalogFixtures.T0;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * The change feed a replica subscribes to: each change committed through any store on the database, once, in
 * order; a notification that never came is made up for by the periodic check of the chain's head.
 */
@ParameterizedClass(name = "{0}")
@EnumSource(CatalogBackend.class)
class CatalogChangeFeedContractTest {
    /** Long enough that only a notification (PostgreSQL) can deliver within the test's wait. */
    private static final Duration NO_SAFETY_CHECK = Duration.ofMinutes(5);

    @Parameter
    CatalogBackend backend;

    @TempDir
    Path dir;

    private final CatalogFixtures.MutableClock clock = new CatalogFixtures.MutableClock(T0);
    private final BlockingQueue<CatalogChange> received = new LinkedBlockingQueue<>();
    private CatalogBackend.Database db;
    private CatalogStore writer;
    private CatalogStore reader;
    private final List<CatalogChangeFeed> feeds = new ArrayList<>();

    @BeforeEach
    void twoStores() {
        db = backend.fresh(dir);
        CatalogStore[] two = db.openTwo(clock);
        writer = two[0];
        reader = two[1];
    }

    @AfterEach
    void close() {
        feeds.forEach(CatalogChangeFeed::close);
        reader.close();
        writer.close();
    }

    private CatalogChangeFeed feed(CatalogStore on, Duration safetyCheck) {
        CatalogChangeFeed f = CatalogChangeFeed.start(on, safetyCheck, received::add);
        feeds.add(f);
        return f;
    }

    private static AuditEntry change(CatalogStore store, String target) {
        return store.transaction(tx -> tx.audit("alice", "deploy", "policy.apply", target, "", "{}"));
    }

    private CatalogChange next() throws InterruptedException {
        return received.poll(20, TimeUnit.SECONDS);
    }

    @Test
    void changeCommittedThroughAnotherStore_isDelivered_withItsActionAndTarget() throws Exception {
        // H2 shares no notifications between two stores: there the safety check delivers.
        CatalogChangeFeed feed = feed(reader, backend == CatalogBackend.POSTGRESQL ? NO_SAFETY_CHECK
                : Duration.ofMillis(100));

        AuditEntry e = change(writer, "m");

        CatalogChange c = next();
        assertNotNull(c, "no change delivered");
        assertEquals(new CatalogChange(e.seq(), e.time(), "policy.apply", "m", "alice"), c);
        assertEquals(e.seq(), feed.position());
        assertEquals(e.seq(), feed.head());
    }

    @Test
    void changeCommittedThroughTheSameStore_isDelivered_withoutWaitingForTheSafetyCheck() throws Exception {
        feed(writer, NO_SAFETY_CHECK);

        change(writer, "m/1");

        CatalogChange c = next();
        assertNotNull(c, "no change delivered");
        assertEquals("m/1", c.target());
    }

    @Test
    void changesFromBeforeTheFeedStarted_areNotDelivered() throws Exception {
        change(writer, "old");
        feed(reader, Duration.ofMillis(100));

        AuditEntry e = change(writer, "new");

        assertEquals(e.seq(), next().seq());
        assertNull(received.poll(300, TimeUnit.MILLISECONDS), "only the change after the start: " + received);
    }

    @Test
    void aChangeThatSentNoNotification_isDeliveredByTheSafetyCheck() throws Exception {
        feed(reader, Duration.ofMillis(200));
        // An entry written behind the stores' back: no notification, no local commit signal.
        try (Connection c = db.raw(); PreparedStatement p = c.prepareStatement("INSERT INTO audit (seq, at, actor, "
                + "role, action, target, before, after, prev_hash, hash) VALUES (1, ?, 'x', 'x', 'raw', 'm', '', '', ?, ?)")) {
            p.setObject(1, JdbcCatalog.ts(T0));
            p.setString(2, AuditChain.GENESIS);
            p.setString(3, AuditChain.GENESIS);
            p.executeUpdate();
        }

        CatalogChange c = next();
        assertNotNull(c, "the safety check never delivered the change");
        assertEquals("raw", c.action());
    }

    @Test
    void changesFromTwoStoresAtOnce_areEachDeliveredOnce_inSeqOrder() throws Exception {
        feed(reader, Duration.ofMillis(100));
        // Two stores only where two processes can share the database; on H2 two threads share one store.
        CatalogStore second = backend == CatalogBackend.POSTGRESQL ? reader : writer;
        int each = 8;
        Thread other = Thread.ofPlatform().start(() -> {
            for (int i = 0; i < each; i++) {
                change(second, "r");
            }
        });
        for (int i = 0; i < each; i++) {
            change(writer, "w");
        }
        other.join();

        List<Long> seqs = new ArrayList<>();
        for (int i = 0; i < 2 * each; i++) {
            CatalogChange c = next();
            assertNotNull(c, "only " + seqs.size() + " changes delivered");
            seqs.add(c.seq());
        }
        assertEquals(LongStream.rangeClosed(1, 2 * each).boxed().toList(), seqs);
        assertNull(received.poll(300, TimeUnit.MILLISECONDS), "nothing twice");
    }
}
