package dev.gantry.core.journal;

import dev.gantry.core.model.ModelId;
import dev.gantry.core.scheduling.ModelExecutor;

import java.nio.file.Path;
import java.util.List;

/**
 * Records which model version each thread is executing natively, in a memory-mapped file that outlives a crash
 * of the process, so that the next start can name the version that was running when the process died.
 */
public interface CrashJournal extends AutoCloseable {

    /**
     * Opens {@code <dataDir>/crash-journal}: reads what the previous process left in it, then starts a fresh
     * journal for this process.
     *
     * @throws java.io.UncheckedIOException if the file cannot be created or mapped
     */
    static CrashJournal open(Path dataDir) {
        return MappedCrashJournal.open(dataDir);
    }

    /** A journal that records nothing and found nothing (tests with fake executors). */
    static CrashJournal none() {
        return NoJournal.INSTANCE;
    }

    /**
     * The versions that were executing when the previous process died of a fatal error (it left a crash report):
     * they should not be served again until someone has looked at them.
     */
    default List<ModelId> crashedLastRun() {
        return previousRun().stream().filter(ExecutingAtExit::crashed).map(ExecutingAtExit::version).distinct()
                .toList();
    }

    /** Every version the previous process was executing when it ended without shutting down. */
    List<ExecutingAtExit> previousRun();

    /** {@code executor}, recording each of its runs under {@code version} while the run is in native code. */
    ModelExecutor watch(ModelId version, ModelExecutor executor);

    @Override
    void close();

    /**
     * A version that was executing when the previous process ended.
     *
     * @param pid    the previous process
     * @param report its fatal error report; empty when it left none (it was killed: SIGKILL, the OOM killer)
     */
    record ExecutingAtExit(ModelId version, long pid, java.util.Optional<CrashReports.Fatal> report) {
        public boolean crashed() {
            return report.isPresent();
        }

        /** The reason recorded when the version is suspended. */
        public String describe() {
            return report.map(r -> "the server process (pid " + pid + ") crashed with " + r.describe()
                    + " while executing version " + version.version() + " of model '" + version.name()
                    + "'; crash report " + r.report()).orElse("the server process (pid " + pid
                    + ") ended without a crash report while executing version " + version.version() + " of model '"
                    + version.name() + "' (killed from outside?)");
        }
    }

    /** The journal of {@link #none()}. */
    enum NoJournal implements CrashJournal {
        INSTANCE;

        @Override
        public List<ExecutingAtExit> previousRun() {
            return List.of();
        }

        @Override
        public ModelExecutor watch(ModelId version, ModelExecutor executor) {
            return executor;
        }

        @Override
        public void close() {
        }
    }
}
