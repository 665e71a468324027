package dev.gantry.store.repository;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelRepositoryTest {
    @TempDir
    Path root;

    @Test
    void onDisk_missingRoot_isRejectedNamingThePath() {
        Path missing = root.resolve("nope");

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ModelRepository.onDisk(missing));

        assertEquals("model repository " + missing + " does not exist", e.getMessage());
    }

    @Test
    void onDisk_rootIsAFile_isRejectedNamingThePath() throws IOException {
        Path file = Files.writeString(root.resolve("file"), "x");

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ModelRepository.onDisk(file));

        assertEquals("model repository " + file + " is not a directory", e.getMessage());
    }

    @Test
    void scan_modelWithoutConfig_usesDefaultsAndLatestVersion() throws IOException {
        version("iris", "1");
        version("iris", "2");

        ModelEntry iris = single(ModelRepository.onDisk(root).scan());

        assertEquals("iris", iris.name());
        assertEquals(root.resolve("iris"), iris.directory());
        assertEquals(ModelConfig.defaults(), iris.config());
        assertEquals(List.of(
                new ModelVersionEntry(1, root.resolve("iris/1"), root.resolve("iris/1/model.onnx")),
                new ModelVersionEntry(2, root.resolve("iris/2"), root.resolve("iris/2/model.onnx"))), iris.versions());
        assertEquals(List.of(2L), versions(iris.versionsToLoad()));
        assertEquals(List.of(), iris.problems());
    }

    @Test
    void scan_models_areSortedByNameWithHiddenEntriesAndFilesSkipped() throws IOException {
        version("zeta", "1");
        version("alpha", "1");
        version(".cache", "1");
        version("-bad-name", "1");
        Files.writeString(root.resolve("README.md"), "models");

        List<String> names = ModelRepository.onDisk(root).scan().stream().map(ModelEntry::name).toList();

        assertEquals(List.of("alpha", "zeta"), names);
    }

    @Test
    void scan_badVersionDirectoryNames_areReportedAndSkipped() throws IOException {
        version("m", "1");
        version("m", "0");
        version("m", "v2");
        version("m", "01");
        Files.createDirectories(root.resolve("m/.ipynb_checkpoints"));
        Files.writeString(root.resolve("m/labels.txt"), "a");

        ModelEntry entry = single(ModelRepository.onDisk(root).scan());

        assertEquals(List.of(1L), versions(entry.versions()));
        assertEquals(List.of(
                "version directory '0' skipped: not a positive integer",
                "version directory '01' skipped: not a positive integer",
                "version directory 'v2' skipped: not a positive integer"), entry.problems().stream().sorted().toList());
        assertEquals(Optional.empty(), entry.configFailure());
    }

    @Test
    void scan_versionWithoutModelFile_isReportedAndSkipped() throws IOException {
        version("m", "1");
        Files.createDirectories(root.resolve("m/3"));

        ModelEntry entry = single(ModelRepository.onDisk(root).scan());

        assertEquals(List.of(1L), versions(entry.versions()));
        assertEquals(List.of("version 3: model.onnx missing"), entry.problems());
    }

    @Test
    void scan_defaultModelFilename_locatesTheModelFile() throws IOException {
        Files.createDirectories(root.resolve("m/1"));
        Files.writeString(root.resolve("m/1/net.onnx"), "onnx");
        Files.writeString(root.resolve("m/config.json"), "{\"default_model_filename\": \"net.onnx\"}");

        ModelEntry entry = single(ModelRepository.onDisk(root).scan());

        assertEquals(root.resolve("m/1/net.onnx"), entry.versions().get(0).modelFile());
    }

    @Test
    void scan_brokenConfig_returnsEntryWithDefaultsAndConfigFailure() throws IOException {
        version("m", "1");
        Files.writeString(root.resolve("m/config.json"), "{\"max_batch_size\": -3}");

        ModelEntry entry = single(ModelRepository.onDisk(root).scan());

        assertEquals(ModelConfig.defaults(), entry.config());
        assertEquals(List.of(1L), versions(entry.versions()));
        String failure = "config failed: config.json: max_batch_size must be >= 0, was -3";
        assertEquals(List.of(failure), entry.problems());
        assertEquals(Optional.of(failure), entry.configFailure());
    }

    @Test
    void scan_oneBrokenModel_doesNotHideTheOthers() throws IOException {
        version("bad", "1");
        Files.writeString(root.resolve("bad/config.pbtxt"), "max_batch_size {");
        version("good", "1");

        List<ModelEntry> entries = ModelRepository.onDisk(root).scan();

        assertEquals(2, entries.size());
        assertTrue(entries.get(0).configFailure().orElseThrow().startsWith("config failed: config.pbtxt: line 1"));
        assertEquals(List.of(), entries.get(1).problems());
    }

    @Test
    void scan_pbtxtOnly_isRead() throws IOException {
        version("m", "1");
        Files.writeString(root.resolve("m/config.pbtxt"), "name: \"m\" max_batch_size: 8");

        assertEquals(8, single(ModelRepository.onDisk(root).scan()).config().maxBatchSize());
    }

    @Test
    void scan_jsonAndPbtxt_jsonWinsWithWarning() throws IOException {
        version("m", "1");
        Files.writeString(root.resolve("m/config.json"), "{\"max_batch_size\": 4}");
        Files.writeString(root.resolve("m/config.pbtxt"), "max_batch_size: 8");

        ModelConfig config = single(ModelRepository.onDisk(root).scan()).config();

        assertEquals(4, config.maxBatchSize());
        assertEquals(List.of("both config.json and config.pbtxt present: using config.json"), config.warnings());
    }

    @Test
    void scan_versionPolicy_selectsVersionsToLoad() throws IOException {
        for (String v : List.of("1", "2", "5")) {
            version("m", v);
        }
        Files.writeString(root.resolve("m/config.json"), "{\"version_policy\": {\"latest\": {\"num_versions\": 2}}}");

        ModelEntry entry = single(ModelRepository.onDisk(root).scan());

        assertEquals(List.of(1L, 2L, 5L), versions(entry.versions()));
        assertEquals(List.of(2L, 5L), versions(entry.versionsToLoad()));
    }

    @Test
    void scan_specificVersionNotOnDisk_isReported() throws IOException {
        version("m", "1");
        Files.writeString(root.resolve("m/config.json"),
                "{\"version_policy\": {\"specific\": {\"versions\": [1, 4]}}}");

        ModelEntry entry = single(ModelRepository.onDisk(root).scan());

        assertEquals(List.of(1L), versions(entry.versionsToLoad()));
        assertEquals(List.of("version 4: requested by version_policy but not available"), entry.problems());
    }

    @Test
    void scan_modelWithoutVersions_reportsNothingToLoad() throws IOException {
        Files.createDirectories(root.resolve("m"));

        ModelEntry entry = single(ModelRepository.onDisk(root).scan());

        assertEquals(List.of("no version to load"), entry.problems());
    }

    @Test
    void find_existingModel_returnsItsEntry() throws IOException {
        version("m", "1");

        assertEquals(Optional.of("m"), ModelRepository.onDisk(root).find("m").map(ModelEntry::name));
    }

    @Test
    void find_missingOrInvalidName_returnsEmpty() throws IOException {
        version("m", "1");
        ModelRepository repository = ModelRepository.onDisk(root);

        assertEquals(Optional.empty(), repository.find("other"));
        assertEquals(Optional.empty(), repository.find("../m"));
        assertEquals(Optional.empty(), repository.find(".hidden"));
    }

    private void version(String model, String version) throws IOException {
        Path directory = Files.createDirectories(root.resolve(model).resolve(version));
        Files.writeString(directory.resolve("model.onnx"), "onnx");
    }

    private static ModelEntry single(List<ModelEntry> entries) {
        assertEquals(1, entries.size(), () -> "entries: " + entries);
        return entries.get(0);
    }

    private static List<Long> versions(List<ModelVersionEntry> entries) {
        return entries.stream().map(ModelVersionEntry::version).toList();
    }
}
