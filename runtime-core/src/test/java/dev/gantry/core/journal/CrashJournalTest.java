package dev.gantry.core.journal;

import dev.gantry.core.inference.Tensor;
import dev.gantry.core.model.ModelId;
import dev.gantry.core.model.ModelSignature;
import dev.gantry.core.scheduling.ModelExecutor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The journal as the next process sees it. A journal opened while another journal on the same file has an
 * execution in progress reads exactly what a start after a crash at that moment would read.
 */
class CrashJournalTest {
    private static final ModelId DIV = new ModelId("div", 3);
    private static final ModelId MLP = new ModelId("mlp", 1);

    @TempDir
    Path data;

    /** Runs until released, so that a second open sees it executing. */
    static final class Blocking implements ModelExecutor {
        final CountDownLatch entered = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);

        @Override
        public ModelSignature signature() {
            throw new UnsupportedOperationException();
        }

        @Override
        public List<Tensor> run(List<Tensor> inputs, Set<String> outputs) {
            entered.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return List.of();
        }

        @Override
        public void close() {
        }
    }

    private Blocking executingIn(CrashJournal journal, ModelId id) throws InterruptedException {
        Blocking blocking = new Blocking();
        ModelExecutor watched = journal.watch(id, blocking);
        journal.watch(MLP, blocking);
        Thread.ofPlatform().daemon(true).start(() -> watched.run(List.of(), Set.of()));
        blocking.entered.await();
        return blocking;
    }

    @Test
    void versionExecutingWhenTheProcessDiedWithACrashReport_isNamedAsCrashed() throws Exception {
        CrashJournal previous = CrashJournal.open(data);
        Blocking running = executingIn(previous, DIV);
        Files.createDirectories(CrashReports.directory(data));
        Files.writeString(CrashReports.directory(data).resolve("hs_err_pid" + ProcessHandle.current().pid() + ".log"),
                "#\n# A fatal error has been detected by the Java Runtime Environment:\n#\n"
                        + "#  SIGFPE (0x8) at pc=0x00007f2f62ffc979, pid=1, tid=2\n#\n# Problematic frame:\n"
                        + "# C  [libonnxruntime.so+0x5fc979]\n");

        CrashJournal next = CrashJournal.open(data);

        assertEquals(List.of(DIV), next.crashedLastRun());
        assertTrue(next.previousRun().get(0).describe().contains("crashed with SIGFPE in libonnxruntime.so while"
                + " executing version 3 of model 'div'"), next.previousRun().get(0).describe());
        running.release.countDown();
    }

    @Test
    void versionExecutingWhenTheProcessWasKilledWithoutAReport_isReportedButNotCrashed() throws Exception {
        CrashJournal previous = CrashJournal.open(data);
        Blocking running = executingIn(previous, DIV);

        CrashJournal next = CrashJournal.open(data);

        assertEquals(List.of(DIV), next.previousRun().stream().map(CrashJournal.ExecutingAtExit::version).toList());
        assertFalse(next.previousRun().get(0).crashed());
        assertEquals(List.of(), next.crashedLastRun());
        running.release.countDown();
    }

    @Test
    void executionThatFinished_leavesNothingForTheNextStart() throws Exception {
        CrashJournal previous = CrashJournal.open(data);
        Blocking finishing = new Blocking();
        finishing.release.countDown();
        previous.watch(DIV, finishing).run(List.of(), Set.of());

        CrashJournal next = CrashJournal.open(data);

        assertEquals(List.of(), next.previousRun());
    }

    @Test
    void aThreadAttachedBeforeItsFirstRun_isJournaledLikeAnyOther() throws Exception {
        CrashJournal previous = CrashJournal.open(data);
        Blocking blocking = new Blocking();
        ModelExecutor watched = previous.watch(DIV, blocking);
        Thread.ofPlatform().daemon(true).start(() -> {
            watched.attachThread();
            watched.attachThread();
            watched.run(List.of(), Set.of());
        });
        blocking.entered.await();

        CrashJournal next = CrashJournal.open(data);

        assertEquals(List.of(DIV), next.previousRun().stream().map(CrashJournal.ExecutingAtExit::version).toList());
        blocking.release.countDown();
    }
}
