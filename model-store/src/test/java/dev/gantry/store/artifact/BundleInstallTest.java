package dev.gantry.store.artifact;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gantry.store.artifact.ArtifactException.Reason;
import dev.gantry.store.artifact.InstallResult.Outcome;
import dev.gantry.store.artifact.Uploads.Entry;
import dev.gantry.store.artifact.Uploads.Staged;
import dev.gantry.store.repository.ModelRepository;
import dev.gantry.store.repository.ModelVersionEntry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class BundleInstallTest {
    private static final String CARD = "{\"description\":\"sentiment classifier\",\"license\":\"MIT\"}";
    private static final String CONFIG = "{\"max_batch_size\":8}";
    private static final byte[] MODEL = Uploads.onnx(7, 20_000);

    @TempDir
    Path root;

    /** The two bundle formats, each with the function that builds one. */
    enum Format {
        TAR_GZ(Uploads::tarGz),
        ZIP(Uploads::zip);

        final Function<List<Entry>, byte[]> build;

        Format(Function<List<Entry>, byte[]> build) {
            this.build = build;
        }
    }

    private InstallResult install(Format format, List<Entry> entries) throws ArtifactException {
        return install(format.build.apply(entries));
    }

    private InstallResult install(byte[] bundle) throws ArtifactException {
        ArtifactStore store = ArtifactStore.inRepository(root, ArtifactLimits.defaults());
        Staged upload = Uploads.stage(store, bundle);
        return store.install("sentiment", 2, upload.file(), upload.sha256());
    }

    @ParameterizedTest
    @EnumSource(Format.class)
    void install_bundle_keepsModelCardConfigAndTokenizerFiles(Format format) throws Exception {
        InstallResult result = install(format, List.of(
                Entry.file("model.onnx", MODEL),
                Entry.file("config.json", CONFIG),
                Entry.file("card.json", CARD),
                Entry.directory("tokenizer/"),
                Entry.file("tokenizer/tokenizer.json", "{\"model\":{}}"),
                Entry.file("vocab.txt", "[PAD]\n[UNK]\n")));

        assertEquals(Outcome.CREATED, result.outcome());
        assertEquals(List.of("card.json", "config.json", "model.onnx", "tokenizer/tokenizer.json", "vocab.txt"),
                result.files());
        assertEquals(Optional.of(CARD), result.cardJson());
        assertEquals(Optional.of(CONFIG), result.configJson());
        Path version = root.resolve("sentiment/2");
        assertArrayEquals(MODEL, Files.readAllBytes(version.resolve("model.onnx")));
        assertEquals(CONFIG, Files.readString(version.resolve("config.json")));
        assertFalse(Files.exists(root.resolve("sentiment/config.json")), "the model's configuration is not touched");
        assertEquals(List.of(new ModelVersionEntry(2, version, version.resolve("model.onnx"))),
                ModelRepository.onDisk(root).find("sentiment").orElseThrow().versions());
    }

    @ParameterizedTest
    @EnumSource(Format.class)
    void install_bundleWithASingleTopLevelDirectory_stripsIt(Format format) throws Exception {
        InstallResult result = install(format, List.of(
                Entry.directory("sentiment-v2/"),
                Entry.file("sentiment-v2/model.onnx", MODEL),
                Entry.file("sentiment-v2/sentiment-v2/notes.txt", "nested directory of the same name"),
                Entry.file("sentiment-v2/card.json", CARD)));

        assertEquals(List.of("card.json", "model.onnx", "sentiment-v2/notes.txt"), result.files());
        assertEquals(Optional.of(CARD), result.cardJson());
        assertTrue(Files.isRegularFile(root.resolve("sentiment/2/model.onnx")));
    }

    @ParameterizedTest
    @EnumSource(Format.class)
    void install_bundleNamesWithDotSlash_areAccepted(Format format) throws Exception {
        InstallResult result = install(format, List.of(
                Entry.directory("./"),
                Entry.file("./model.onnx", MODEL)));

        assertEquals(List.of("model.onnx"), result.files());
    }

    @ParameterizedTest
    @EnumSource(Format.class)
    void install_bundleHiddenEntries_areSkippedSoTheDigestSidecarCannotBePlanted(Format format) throws Exception {
        ArtifactStore store = ArtifactStore.inRepository(root, ArtifactLimits.defaults());
        Staged upload = Uploads.stage(store, format.build.apply(List.of(
                Entry.file("model.onnx", MODEL),
                Entry.file(".artifact.sha256", "0".repeat(64)),
                Entry.file("__MACOSX/._model.onnx", "finder metadata"),
                Entry.file(".DS_Store", "finder metadata"))));

        InstallResult result = store.install("sentiment", 2, upload.file(), upload.sha256());

        assertEquals(List.of("model.onnx"), result.files());
        assertEquals(Optional.of(upload.sha256()), store.digest("sentiment", 2));
    }

    @ParameterizedTest
    @EnumSource(Format.class)
    void install_sameBundleAgain_isIdenticalAndReturnsTheCard(Format format) throws Exception {
        byte[] bundle = format.build.apply(List.of(Entry.file("model.onnx", MODEL), Entry.file("card.json", CARD)));
        install(bundle);

        InstallResult again = install(bundle);

        assertEquals(Outcome.IDENTICAL, again.outcome());
        assertEquals(Optional.of(CARD), again.cardJson());
        assertEquals(List.of("card.json", "model.onnx"), again.files());
    }

    @ParameterizedTest
    @EnumSource(Format.class)
    void install_bundleWithoutModelOnnx_isInvalid(Format format) {
        ArtifactException e = assertThrows(ArtifactException.class, () -> install(format, List.of(
                Entry.file("weights.onnx", MODEL),
                Entry.file("card.json", CARD))));

        assertEquals(Reason.INVALID, e.reason());
        assertEquals("bundle has no model.onnx at its root or inside a single top-level directory", e.getMessage());
        assertFalse(Files.exists(root.resolve("sentiment")));
    }

    @ParameterizedTest
    @EnumSource(Format.class)
    void install_bundleWithModelOnnxTwoDirectoriesDown_isInvalid(Format format) {
        ArtifactException e = assertThrows(ArtifactException.class, () -> install(format, List.of(
                Entry.file("a/model.onnx", MODEL),
                Entry.file("b/model.onnx", MODEL))));

        assertEquals(Reason.INVALID, e.reason());
    }

    @ParameterizedTest
    @EnumSource(Format.class)
    void install_bundleWhoseModelOnnxIsNotOnnx_isInvalid(Format format) {
        ArtifactException e = assertThrows(ArtifactException.class, () -> install(format, List.of(
                Entry.file("model.onnx", "not a model"))));

        assertEquals(Reason.INVALID, e.reason());
        assertTrue(e.getMessage().startsWith("bundle's model.onnx is not an ONNX model"), e.getMessage());
    }

    @ParameterizedTest
    @EnumSource(Format.class)
    void install_bundleWithACardThatIsNotJson_isInvalid(Format format) {
        ArtifactException e = assertThrows(ArtifactException.class, () -> install(format, List.of(
                Entry.file("model.onnx", MODEL),
                Entry.file("card.json", "# My model"))));

        assertEquals(Reason.INVALID, e.reason());
        assertTrue(e.getMessage().startsWith("bundle's card.json is not valid JSON"), e.getMessage());
        assertFalse(Files.exists(root.resolve("sentiment/2")));
    }

    @ParameterizedTest
    @EnumSource(Format.class)
    void install_truncatedBundle_isInvalid(Format format) {
        ArtifactStore store = ArtifactStore.inRepository(root, ArtifactLimits.defaults());
        byte[] whole = format.build.apply(List.of(Entry.file("model.onnx", MODEL)));
        byte[] truncated = java.util.Arrays.copyOf(whole, whole.length / 2);
        Staged upload = Uploads.stage(store, truncated);

        ArtifactException e = assertThrows(ArtifactException.class,
                () -> store.install("sentiment", 2, upload.file(), upload.sha256()));

        assertEquals(Reason.INVALID, e.reason(), e.getMessage());
        assertFalse(Files.exists(root.resolve("sentiment/2")));
    }
}
