package dev.gantry.bench.load;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The isolation arm's repository and its comparison with the in-process arm. */
class IsolationArmTest {
    @TempDir
    Path dir;

    private static ServerArm arm(String name) {
        return ServerArm.all().stream().filter(a -> a.name().equals(name)).findFirst().orElseThrow();
    }

    @Test
    void prepare_isolatesEveryModelOfTheCopy_andLeavesTheLinkedOriginalAlone() throws Exception {
        Path original = dir.resolve("real/minilm/config.json");
        Files.createDirectories(original.getParent());
        String text = "{\"max_batch_size\": 32, \"gantry\": {\"text\": {\"task\": \"embedding\"}}}";
        Files.writeString(original, text);
        Path repo = dir.resolve("repo");
        Files.createDirectories(repo.resolve("minilm"));
        Files.createSymbolicLink(repo.resolve("minilm/config.json"), original);
        Files.createDirectories(repo.resolve("mlp"));

        IsolationArm.prepare(arm(IsolationArm.NAME), repo);

        JsonNode minilm = new ObjectMapper().readTree(repo.resolve("minilm/config.json").toFile());
        assertEquals("process", minilm.path("gantry").path("isolation").asText());
        assertEquals("embedding", minilm.path("gantry").path("text").path("task").asText());
        assertEquals(32, minilm.path("max_batch_size").asInt());
        assertEquals("process", new ObjectMapper().readTree(repo.resolve("mlp/config.json").toFile())
                .path("gantry").path("isolation").asText());
        assertEquals(text, Files.readString(original));
    }

    @Test
    void prepare_leavesOtherArmsRepositoriesUnchanged() throws Exception {
        Files.createDirectories(dir.resolve("mlp"));

        IsolationArm.prepare(arm(IsolationArm.IN_PROCESS), dir);

        assertFalse(Files.exists(dir.resolve("mlp/config.json")));
    }

    @Test
    void comparison_givesIsolatedOverInProcessRatiosPerClientCount() {
        List<ArmResult> results = List.of(
                new ArmResult(IsolationArm.IN_PROCESS, Workload.MLP, closed(1, 1000, 1000)),
                new ArmResult(IsolationArm.NAME, Workload.MLP, closed(1, 800, 1500)),
                new ArmResult(IsolationArm.IN_PROCESS, Workload.MINILM_16, closed(16, 100, 8000)));

        String md = IsolationArm.comparison(results);

        assertTrue(md.contains("| mlp | 1 | 1000.0 | 800.0 | 0.80 | 1.00 | 1.50 | 1.50 | 1.00 | 1.50 | 1.50 | 0 / 0 |"),
                md);
        assertFalse(md.contains("minilm"), md);
    }

    @Test
    void comparison_isEmptyWithoutTheIsolatedArm() {
        assertEquals("", IsolationArm.comparison(List.of(
                new ArmResult(IsolationArm.IN_PROCESS, Workload.MLP, closed(1, 1000, 1000)))));
    }

    private static Measurement closed(int clients, long ok, long micros) {
        Histogram h = new Histogram(3);
        h.recordValue(micros);
        return new Measurement("closed", 0, clients, 1.0, ok, ok, 0, Map.of(), h, h, 0);
    }
}
