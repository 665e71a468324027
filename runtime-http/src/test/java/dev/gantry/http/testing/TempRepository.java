package dev.gantry.http.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** Builds a model repository in a temporary directory from the bundled sample models. */
public final class TempRepository {
    private final Path root;

    public TempRepository(Path root) {
        this.root = root;
    }

    public Path root() {
        return root;
    }

    /** Copies bundled model {@code source} version 1 as {@code name}/{@code version}, with {@code configJson}. */
    public TempRepository copy(String source, String name, long version, String configJson) throws IOException {
        Path dir = root.resolve(name).resolve(Long.toString(version));
        Files.createDirectories(dir);
        Files.copy(ServerFixture.MODELS.resolve(source).resolve("1").resolve("model.onnx"), dir.resolve("model.onnx"),
                StandardCopyOption.REPLACE_EXISTING);
        if (configJson != null) {
            Files.writeString(root.resolve(name).resolve("config.json"), configJson);
        }
        return this;
    }

    /** A model whose only version holds bytes that are not an ONNX model. */
    public TempRepository broken(String name) throws IOException {
        Path dir = root.resolve(name).resolve("1");
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("model.onnx"), "this is not an onnx model");
        return this;
    }
}
