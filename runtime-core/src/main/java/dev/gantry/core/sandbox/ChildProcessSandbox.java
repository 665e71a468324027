package dev.gantry.core.sandbox;

import dev.gantry.core.lifecycle.Sandbox;
import dev.gantry.core.journal.CrashReports;
import dev.gantry.core.lifecycle.LifecycleSettings;
import dev.gantry.store.repository.ModelEntry;
import dev.gantry.store.repository.ModelVersionEntry;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/** The sandbox of {@link Sandbox#childProcess}: one child JVM running {@link SandboxMain} per unchecked artifact. */
final class ChildProcessSandbox implements Sandbox {
    /*
     * Protocol. The child gets the repository root, the model, the version and the execution settings as
     * arguments, and a result file to which it appends one line as each phase begins ("phase warm-up") and a
     * last line when it is done ("state READY" or "state UNAVAILABLE <reason>"); then it exits 0. Anything else
     * is a crash: the last phase line says where, and the child's JVM report (-XX:ErrorFile into <data>/crash,
     * found by the child's pid) says which signal. A Java exception in the child is not a crash: the child
     * reports it as a state, and the serving process will meet the same exception and handle it as it always
     * does. The child's own output goes to <verdicts>/<sha256>.log.
     *
     * Remembering. A pass, or a crash with a JVM report (a deterministic native fault), is remembered under the
     * artifact's SHA-256 together with a fingerprint of the inputs the load runs with (max_batch_size, dynamic
     * batching, model_warmup): the serving process replays exactly that load, so a pass covers it; different
     * inputs are checked again. A timeout or an exit without a report (killed from outside) is not remembered.
     *
     * Cost. A child JVM starts in about a second; at most two run at a time, so that loading a repository does
     * not start one JVM per model at once on a small machine.
     */
    private static final Logger log = LoggerFactory.getLogger(ChildProcessSandbox.class);
    private static final int PARALLEL = 2;
    private static final Duration TIMEOUT = Duration.ofMinutes(5);

    private final Path dataDir;
    private final Path verdictDir;
    private final Verdicts verdicts;
    private final LifecycleSettings settings;
    private final MeterRegistry registry;
    private final Semaphore permits = new Semaphore(PARALLEL);

    ChildProcessSandbox(Path dataDir, Path verdictDir, LifecycleSettings settings, MeterRegistry registry) {
        this.dataDir = dataDir;
        this.verdictDir = verdictDir;
        this.verdicts = new Verdicts(verdictDir);
        this.settings = settings;
        this.registry = registry;
    }

    @Override
    public Optional<String> firstRun(ModelEntry entry, ModelVersionEntry version) {
        Path file = version.modelFile();
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        String digest = sha256(file);
        String inputs = fingerprint(entry);
        Optional<Verdicts.Verdict> known = verdicts.find(digest).filter(v -> v.inputs().equals(inputs));
        if (known.isPresent()) {
            count("remembered");
            log.info("{}/{}: sandbox verdict remembered for sha256 {} ({}, {})", entry.name(), version.version(),
                    digest, known.get().failure().isEmpty() ? "passed" : "crashed", known.get().checked());
            return known.get().failure();
        }
        permits.acquireUninterruptibly();
        try {
            Outcome outcome = run(entry, version, digest);
            count(outcome.failure().isEmpty() ? "passed" : "crashed");
            if (outcome.remember()) {
                verdicts.remember(digest, new Verdicts.Verdict(inputs, outcome.failure(), Instant.now()));
            }
            return outcome.failure();
        } finally {
            permits.release();
        }
    }

    private record Outcome(Optional<String> failure, boolean remember) {
    }

    private Outcome run(ModelEntry entry, ModelVersionEntry version, String digest) {
        String name = entry.name() + "/" + version.version();
        try {
            Files.createDirectories(verdictDir);
            Files.createDirectories(CrashReports.directory(dataDir));
            Path result = Files.createTempFile(verdictDir, digest, ".phases");
            Path output = verdictDir.resolve(digest + ".log");
            List<String> command = command(entry, version, result);
            long start = System.nanoTime();
            log.info("{}: first run of sha256 {} in a sandbox process", name, digest);
            Process child = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(output.toFile()).start();
            boolean exited;
            try {
                exited = child.waitFor(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                child.destroyForcibly();
                Thread.currentThread().interrupt();
                return new Outcome(Optional.of("the validation process was interrupted"), false);
            }
            List<String> lines = Files.readAllLines(result, StandardCharsets.UTF_8);
            Files.deleteIfExists(result);
            String phase = lines.stream().filter(l -> l.startsWith("phase ")).reduce((a, b) -> b)
                    .map(l -> l.substring("phase ".length())).orElse("start-up");
            if (!exited) {
                child.destroyForcibly();
                return new Outcome(Optional.of("the validation process did not finish within "
                        + TIMEOUT.toMinutes() + " minutes (it was in its " + phase + " phase); its output is in "
                        + output), false);
            }
            Optional<String> state = lines.stream().filter(l -> l.startsWith("state ")).findFirst();
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            if (child.exitValue() == 0 && state.isPresent()) {
                log.info("{}: sandbox process passed in {} ms ({})", name, ms, state.get().substring(6));
                return new Outcome(Optional.empty(), true);
            }
            Optional<Path> report = CrashReports.find(dataDir, child.pid());
            if (report.isPresent()) {
                CrashReports.Fatal fatal = CrashReports.read(report.get());
                String reason = "crashed the validation process: " + fatal.signal() + " during " + phase
                        + fatal.library().map(l -> " (in " + l + ")").orElse("") + "; crash report "
                        + report.get() + "; it is not run in the serving process";
                log.error("{}: {}", name, reason);
                return new Outcome(Optional.of(reason), true);
            }
            String reason = "the validation process exited with status " + child.exitValue() + " during " + phase
                    + " without a crash report; its output is in " + output;
            log.error("{}: {}", name, reason);
            return new Outcome(Optional.of(reason), false);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run the sandbox process for " + name + ": " + e.getMessage(), e);
        }
    }

    private List<String> command(ModelEntry entry, ModelVersionEntry version, Path result) {
        List<String> c = CrashReports.childJvm(dataDir, "-XX:TieredStopAtLevel=1");
        c.add(SandboxMain.class.getName());
        c.add(result.toString());
        c.add(entry.directory().toAbsolutePath().getParent().toString());
        c.add(entry.name());
        c.add(Long.toString(version.version()));
        var e = settings.execution();
        c.add(Integer.toString(e.intraOpThreads()));
        c.add(Integer.toString(e.interOpThreads()));
        c.add(Boolean.toString(e.allowSpinning()));
        c.add(Boolean.toString(settings.batchingEnabled()));
        c.add(e.gpuDevice().isPresent() ? Integer.toString(e.gpuDevice().getAsInt()) : "-1");
        return c;
    }

    /** What the load runs the artifact with, besides the artifact itself. */
    static String fingerprint(ModelEntry entry) {
        var config = entry.config();
        return "max_batch_size=" + config.maxBatchSize() + ";dynamic_batching=" + config.dynamicBatching().isPresent()
                + ";warmup=" + config.warmup();
    }

    private void count(String outcome) {
        Counter.builder(dev.gantry.core.metrics.MetricNames.SANDBOX_RUNS.meterName())
                .description("First runs of artifacts in the sandbox process, by outcome")
                .tag("outcome", outcome).register(registry).increment();
    }

    private static String sha256(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
