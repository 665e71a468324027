package dev.gantry.store.deployment;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DeploymentStoreTest {
    @TempDir
    Path dataDir;

    private static DeploymentRecord record(String model, long current) {
        PolicyRevision r1 = new PolicyRevision(1, Instant.parse("2025-01-01T00:00:00Z"), "system",
                TrafficPolicy.single(1), Optional.empty(), "");
        PolicyRevision r2 = new PolicyRevision(2, Instant.parse("2025-01-02T00:00:00.123456789Z"), "alice",
                new TrafficPolicy(List.of(new Route(1, 90), new Route(2, 10)), List.of(new ShadowRoute(3, 25))),
                Optional.empty(), "canary \"v2\"");
        PolicyRevision r3 = new PolicyRevision(3, Instant.parse("2025-01-03T00:00:00Z"), "bob",
                TrafficPolicy.single(1), Optional.of(2L), "rollback");
        return new DeploymentRecord(model, List.of(r1, r2, r3), current, List.of(2L));
    }

    @Test
    void save_thenLoad_returnsEqualRecord() {
        DeploymentStore store = new FileDeploymentStore(dataDir.resolve("deployments"));
        DeploymentRecord saved = record("resnet", 3);
        store.save(saved, "deploy");

        assertEquals(Optional.of(saved), store.load("resnet"));
        assertTrue(Files.exists(dataDir.resolve("deployments/resnet.json")));
    }

    @Test
    void load_ofUnknownModel_isEmpty() {
        assertEquals(Optional.empty(), new FileDeploymentStore(dataDir.resolve("deployments")).load("nothing"));
        assertEquals(List.of(), new FileDeploymentStore(dataDir.resolve("deployments")).loadAll());
    }

    @Test
    void save_replacesPreviousRecord_andLeavesNoTempFile() throws IOException {
        DeploymentStore store = new FileDeploymentStore(dataDir.resolve("deployments"));
        store.save(record("m", 2), "deploy");
        store.save(record("m", 3), "deploy");

        assertEquals(3, store.load("m").orElseThrow().currentRevision());
        try (var files = Files.list(dataDir.resolve("deployments"))) {
            assertEquals(List.of("m.json"), files.map(p -> p.getFileName().toString()).toList());
        }
    }

    @Test
    void loadAll_ignoresAndRemovesStrayTempFiles() throws IOException {
        DeploymentStore store = new FileDeploymentStore(dataDir.resolve("deployments"));
        store.save(record("a", 3), "deploy");
        Path stray = dataDir.resolve("deployments/.a.json.12345.tmp");
        Files.writeString(stray, "{\"format\": 1, \"model\": \"a\", \"hist");

        assertEquals(3, store.load("a").orElseThrow().currentRevision());
        assertEquals(List.of(record("a", 3)), store.loadAll());
        assertFalse(Files.exists(stray));
    }

    @Test
    void loadAll_returnsEveryModelSortedByName() {
        DeploymentStore store = new FileDeploymentStore(dataDir.resolve("deployments"));
        store.save(record("b", 1), "deploy");
        store.save(record("a", 2), "deploy");

        assertEquals(List.of("a", "b"), store.loadAll().stream().map(DeploymentRecord::model).toList());
    }

    @Test
    void load_ofCorruptFile_failsNamingTheFile_andKeepsIt() throws IOException {
        Path file = dataDir.resolve("deployments/m.json");
        Files.createDirectories(file.getParent());
        Files.writeString(file, "{\"format\": 1, \"model\": \"m\", \"history\": [");
        DeploymentStore store = new FileDeploymentStore(dataDir.resolve("deployments"));

        DeploymentStoreException e = assertThrows(DeploymentStoreException.class, () -> store.load("m"));
        assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("corrupt"), e.getMessage());
        assertThrows(DeploymentStoreException.class, store::loadAll);
        assertTrue(Files.exists(file));
    }

    @Test
    void load_ofInvalidPolicy_failsNamingTheField() throws IOException {
        Path file = dataDir.resolve("deployments/m.json");
        Files.createDirectories(file.getParent());
        Files.writeString(file, """
                {"format": 1, "model": "m", "currentRevision": 1, "standby": [],
                 "history": [{"revision": 1, "time": "2025-01-01T00:00:00Z", "actor": "x", "reason": "",
                              "rollbackOf": null, "routes": [{"version": 1, "weight": -3}], "shadow": []}]}
                """);

        DeploymentStoreException e = assertThrows(DeploymentStoreException.class,
                () -> new FileDeploymentStore(dataDir.resolve("deployments")).load("m"));
        assertTrue(e.getMessage().contains("routes[0].weight must be >= 0, was -3"), e.getMessage());
    }

    @Test
    void save_withPathLikeModelName_isRefused() {
        assertThrows(IllegalArgumentException.class,
                () -> new FileDeploymentStore(dataDir.resolve("deployments")).load("../etc"));
    }
}
