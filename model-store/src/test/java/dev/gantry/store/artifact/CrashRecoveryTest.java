package dev.gantry.store.artifact;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gantry.store.artifact.InstallResult.Outcome;
import dev.gantry.store.artifact.Uploads.Entry;
import dev.gantry.store.artifact.Uploads.Staged;
import dev.gantry.store.repository.ModelRepository;
import dev.gantry.store.repository.ModelVersionEntry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** A crash at any step of an install leaves no version the scanner sees, and cleanStaging() clears the rest. */
class CrashRecoveryTest {
    private static final byte[] BUNDLE = Uploads.tarGz(List.of(
            Entry.file("model.onnx", Uploads.onnx(3, 5_000)),
            Entry.file("card.json", "{}"),
            Entry.file("tokenizer.json", "{}")));

    @TempDir
    Path root;

    /** Stands in for the process dying: an Error, which the store does not clean up after. */
    static final class SimulatedCrash extends Error {
        SimulatedCrash(String step) {
            super("crashed at " + step);
        }
    }

    private static Checkpoint crashAt(String step) {
        return reached -> {
            if (reached.equals(step)) {
                throw new SimulatedCrash(step);
            }
        };
    }

    @ParameterizedTest
    @ValueSource(strings = {"extracted model.onnx", "extracted card.json", "ready"})
    void crashDuringInstall_leavesNoVersionAndCleanStagingRemovesTheLeftovers(String step) throws Exception {
        ArtifactStore crashing = new DiskArtifactStore(root, ArtifactLimits.defaults(), crashAt(step));
        Staged upload = Uploads.stage(crashing, BUNDLE);
        assertThrows(SimulatedCrash.class, () -> crashing.install("m", 1, upload.file(), upload.sha256()));
        List<Path> incoming = leftovers(root.resolve("m"));
        assertEquals(1, incoming.size(), "a half-built version is left behind: " + incoming);
        Path staleUpload = Files.write(root.resolve(".staging/upload-123.part"), new byte[] {1, 2, 3});

        ArtifactStore restarted = ArtifactStore.inRepository(root, ArtifactLimits.defaults());
        List<Path> deleted = restarted.cleanStaging();

        assertEquals(List.of(staleUpload, incoming.get(0)), deleted);
        assertEquals(List.of(), leftovers(root.resolve("m")));
        assertEquals(List.of(), ModelRepository.onDisk(root).find("m").orElseThrow().versions());
    }

    @Test
    void crashBeforeTheRename_thenRetry_installsTheVersion() throws Exception {
        ArtifactStore crashing = new DiskArtifactStore(root, ArtifactLimits.defaults(), crashAt("ready"));
        Staged first = Uploads.stage(crashing, BUNDLE);
        assertThrows(SimulatedCrash.class, () -> crashing.install("m", 1, first.file(), first.sha256()));
        ArtifactStore restarted = ArtifactStore.inRepository(root, ArtifactLimits.defaults());
        restarted.cleanStaging();
        Staged retry = Uploads.stage(restarted, BUNDLE);

        InstallResult result = restarted.install("m", 1, retry.file(), retry.sha256());

        assertEquals(Outcome.CREATED, result.outcome());
        assertEquals(List.of(new ModelVersionEntry(1, root.resolve("m/1"), root.resolve("m/1/model.onnx"))),
                ModelRepository.onDisk(root).find("m").orElseThrow().versions());
    }

    @Test
    void cleanStaging_leavesInstalledVersionsAlone() throws Exception {
        ArtifactStore store = ArtifactStore.inRepository(root, ArtifactLimits.defaults());
        Staged upload = Uploads.stage(store, BUNDLE);
        store.install("m", 1, upload.file(), upload.sha256());

        assertEquals(List.of(), store.cleanStaging());
        assertTrue(Files.isRegularFile(root.resolve("m/1/model.onnx")));
    }

    private static List<Path> leftovers(Path modelDirectory) throws IOException {
        try (Stream<Path> children = Files.list(modelDirectory)) {
            return children.filter(p -> p.getFileName().toString().startsWith(".incoming-")).toList();
        }
    }
}
