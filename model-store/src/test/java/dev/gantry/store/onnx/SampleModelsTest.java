package dev.gantry.store.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SampleModelsTest {

    private static final Path COMMITTED = Path.of("..", "models");

    @Test
    void regenerate_givesIdenticalBytes(@TempDir Path root) throws IOException {
        SampleModels.writeAll(root);

        List<Path> generated = files(root);
        int expected = SampleModels.all().stream().mapToInt(m -> 1 + m.versions().size()).sum();
        assertEquals(expected, generated.size());
        for (Path relative : generated) {
            Path committed = COMMITTED.resolve(relative);
            assertTrue(Files.exists(committed), () -> committed + " is not committed; run SampleModels");
            assertArrayEquals(Files.readAllBytes(committed), Files.readAllBytes(root.resolve(relative)),
                    () -> relative + " differs from the committed file; run SampleModels");
        }
    }

    @Test
    void writeAll_leavesOtherModelDirectoriesAlone(@TempDir Path root) throws IOException {
        Path other = Files.createDirectories(root.resolve("minilm").resolve("1")).resolve("model.onnx");
        Files.writeString(other, "kept");

        SampleModels.writeAll(root);

        assertEquals("kept", Files.readString(other));
    }

    @Test
    void names_coverEveryIdentityAndAddType() {
        List<String> names = SampleModels.names();

        for (String type : List.of("bool", "int8", "int16", "int32", "int64", "uint8", "fp16", "fp32", "fp64",
                "string", "uint32")) {
            assertTrue(names.contains("identity_" + type), type);
        }
        for (String type : List.of("fp32", "int32", "int64", "fp16", "fp64")) {
            assertTrue(names.contains("add_" + type), type);
        }
        assertTrue(names.containsAll(List.of("mlp", "scale_dynamic", "fixed_shape", "classifier")));
    }

    @Test
    void classifier_hasTwoVersionsThatDifferInTheirWeights() {
        SampleModels.SampleModel classifier = SampleModels.all().stream().filter(m -> m.name().equals("classifier"))
                .findFirst().orElseThrow();

        assertEquals(2, classifier.versions().size());
        assertTrue(!java.util.Arrays.equals(OnnxModel.of(classifier.versions().get(0)).toBytes(),
                OnnxModel.of(classifier.versions().get(1)).toBytes()));
    }

    private static List<Path> files(Path root) throws IOException {
        try (Stream<Path> walk = Files.walk(root)) {
            return walk.filter(Files::isRegularFile).map(root::relativize).sorted().toList();
        }
    }
}
