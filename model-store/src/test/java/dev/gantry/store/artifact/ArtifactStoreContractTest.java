package dev.gantry.store.artifact;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gantry.store.artifact.ArtifactException.Reason;
import dev.gantry.store.artifact.InstallResult.Outcome;
import dev.gantry.store.artifact.Uploads.Entry;
import dev.gantry.store.artifact.Uploads.Staged;
import dev.gantry.store.repository.ModelRepository;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** What every {@link ArtifactStore} promises, checked on the local disk store and on the S3-backed one alike. */
class ArtifactStoreContractTest {
    @TempDir
    static Path shared;
    @TempDir
    Path root;
    private static S3Server s3;
    private static final AtomicInteger PREFIXES = new AtomicInteger();

    enum Kind { DISK, S3 }

    @BeforeAll
    static void startS3() throws Exception {
        s3 = S3Server.start(shared.resolve("bucket"));
    }

    @AfterAll
    static void stopS3() throws Exception {
        s3.close();
    }

    private ArtifactStore store(Kind kind, ArtifactLimits limits) {
        return switch (kind) {
            case DISK -> ArtifactStore.inRepository(root, limits);
            // a prefix per test: each starts with an empty bucket
            case S3 -> ArtifactStore.shared(root, limits, s3.settings("contract-" + PREFIXES.incrementAndGet()));
        };
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void install_rawOnnx_createsAVersionTheScannerSeesWithItsDigest(Kind kind) throws Exception {
        try (ArtifactStore store = store(kind, ArtifactLimits.defaults())) {
            byte[] model = Uploads.onnx(1, 4096);
            Staged upload = Uploads.stage(store, model);

            InstallResult result = store.install("iris", 3, upload.file(), upload.sha256());

            assertEquals(new InstallResult(Outcome.CREATED, upload.sha256(), 4096, List.of("model.onnx"),
                    Optional.empty(), Optional.empty()), result);
            assertEquals(List.of(3L), ModelRepository.onDisk(root).find("iris").orElseThrow().versions().stream()
                    .map(v -> v.version()).toList());
            assertTrue(java.util.Arrays.equals(model, Files.readAllBytes(root.resolve("iris/3/model.onnx"))));
            assertEquals(Optional.of(upload.sha256()), store.digest("iris", 3));
            assertFalse(Files.exists(upload.file()));
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void install_bundle_unpacksItsFiles(Kind kind) throws Exception {
        try (ArtifactStore store = store(kind, ArtifactLimits.defaults())) {
            byte[] bundle = Uploads.tarGz(List.of(Entry.file("model.onnx", Uploads.onnx(2, 2000)),
                    Entry.file("card.json", "{\"owner\":\"ml\"}")));
            Staged upload = Uploads.stage(store, bundle);

            InstallResult result = store.install("iris", 1, upload.file(), upload.sha256());

            assertEquals(List.of("card.json", "model.onnx"), result.files());
            assertEquals(Optional.of("{\"owner\":\"ml\"}"), result.cardJson());
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void install_sameBytesAgain_isIdentical(Kind kind) throws Exception {
        try (ArtifactStore store = store(kind, ArtifactLimits.defaults())) {
            byte[] model = Uploads.onnx(1, 100);
            Staged first = Uploads.stage(store, model);
            store.install("iris", 1, first.file(), first.sha256());
            Staged again = Uploads.stage(store, model);

            assertEquals(Outcome.IDENTICAL, store.install("iris", 1, again.file(), again.sha256()).outcome());
            assertFalse(Files.exists(again.file()));
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void install_differentBytesForAnExistingVersion_conflictsNamingBothDigests(Kind kind) throws Exception {
        try (ArtifactStore store = store(kind, ArtifactLimits.defaults())) {
            Staged first = Uploads.stage(store, Uploads.onnx(1, 100));
            store.install("iris", 1, first.file(), first.sha256());
            Staged other = Uploads.stage(store, Uploads.onnx(2, 100));

            ArtifactException e = assertThrows(ArtifactException.class,
                    () -> store.install("iris", 1, other.file(), other.sha256()));

            assertEquals(Reason.CONFLICT, e.reason());
            assertTrue(e.getMessage().contains(first.sha256()) && e.getMessage().contains(other.sha256()),
                    e.getMessage());
            assertEquals(Optional.of(first.sha256()), store.digest("iris", 1));
            assertFalse(Files.exists(other.file()));
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void install_garbageInsteadOfOnnx_isInvalidAndLeavesNothing(Kind kind) throws Exception {
        try (ArtifactStore store = store(kind, ArtifactLimits.defaults())) {
            Staged upload = Uploads.stage(store, "<html>not a model</html>".getBytes());

            ArtifactException e = assertThrows(ArtifactException.class,
                    () -> store.install("iris", 1, upload.file(), upload.sha256()));

            assertEquals(Reason.INVALID, e.reason());
            assertFalse(Files.exists(root.resolve("iris/1")));
            assertEquals(ArtifactStore.Availability.MISSING, store.fetch("iris", 1, upload.sha256()));
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void install_uploadOverTheLimit_isTooLarge(Kind kind) throws Exception {
        try (ArtifactStore store = store(kind, new ArtifactLimits(100, 1000, 10, 100))) {
            Staged upload = Uploads.stage(store, Uploads.onnx(1, 101));

            ArtifactException e = assertThrows(ArtifactException.class,
                    () -> store.install("iris", 1, upload.file(), upload.sha256()));

            assertEquals(Reason.TOO_LARGE, e.reason());
            assertEquals(ArtifactStore.Availability.MISSING, store.fetch("iris", 1, upload.sha256()));
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void beforePublish_thatThrows_leavesNoVersionInTheRepository(Kind kind) throws Exception {
        try (ArtifactStore store = store(kind, ArtifactLimits.defaults())) {
            Staged upload = Uploads.stage(store, Uploads.onnx(1, 100));

            assertThrows(IllegalStateException.class, () -> store.install("iris", 1, upload.file(), upload.sha256(),
                    (prepared, directory) -> {
                        throw new IllegalStateException("registration refused");
                    }));

            assertFalse(Files.exists(root.resolve("iris/1")));
            assertEquals(List.of(), ModelRepository.onDisk(root).find("iris").map(e -> e.versions())
                    .orElse(List.of()));
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void fetch_ofAnInstalledVersion_isLocal(Kind kind) throws Exception {
        try (ArtifactStore store = store(kind, ArtifactLimits.defaults())) {
            Staged upload = Uploads.stage(store, Uploads.onnx(1, 100));
            store.install("iris", 1, upload.file(), upload.sha256());

            assertEquals(ArtifactStore.Availability.LOCAL, store.fetch("iris", 1, upload.sha256()));
        }
    }
}
