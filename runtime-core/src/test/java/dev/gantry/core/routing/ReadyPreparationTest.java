package dev.gantry.core.routing;

import dev.gantry.core.governance.Actors;
import dev.gantry.core.lifecycle.ModelVersionState;
import dev.gantry.core.model.ModelId;
import dev.gantry.core.model.ModelReadyState;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static dev.gantry.core.routing.ServingFixture.MODEL;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Preparation hooks (ModelLifecycle.onReady) run for a version before any caller can see it READY, and at once
 * for the versions READY when the hook is registered; a hook that fails costs nothing but its own preparation.
 */
class ReadyPreparationTest {
    @TempDir
    Path dir;

    private static String seen(ServingFixture f, ModelId id) {
        return id.version() + ":" + f.lifecycle.state(id).map(ModelVersionState::state).map(ModelReadyState::name)
                .orElse("none");
    }

    @Test
    void onReady_runsBeforeTheVersionIsPublishedReady_andAtOnceForVersionsReadyAlready() {
        try (ServingFixture f = new ServingFixture(dir, 1, 1)) {
            List<String> early = new CopyOnWriteArrayList<>();
            f.lifecycle.onReady(id -> early.add(seen(f, id)));
            f.start();

            assertEquals(1, early.size(), early.toString());
            assertEquals(false, early.get(0).endsWith(":READY"), "prepared after it was published: " + early);
            List<String> late = new CopyOnWriteArrayList<>();
            f.lifecycle.onReady(id -> late.add(seen(f, id)));
            assertEquals(List.of("1:READY"), late);

            f.lifecycle.onReady(id -> {
                throw new IllegalStateException("a broken hook");
            });
            f.addVersion(2);
            ModelVersionState two = f.deployments.loadVersion(MODEL, 2, Actors.as("ops", "deploy")).join();

            assertEquals(ModelReadyState.READY, two.state(), "a failing hook does not fail the load");
            assertEquals(List.of("1", "2"), early.stream().map(s -> s.substring(0, s.indexOf(':'))).toList());
            assertEquals(false, early.get(1).endsWith(":READY"), early.toString());
            assertEquals(List.of("1:READY", early.get(1)), late, "each hook sees each version once per load");
        }
    }
}
