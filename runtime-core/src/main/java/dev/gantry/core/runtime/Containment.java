package dev.gantry.core.runtime;

import dev.gantry.core.isolation.Isolation;
import dev.gantry.core.journal.CrashJournal;
import dev.gantry.core.journal.CrashReports;
import dev.gantry.core.metrics.MetricNames;
import dev.gantry.core.model.ModelId;
import dev.gantry.core.lifecycle.Sandbox;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.List;
import java.util.function.BiConsumer;

/** How the core contains native faults in models: the first-run sandbox, worker isolation, the crash journal. */
final class Containment {
    private static final Logger log = LoggerFactory.getLogger(Containment.class);

    private Containment() {
    }

    /** The sandbox the lifecycle uses: off when the settings say so. */
    static Sandbox sandbox(RuntimeSettings settings, MeterRegistry registry) {
        if (!settings.sandbox()) {
            log.warn("the sandbox is off (--sandbox false): a model whose kernel crashes on its first run takes"
                    + " this server down with it");
            return Sandbox.off();
        }
        return dev.gantry.core.sandbox.Sandboxes.childProcess(settings.dataDir(), settings.sandboxVerdicts()
                .orElse(settings.dataDir().resolve("sandbox")), settings.lifecycle(), registry);
    }

    /** Worker processes for models with {@code gantry.isolation: "process"}. */
    static Isolation isolation(Path dataDir, BiConsumer<ModelId, String> onRepeatedCrashes) {
        return Isolation.workers(dataDir, onRepeatedCrashes);
    }

    /**
     * Logs and counts what the previous process was executing when it ended, and returns the versions that
     * crashed it (to be suspended).
     */
    static List<CrashJournal.ExecutingAtExit> crashesFound(CrashJournal journal, Path dataDir,
                                                           MeterRegistry registry) {
        for (CrashJournal.ExecutingAtExit e : journal.previousRun()) {
            if (e.crashed()) {
                log.error("crash journal: {}; suspending it", e.describe());
                Counter.builder(MetricNames.CRASHES_FOUND.meterName())
                        .description("Versions executing when the previous server process crashed")
                        .tags("model", e.version().name(), "version", Long.toString(e.version().version()))
                        .register(registry).increment();
            } else {
                log.warn("crash journal: {}; not suspended", e.describe());
            }
        }
        log.info("JVM crash reports of this server go to {}", CrashReports.directory(dataDir).toAbsolutePath()
                .normalize());
        return journal.previousRun().stream().filter(CrashJournal.ExecutingAtExit::crashed).toList();
    }

    /** Keeps a version that crashed the previous process unloaded while it is SUSPENDED (until an admin resumes it). */
    static dev.gantry.core.lifecycle.ModelLifecycle.LoadGuard guard(CrashJournal journal,
                                                                 dev.gantry.core.governance.TrafficGate gate) {
        List<CrashJournal.ExecutingAtExit> crashed = journal.previousRun().stream()
                .filter(CrashJournal.ExecutingAtExit::crashed).toList();
        return id -> crashed.stream().filter(c -> c.version().equals(id)).findFirst()
                .filter(c -> gate.status(id.name(), id.version())
                        .map(s -> s.stage() == dev.gantry.store.catalog.ReleaseStage.SUSPENDED).orElse(true))
                .map(c -> "not loaded: " + c.describe() + "; the version stays out of service until an admin"
                        + " resumes it");
    }
}
