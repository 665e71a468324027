package dev.gantry.core.release;

import dev.gantry.core.access.Actor;
import dev.gantry.core.engine.ExecutionSettings;
import dev.gantry.core.error.ErrorCode;
import dev.gantry.core.error.GantryException;
import dev.gantry.core.governance.CardPolicy;
import dev.gantry.core.governance.Governance;
import dev.gantry.core.lifecycle.LifecycleSettings;
import dev.gantry.core.lifecycle.ModelLifecycle;
import dev.gantry.core.repository.ModelRepositoryManager;
import dev.gantry.core.routing.DeploymentManager;
import dev.gantry.core.routing.DeploymentSettings;
import dev.gantry.core.testing.RecordingExecutor;
import dev.gantry.store.artifact.ArtifactException;
import dev.gantry.store.artifact.ArtifactLimits;
import dev.gantry.store.artifact.ArtifactStore;
import dev.gantry.store.artifact.InstallResult;
import dev.gantry.store.catalog.AuditEntry;
import dev.gantry.store.catalog.AuditQuery;
import dev.gantry.store.catalog.CatalogStore;
import dev.gantry.store.catalog.DeploymentArchive;
import dev.gantry.store.catalog.ReleaseRecord;
import dev.gantry.store.catalog.ReleaseStage;
import dev.gantry.store.digest.Sha256;
import dev.gantry.store.repository.ModelRepository;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An upload's catalogue record is durable before its artifact is visible to the repository scan: a crash after
 * the commit and before the rename leaves a record without files, which the next start marks FAILED; a
 * registration that fails leaves no files; a version whose files arrived but whose validation never ended is
 * validated again at the next start. Each "server" is a fresh set of core objects over the same directories.
 */
class UploadOrderingTest {
    private static final Path ARTIFACT = Path.of("..", "models", "classifier", "1", "model.onnx");
    private static final Actor UPLOADER = Actor.SYSTEM;

    @TempDir
    Path dir;

    /** Thrown from inside the store just before the rename, like a crash: an Error, so nothing is cleaned up. */
    private static final class Crash extends Error {
    }

    /** The core of one server over {@code dir}, its artifact store optionally crashing before each rename. */
    private final class Server implements AutoCloseable {
        final CatalogStore catalog = CatalogStore.h2(dir.resolve("data"), Clock.systemUTC());
        final ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor();
        final ArtifactStore artifacts;
        final Governance governance = Governance.create(catalog, CardPolicy.defaults(), Clock.systemUTC());
        final ModelLifecycle lifecycle;
        final Releases releases;

        Server(boolean crashBeforeRename) throws Exception {
            Files.createDirectories(dir.resolve("models"));
            ArtifactStore real = ArtifactStore.inRepository(dir.resolve("models"), ArtifactLimits.defaults());
            real.cleanStaging();
            artifacts = crashBeforeRename ? crashing(real) : real;
            lifecycle = new ModelLifecycle(new LifecycleSettings(ExecutionSettings.cpuDefaults(), 64,
                    Duration.ofSeconds(10), false, Duration.ZERO), new SimpleMeterRegistry(),
                    (versionDir, file, settings) -> new RecordingExecutor(), Runnable::run, timers);
            ModelRepositoryManager repository = new ModelRepositoryManager(
                    ModelRepository.onDisk(dir.resolve("models")), lifecycle);
            DeploymentArchive archive = DeploymentArchive.in(catalog);
            DeploymentManager deployments = DeploymentManager.create(repository, archive,
                    new DeploymentSettings(1, 100), Clock.systemUTC(), new SimpleMeterRegistry(),
                    governance.trafficGate(), new dev.gantry.core.audit.AuditTrail(catalog));
            releases = Releases.create(governance, catalog, archive, artifacts, repository, deployments,
                    new dev.gantry.core.audit.AuditTrail(catalog), Clock.systemUTC(), Duration.ofDays(30));
            repository.loadAll().join();
        }

        Installed upload(String model, long version) throws Exception {
            Path upload = releases.newUploadFile();
            Files.copy(ARTIFACT, upload);
            return releases.install(model, version, upload, Sha256.hex(ARTIFACT), UPLOADER);
        }

        ReleaseRecord record(String model, long version) {
            return catalog.version(model, version).orElseThrow();
        }

        @Override
        public void close() {
            lifecycle.close();
            timers.shutdownNow();
            catalog.close();
        }
    }

    private static ArtifactStore crashing(ArtifactStore real) {
        return new ArtifactStore() {
            @Override
            public ArtifactLimits limits() {
                return real.limits();
            }

            @Override
            public Path stagingDirectory() {
                return real.stagingDirectory();
            }

            @Override
            public InstallResult install(String model, long version, Path upload, String sha256Hex,
                                         BeforePublish beforePublish) throws ArtifactException {
                return real.install(model, version, upload, sha256Hex, (prepared, directory) -> {
                    beforePublish.prepared(prepared, directory);
                    throw new Crash();
                });
            }

            @Override
            public List<Path> cleanStaging() {
                return real.cleanStaging();
            }

            @Override
            public Optional<String> digest(String model, long version) {
                return real.digest(model, version);
            }
        };
    }

    @Test
    void crashBetweenCommitAndRename_leavesARecordWithoutFiles_whichTheNextStartMarksFailed() throws Exception {
        try (Server first = new Server(/* crashBeforeRename= */ true)) {
            assertThrows(Crash.class, () -> first.upload("m", 1));
            assertEquals(ReleaseStage.REGISTERED, first.record("m", 1).stage(), "the record is committed first");
            assertFalse(Files.exists(dir.resolve("models").resolve("m").resolve("1")),
                    "the files are not visible yet");
        }
        try (Server second = new Server(false)) {
            second.releases.catalogueExisting(/* firstStart= */ false);
            ReleaseRecord r = second.record("m", 1);
            assertEquals(ReleaseStage.FAILED, r.stage());
            assertEquals(Optional.of("upload interrupted before the artifact was installed"), r.reason());
            AuditEntry last = second.catalog.audit(AuditQuery.all().version("m", 1)).get(0);
            assertEquals("version.validation_failed", last.action());
            assertEquals("system", last.actor());
            assertEquals(List.of(), incoming(dir.resolve("models")), "the interrupted files were removed");
        }
    }

    @Test
    void registrationThatFails_leavesNoFiles() throws Exception {
        try (Server server = new Server(false)) {
            server.governance.register("m", 1, "sha256:" + "b".repeat(64), 10, UPLOADER);
            GantryException e = assertThrows(GantryException.class, () -> server.upload("m", 1));
            assertEquals(ErrorCode.ALREADY_EXISTS, e.code());
            assertFalse(Files.exists(dir.resolve("models").resolve("m").resolve("1")));
            assertEquals(List.of(), incoming(dir.resolve("models")));
        }
    }

    @Test
    void uploadRecordsTheModelFileDigest_andIsValidated() throws Exception {
        try (Server server = new Server(false)) {
            Installed installed = server.upload("m", 1);
            assertTrue(installed.created());
            ReleaseRecord r = server.record("m", 1);
            assertEquals(Optional.of("sha256:" + Sha256.hex(ARTIFACT)), r.modelFileDigest());
            assertEquals(ReleaseStage.VALIDATED, r.stage(), r.toString());
        }
    }

    @Test
    void filesInPlaceWhoseValidationNeverEnded_areValidatedAgainAtTheNextStart() throws Exception {
        try (Server first = new Server(false)) {
            first.governance.register("m", 1, Sha256.hex(ARTIFACT), Files.size(ARTIFACT), UPLOADER);
            first.governance.validationStarted("m", 1, UPLOADER);
            Path upload = first.releases.newUploadFile();
            Files.copy(ARTIFACT, upload);
            first.artifacts.install("m", 1, upload, Sha256.hex(ARTIFACT));
        }
        try (Server second = new Server(false)) {
            second.releases.catalogueExisting(false);
            assertEquals(ReleaseStage.VALIDATED, second.record("m", 1).stage());
        }
    }

    private static List<Path> incoming(Path models) throws Exception {
        try (Stream<Path> all = Files.walk(models)) {
            return all.filter(p -> p.getFileName().toString().startsWith(".incoming-")).toList();
        }
    }
}
