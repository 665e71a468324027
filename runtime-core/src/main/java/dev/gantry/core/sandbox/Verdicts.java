package dev.gantry.core.sandbox;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.Optional;
import java.util.Properties;

/** The sandbox's verdicts, one small file per artifact digest: {@code <dir>/<sha256>.properties}. */
final class Verdicts {
    private final Path dir;

    Verdicts(Path dir) {
        this.dir = dir;
    }

    /**
     * A remembered verdict.
     *
     * @param inputs what the artifact was run with (see ChildProcessSandbox#fingerprint); a verdict for other
     *     inputs does not count
     * @param failure why the artifact must not run in the serving process; empty when it passed
     */
    record Verdict(String inputs, Optional<String> failure, Instant checked) {
    }

    Optional<Verdict> find(String digest) {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file(digest), StandardCharsets.UTF_8)) {
            p.load(r);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException | IllegalArgumentException e) {
            return Optional.empty();
        }
        String outcome = p.getProperty("outcome", "");
        if (!outcome.equals("passed") && !outcome.equals("crashed")) {
            return Optional.empty();
        }
        return Optional.of(new Verdict(p.getProperty("inputs", ""),
                outcome.equals("passed") ? Optional.empty() : Optional.of(p.getProperty("reason", "crashed")),
                Instant.parse(p.getProperty("checked", Instant.EPOCH.toString()))));
    }

    void remember(String digest, Verdict verdict) {
        Properties p = new Properties();
        p.setProperty("outcome", verdict.failure().isPresent() ? "crashed" : "passed");
        verdict.failure().ifPresent(f -> p.setProperty("reason", f));
        p.setProperty("inputs", verdict.inputs());
        p.setProperty("checked", verdict.checked().toString());
        try {
            Files.createDirectories(dir);
            Path tmp = Files.createTempFile(dir, digest, ".tmp");
            try (Writer w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
                p.store(w, "Gantry sandbox verdict for the artifact with this SHA-256");
            }
            try {
                Files.move(tmp, file(digest), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file(digest), StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot record the sandbox verdict in " + dir + ": " + e.getMessage(), e);
        }
    }

    private Path file(String digest) {
        return dir.resolve(digest + ".properties");
    }
}
