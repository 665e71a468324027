package dev.gantry.http.deploy;

import dev.gantry.core.lifecycle.ExecutorFactory;
import dev.gantry.http.testing.ServerFixture;
import dev.gantry.http.testing.TempRepository;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static dev.gantry.http.deploy.DeployApi.ONLY_VERSION_1;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** docs/rollouts.md's worked example: every sh block, in order, verbatim, in one bash against a real server. */
class RolloutDocsTest {
    @TempDir
    Path dir;

    @Test
    void workedExample_runsVerbatim() throws Exception {
        String doc = Files.readString(Path.of("..", "docs", "rollouts.md"));
        String example = doc.substring(doc.indexOf("## Worked example"));
        StringBuilder script = new StringBuilder("set -euo pipefail\n");
        int blocks = 0;
        for (int at = example.indexOf("```sh\n"); at >= 0; at = example.indexOf("```sh\n", at)) {
            int end = example.indexOf("```", at + 6);
            script.append(example, at + 6, end).append('\n');
            at = end + 3;
            blocks++;
        }
        assertTrue(blocks >= 5, "sh blocks in the worked example: " + blocks);

        TempRepository repo = new TempRepository(dir.resolve("models"));
        repo.copy("mlp", "classifier", 1, ONLY_VERSION_1).copy("mlp", "classifier", 2, null);
        try (ServerFixture server = ServerFixture.start(ServerFixture.config(repo.root(), dir.resolve("data")),
                ExecutorFactory.onnxRuntime())) {
            DeployApi.of(server).load("classifier", 2);
            ProcessBuilder pb = new ProcessBuilder("bash", "-c", script.toString()).redirectErrorStream(true);
            pb.environment().put("GANTRY", "http://127.0.0.1:" + server.server().port());
            pb.environment().put("GANTRY_KEY", "");
            Process p = pb.start();
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(60, TimeUnit.SECONDS));
            assertEquals(0, p.exitValue(), "script:\n" + script + "\noutput:\n" + output);
            for (String expected : List.of("PAUSED", "RUNNING", "ABORTED", ": fallback 2", "rollout.step anonymous",
                    "rollout.abort")) {
                assertTrue(output.contains(expected), "output should contain " + expected + ":\n" + output);
            }
        }
    }
}
