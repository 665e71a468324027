package dev.gantry.core.governance;

import dev.gantry.store.catalog.AuditEntry;
import dev.gantry.store.catalog.AuditQuery;
import dev.gantry.store.catalog.AuditVerification;
import dev.gantry.store.catalog.CatalogStore;
import dev.gantry.store.catalog.ReleaseRecord;
import dev.gantry.store.catalog.ReleaseStage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;

import static dev.gantry.core.governance.GovernanceFixture.DIGEST;
import static dev.gantry.core.governance.GovernanceFixture.M;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A change is visible to other threads' catalogue reads from its commit, and reaches the serving path when this
 * server publishes it, a moment later (after the commit's sync to disk). A client that polls a version's stage and
 * then calls it must not fall into that moment: a stage read through governance is the stage requests are served
 * by. (A CI run once read VALIDATED and was refused as VALIDATING.)
 */
class GovernancePublishTest {
    private final GovernanceFixture.MutableClock clock = new GovernanceFixture.MutableClock(GovernanceFixture.T0);
    private final HeldAfterCommit store = new HeldAfterCommit(CatalogStore.inMemory(clock));
    private final Governance gov = Governance.create(store, CardPolicy.defaults(), clock);

    @AfterEach
    void close() {
        store.release();
        store.close();
    }

    @Test
    void stageReadBetweenCommitAndPublish_waitsForThePublish_soTheServingPathAgreesWithIt() throws Exception {
        gov.register(M, 1, DIGEST, 10, Actors.as("uploader", "deploy"));
        gov.validationStarted(M, 1, Actors.as("system", "system"));

        String read = readBetweenCommitAndPublish(() -> gov.version(M, 1).orElseThrow().stage() + " read, "
                + served() + " served");

        assertEquals("VALIDATED read, VALIDATED served", read);
    }

    @Test
    void catalogueListedBetweenCommitAndPublish_waitsForThePublish() throws Exception {
        gov.register(M, 1, DIGEST, 10, Actors.as("uploader", "deploy"));
        gov.register(M, 2, "sha256:" + "b".repeat(64), 10, Actors.as("uploader", "deploy"));
        gov.validationStarted(M, 1, Actors.as("system", "system"));

        String read = readBetweenCommitAndPublish(() -> {
            List<ReleaseRecord> all = gov.versions();
            return all.get(0).stage() + " listed, " + served() + " served; " + all.size() + " versions";
        });

        assertEquals("VALIDATED listed, VALIDATED served; 2 versions", read);
    }

    /**
     * Validates version 1 (VALIDATING now) with its transaction held after the commit, runs {@code read} on another
     * thread in that moment, lets the transaction go once the reader waits (or has answered), and returns what
     * the reader made.
     */
    private String readBetweenCommitAndPublish(Supplier<String> read) throws Exception {
        store.holdNext();
        CompletableFuture<ReleaseRecord> writer = CompletableFuture.supplyAsync(
                () -> gov.validationSucceeded(M, 1, Actors.as("system", "system")));
        assertTrue(store.committed.await(30, TimeUnit.SECONDS), "the transition committed");
        assertEquals(ReleaseStage.VALIDATING, served(), "committed, not yet published: the moment in question");

        CompletableFuture<String> result = new CompletableFuture<>();
        Thread reader = Thread.ofPlatform().start(() -> result.complete(read.get()));
        awaitBlockedOrDone(reader, result);
        store.release();

        assertEquals(ReleaseStage.VALIDATED, writer.get(30, TimeUnit.SECONDS).stage());
        return result.get(30, TimeUnit.SECONDS);
    }

    @Test
    void stageReadWithNothingPending_doesNotWait() throws Exception {
        gov.register(M, 1, DIGEST, 10, Actors.as("uploader", "deploy"));
        gov.validationStarted(M, 1, Actors.as("system", "system"));
        gov.validationSucceeded(M, 1, Actors.as("system", "system"));

        String read = readElsewhere();

        assertEquals("VALIDATED read, VALIDATED served", read);
    }

    /**
     * A transaction that fails before its commit leaves nothing pending and the old stage everywhere; one that fails
     * after it (the sync to disk, a commit listener) is published as the catalogue holds it.
     */
    @ParameterizedTest
    @CsvSource({"false, commit failed, REGISTERED", "true, sync failed, VALIDATING"})
    void aFailedTransaction_leavesTheReadAndServedStagesAgreeing(boolean afterCommit, String failure, String stage)
            throws Exception {
        gov.register(M, 1, DIGEST, 10, Actors.as("uploader", "deploy"));
        if (afterCommit) {
            store.failAfterCommitNext();
        } else {
            store.failNext();
        }
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> gov.validationStarted(M, 1, Actors.as("system", "system")));
        assertEquals(failure, e.getMessage());

        assertEquals(stage + " read, " + stage + " served", readElsewhere());
    }

    /** The stage version() reads and the one the serving path has, from a thread that is not the writer. */
    private String readElsewhere() throws Exception {
        return CompletableFuture.supplyAsync(() -> gov.version(M, 1).orElseThrow().stage() + " read, " + served()
                + " served").get(30, TimeUnit.SECONDS);
    }

    private ReleaseStage served() {
        return gov.trafficGate().status(M, 1).orElseThrow().stage();
    }

    /** Until the reader waits (the fixed behaviour) or has answered (what would show the bug). */
    private static void awaitBlockedOrDone(Thread reader, CompletableFuture<String> read) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!read.isDone() && System.nanoTime() < deadline) {
            Thread.State s = reader.getState();
            if (s == Thread.State.TIMED_WAITING || s == Thread.State.WAITING) {
                return;
            }
            Thread.sleep(5);
        }
    }

    /**
     * The in-memory catalogue, able to hold a transaction's thread after its commit (where the real stores sync
     * to disk), to fail the next one after its work ran (a failed commit), or after its commit (a failed sync).
     */
    private static final class HeldAfterCommit implements CatalogStore {
        private final CatalogStore delegate;
        private volatile boolean hold;
        private volatile boolean fail;
        private volatile boolean failAfterCommit;
        final CountDownLatch committed = new CountDownLatch(1);
        private final CountDownLatch released = new CountDownLatch(1);

        HeldAfterCommit(CatalogStore delegate) {
            this.delegate = delegate;
        }

        void holdNext() {
            hold = true;
        }

        void failNext() {
            fail = true;
        }

        void failAfterCommitNext() {
            failAfterCommit = true;
        }

        void release() {
            released.countDown();
        }

        @Override
        public Reads reads() {
            return delegate.reads();
        }

        @Override
        public <T> T transaction(Function<Tx, T> work) {
            if (fail) {
                fail = false;
                delegate.transaction(tx -> {
                    work.apply(tx);
                    throw new IllegalStateException("commit failed");
                });
            }
            T result = delegate.transaction(work);
            if (failAfterCommit) {
                failAfterCommit = false;
                throw new IllegalStateException("sync failed");
            }
            if (hold) {
                hold = false;
                committed.countDown();
                try {
                    released.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return result;
        }

        @Override
        public List<AuditEntry> audit(AuditQuery query) {
            return delegate.audit(query);
        }

        @Override
        public AuditVerification verifyAudit() {
            return delegate.verifyAudit();
        }

        @Override
        public int schemaVersion() {
            return delegate.schemaVersion();
        }

        @Override
        public void close() {
            delegate.close();
        }
    }
}
