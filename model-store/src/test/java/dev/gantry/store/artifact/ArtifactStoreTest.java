package dev.gantry.store.artifact;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gantry.store.artifact.ArtifactException.Reason;
import dev.gantry.store.artifact.InstallResult.Outcome;
import dev.gantry.store.artifact.Uploads.Staged;
import dev.gantry.store.repository.ModelEntry;
import dev.gantry.store.repository.ModelRepository;
import dev.gantry.store.repository.ModelVersionEntry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ArtifactStoreTest {
    @TempDir
    Path root;

    private ArtifactStore store() {
        return ArtifactStore.inRepository(root, ArtifactLimits.defaults());
    }

    @Test
    void install_rawOnnx_createsAVersionTheScannerSees() throws Exception {
        ArtifactStore store = store();
        byte[] model = Uploads.onnx(1, 4096);
        Staged upload = Uploads.stage(store, model);

        InstallResult result = store.install("iris", 3, upload.file(), upload.sha256());

        assertEquals(new InstallResult(Outcome.CREATED, upload.sha256(), 4096, List.of("model.onnx"),
                Optional.empty(), Optional.empty()), result);
        ModelEntry iris = ModelRepository.onDisk(root).find("iris").orElseThrow();
        assertEquals(List.of(new ModelVersionEntry(3, root.resolve("iris/3"), root.resolve("iris/3/model.onnx"))),
                iris.versions());
        assertTrue(java.util.Arrays.equals(model, Files.readAllBytes(root.resolve("iris/3/model.onnx"))));
    }

    @Test
    void beforePublish_runsWhileTheVersionIsInvisible_withItsPreparedFiles() throws Exception {
        ArtifactStore store = store();
        byte[] model = Uploads.onnx(1, 100);
        Staged upload = Uploads.stage(store, model);
        List<String> seen = new java.util.ArrayList<>();

        store.install("iris", 1, upload.file(), upload.sha256(), (prepared, directory) -> {
            seen.add(prepared.outcome() + " " + prepared.sha256());
            assertTrue(ModelRepository.onDisk(root).find("iris").map(e -> e.versions().isEmpty()).orElse(true),
                    "the scanner must not see the version before it is published");
            assertTrue(java.util.Arrays.equals(model, readQuietly(directory.resolve("model.onnx"))));
        });

        assertEquals(List.of("CREATED " + upload.sha256()), seen);
        assertTrue(Files.exists(root.resolve("iris/1/model.onnx")));
    }

    @Test
    void beforePublish_thatThrows_installsNothingAndLeavesNoFiles() throws Exception {
        ArtifactStore store = store();
        Staged upload = Uploads.stage(store, Uploads.onnx(1, 100));

        IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                () -> store.install("iris", 1, upload.file(), upload.sha256(), (prepared, directory) -> {
                    throw new IllegalStateException("registration refused");
                }));

        assertEquals("registration refused", e.getMessage());
        assertFalse(Files.exists(root.resolve("iris/1")));
        assertFalse(Files.exists(upload.file()));
        assertEquals(List.of(), Files.exists(root.resolve("iris")) ? children(root.resolve("iris")) : List.of());
    }

    private static byte[] readQuietly(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void install_consumesTheUploadAndRecordsItsDigest() throws Exception {
        ArtifactStore store = store();
        Staged upload = Uploads.stage(store, Uploads.onnx(1, 100));

        store.install("iris", 1, upload.file(), upload.sha256().toUpperCase());

        assertFalse(Files.exists(upload.file()));
        assertEquals(Optional.of(upload.sha256()), store.digest("iris", 1));
        assertEquals(List.of(), children(root.resolve("iris")).stream().filter(p -> !p.equals("1")).toList());
    }

    @Test
    void install_sameBytesAgain_isIdenticalAndWritesNothing() throws Exception {
        ArtifactStore store = store();
        byte[] model = Uploads.onnx(1, 100);
        Staged first = Uploads.stage(store, model);
        store.install("iris", 1, first.file(), first.sha256());
        long modified = Files.getLastModifiedTime(root.resolve("iris/1/model.onnx")).toMillis();
        Staged again = Uploads.stage(store, model);

        InstallResult result = store.install("iris", 1, again.file(), again.sha256());

        assertEquals(Outcome.IDENTICAL, result.outcome());
        assertEquals(List.of("model.onnx"), result.files());
        assertFalse(Files.exists(again.file()));
        assertEquals(modified, Files.getLastModifiedTime(root.resolve("iris/1/model.onnx")).toMillis());
    }

    @Test
    void install_differentBytesForAnExistingVersion_conflictsNamingBothDigests() throws Exception {
        ArtifactStore store = store();
        Staged first = Uploads.stage(store, Uploads.onnx(1, 100));
        store.install("iris", 1, first.file(), first.sha256());
        Staged other = Uploads.stage(store, Uploads.onnx(2, 100));

        ArtifactException e = assertThrows(ArtifactException.class,
                () -> store.install("iris", 1, other.file(), other.sha256()));

        assertEquals(Reason.CONFLICT, e.reason());
        assertTrue(e.getMessage().contains(first.sha256()), e.getMessage());
        assertTrue(e.getMessage().contains(other.sha256()), e.getMessage());
        assertEquals(Optional.of(first.sha256()), store.digest("iris", 1));
        assertFalse(Files.exists(other.file()));
    }

    @Test
    void install_overAVersionPutThereByHand_conflicts() throws Exception {
        Files.createDirectories(root.resolve("iris/1"));
        Files.write(root.resolve("iris/1/model.onnx"), Uploads.onnx(1, 100));
        ArtifactStore store = store();
        Staged upload = Uploads.stage(store, Uploads.onnx(1, 100));

        ArtifactException e = assertThrows(ArtifactException.class,
                () -> store.install("iris", 1, upload.file(), upload.sha256()));

        assertEquals(Reason.CONFLICT, e.reason());
        assertTrue(e.getMessage().contains("no recorded digest"), e.getMessage());
        assertEquals(Optional.empty(), store.digest("iris", 1));
    }

    @Test
    void install_garbageInsteadOfOnnx_isInvalidShowingTheFirstBytes() {
        ArtifactStore store = store();
        Staged upload = Uploads.stage(store, "<html>502 Bad Gateway</html>".getBytes(StandardCharsets.UTF_8));

        ArtifactException e = assertThrows(ArtifactException.class,
                () -> store.install("iris", 1, upload.file(), upload.sha256()));

        assertEquals(Reason.INVALID, e.reason());
        assertTrue(e.getMessage().startsWith("upload is not an ONNX model: it starts with bytes 3c 68 74 6d"),
                e.getMessage());
        assertFalse(Files.exists(root.resolve("iris")), "a refused upload leaves no model directory");
    }

    @Test
    void install_emptyUpload_isInvalid() {
        ArtifactStore store = store();
        Staged upload = Uploads.stage(store, new byte[0]);

        ArtifactException e = assertThrows(ArtifactException.class,
                () -> store.install("iris", 1, upload.file(), upload.sha256()));

        assertEquals(Reason.INVALID, e.reason());
        assertEquals("upload is empty", e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", ".hidden", "-dash", "a/b", "..", "with space"})
    void install_badModelName_isInvalid(String name) {
        ArtifactStore store = store();
        Staged upload = Uploads.stage(store, Uploads.onnx(1, 100));

        ArtifactException e = assertThrows(ArtifactException.class,
                () -> store.install(name, 1, upload.file(), upload.sha256()));

        assertEquals(Reason.INVALID, e.reason());
        assertTrue(e.getMessage().startsWith("model name '" + name + "' is not valid"), e.getMessage());
        assertFalse(Files.exists(upload.file()));
    }

    @ParameterizedTest
    @ValueSource(longs = {0, -1, 1_000_000_000_000_000_000L})
    void install_versionNotAPositiveIntegerOfAtMost18Digits_isInvalid(long version) {
        ArtifactStore store = store();
        Staged upload = Uploads.stage(store, Uploads.onnx(1, 100));

        ArtifactException e = assertThrows(ArtifactException.class,
                () -> store.install("iris", version, upload.file(), upload.sha256()));

        assertEquals(Reason.INVALID, e.reason());
        assertTrue(e.getMessage().startsWith("version " + version + " is not valid"), e.getMessage());
    }

    @Test
    void install_uploadOverTheLimit_isTooLarge() {
        ArtifactStore store = ArtifactStore.inRepository(root, new ArtifactLimits(100, 1000, 10, 100));
        Staged upload = Uploads.stage(store, Uploads.onnx(1, 101));

        ArtifactException e = assertThrows(ArtifactException.class,
                () -> store.install("iris", 1, upload.file(), upload.sha256()));

        assertEquals(Reason.TOO_LARGE, e.reason());
        assertEquals("upload is 101 bytes; the limit is 100", e.getMessage());
    }

    @Test
    void stagingDirectory_isHiddenInTheRepositoryAndSkippedByTheScanner() throws IOException {
        ArtifactStore store = store();
        Uploads.stage(store, Uploads.onnx(1, 100));

        assertEquals(root.resolve(".staging"), store.stagingDirectory());
        assertTrue(Files.isDirectory(store.stagingDirectory()));
        assertEquals(List.of(), ModelRepository.onDisk(root).scan());
    }

    @Test
    void digest_ofAVersionNeverInstalled_isEmpty() {
        assertEquals(Optional.empty(), store().digest("iris", 1));
        assertEquals(Optional.empty(), store().digest("../etc", 1));
    }

    @Test
    void limits_invalidValues_areRejectedNamingTheField() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new ArtifactLimits(1, 1, 1, 0.5));

        assertEquals("maxExpansionRatio must be >= 1, was 0.5", e.getMessage());
    }

    private static List<String> children(Path directory) throws IOException {
        try (var list = Files.list(directory)) {
            return list.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}
