package dev.gantry.http.hardening;

import dev.gantry.core.lifecycle.ExecutorFactory;
import dev.gantry.http.testing.ServerFixture;
import dev.gantry.http.testing.TempRepository;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A stop's last step closes the catalogue and the usage store, which write to disk; it runs on a thread of its
 * own, not on the Vert.x event loop that completes the close of the HTTP side.
 */
class StopThreadTest {
    @TempDir
    Path dir;

    @Test
    void stop_closesTheStoresOnItsOwnThread() throws Exception {
        TempRepository repo = new TempRepository(dir.resolve("models"));
        repo.copy("mlp", "m", 1, null);
        try (ServerFixture server = ServerFixture.start(ServerFixture.config(repo.root(), dir.resolve("data")),
                ExecutorFactory.onnxRuntime())) {
            /* the drain waits for a quiet period first, so this is attached before the stop completes */
            CompletableFuture<String> closedOn = server.server().stop()
                    .thenApply(v -> Thread.currentThread().getName());
            assertEquals("gantry-stop", closedOn.get(60, TimeUnit.SECONDS));
        }
    }
}
