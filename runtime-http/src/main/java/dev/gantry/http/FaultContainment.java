package dev.gantry.http;

import dev.gantry.core.governance.Governance;
import dev.gantry.core.isolation.Isolation;
import dev.gantry.core.journal.CrashJournal;
import dev.gantry.core.journal.CrashReports;
import dev.gantry.core.metrics.MetricNames;
import dev.gantry.core.sandbox.Sandbox;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.function.Supplier;

/** The server's side of fault containment: its sandbox, and what the crash journal found at start. */
final class FaultContainment {
    private static final Logger log = LoggerFactory.getLogger(FaultContainment.class);

    private FaultContainment() {
    }

    /** The sandbox the server's lifecycle uses: off when --sandbox false. */
    static Sandbox sandbox(ServerConfig config, MeterRegistry registry) {
        if (!config.faults().sandbox()) {
            log.warn("the sandbox is off (--sandbox false): a model whose kernel crashes on its first run takes"
                    + " this server down with it");
            return Sandbox.off();
        }
        return Sandbox.childProcess(config.dataDir(), config.faults().sandboxVerdicts()
                .orElse(config.dataDir().resolve("sandbox")), config.lifecycleSettings(), registry);
    }

    /**
     * Worker processes for models with {@code gantry.isolation: "process"}; a version whose worker keeps crashing
     * is suspended through {@code governance} (read when it happens: it is created after the lifecycle).
     */
    static Isolation isolation(ServerConfig config, Supplier<Governance> governance) {
        return Isolation.workers(config.dataDir(), (id, reason) -> {
            log.error("{}: {}; suspending it", id, reason);
            try {
                governance.get().suspend(id.name(), id.version(), "system", "system", reason);
            } catch (RuntimeException e) {
                log.error("could not suspend {}: {}", id, e.getMessage());
            }
        });
    }

    /**
     * Logs and counts what the previous process was executing when it ended, and returns the versions that
     * crashed it (to be suspended).
     */
    static List<CrashJournal.ExecutingAtExit> crashesFound(CrashJournal journal, ServerConfig config,
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
        log.info("JVM crash reports of this server go to {}", CrashReports.directory(config.dataDir())
                .toAbsolutePath().normalize());
        return journal.previousRun().stream().filter(CrashJournal.ExecutingAtExit::crashed).toList();
    }
}
