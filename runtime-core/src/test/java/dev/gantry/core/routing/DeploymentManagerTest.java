package dev.gantry.core.routing;

import dev.gantry.core.governance.Actors;
import dev.gantry.core.error.ErrorCode;
import dev.gantry.core.error.GantryException;
import dev.gantry.core.model.ModelId;
import dev.gantry.core.model.ModelReadyState;
import dev.gantry.store.deployment.Route;
import dev.gantry.store.deployment.ShadowRoute;
import dev.gantry.store.deployment.TrafficPolicy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

import static dev.gantry.core.routing.ServingFixture.MODEL;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DeploymentManagerTest {
    @TempDir
    Path dir;

    private static ModelReadyState state(ServingFixture f, long v) {
        return f.lifecycle.state(new ModelId(MODEL, v)).orElseThrow().state();
    }

    private static GantryException failure(CompletableFuture<?> f) {
        CompletionException e = assertThrows(CompletionException.class, f::join);
        return assertInstanceOf(GantryException.class, e.getCause());
    }

    private static TrafficPolicy split(int w1, int w2) {
        return new TrafficPolicy(List.of(new Route(1, w1), new Route(2, w2)), List.of());
    }

    @Test
    void start_withoutRecord_routesAllTrafficToHighestLoadedVersion() {
        try (ServingFixture f = new ServingFixture(dir, 1, 1, 2).start()) {
            DeploymentSnapshot s = f.deployments.snapshot(MODEL).orElseThrow();
            assertEquals(1, s.revision());
            assertEquals(TrafficPolicy.single(2), s.policy());
            assertEquals("system", f.deployments.deployment(MODEL).orElseThrow().history().get(0).actor());
        }
    }

    @Test
    void applyPolicy_toVersionNotLoaded_isRefusedNamingIt() {
        try (ServingFixture f = new ServingFixture(dir, 1, 1, 2).start()) {
            GantryException e = assertThrows(GantryException.class, () -> f.deployments.applyPolicy(MODEL,
                    split(90, 10), OptionalLong.empty(), Actors.as("alice", "deploy"), ""));
            assertEquals(ErrorCode.FAILED_PRECONDITION, e.code());
            assertTrue(e.getMessage().startsWith("version 1 of model 'm' is not loaded"), e.getMessage());
            assertEquals(1, f.deployments.snapshot(MODEL).orElseThrow().revision());
        }
    }

    @Test
    void applyPolicy_toVersionNotOnDisk_isNotFound() {
        try (ServingFixture f = new ServingFixture(dir, 1, 1).start()) {
            GantryException e = assertThrows(GantryException.class, () -> f.deployments.applyPolicy(MODEL,
                    TrafficPolicy.single(7), OptionalLong.empty(), Actors.as("alice", "deploy"), ""));
            assertEquals(ErrorCode.NOT_FOUND, e.code());
            assertEquals("model 'm' has no version 7 on disk", e.getMessage());
        }
    }

    @Test
    void applyPolicy_withStaleRevision_isRefused() {
        try (ServingFixture f = new ServingFixture(dir, 1, 1, 2).start()) {
            f.deployments.loadVersion(MODEL, 1, Actors.as("ops", "deploy")).join();
            f.deployments.applyPolicy(MODEL, split(90, 10), OptionalLong.of(1), Actors.as("alice", "deploy"), "");

            GantryException e = assertThrows(GantryException.class, () -> f.deployments.applyPolicy(MODEL,
                    split(50, 50), OptionalLong.of(1), Actors.as("bob", "deploy"), ""));
            assertEquals("expected revision 1, current is 2", e.getMessage());
        }
    }

    @Test
    void newVersion_loadedInBackground_thenSwappedIn_keepsPreviousAsStandby() {
        try (ServingFixture f = new ServingFixture(dir, 1, 1).start()) {
            f.addVersion(2);
            assertEquals(ModelReadyState.READY, f.deployments.loadVersion(MODEL, 2, Actors.as("ops", "deploy")).join().state());

            f.deployments.applyPolicy(MODEL, TrafficPolicy.single(2), OptionalLong.empty(), Actors.as("alice", "deploy"), "v2");
            f.deployments.drained().join();

            assertEquals(List.of(1L), f.deployments.snapshot(MODEL).orElseThrow().standby());
            assertEquals(ModelReadyState.READY, state(f, 1));
        }
    }

    @Test
    void versionsBeyondStandbyCount_areDrainedAndUnloaded() {
        try (ServingFixture f = new ServingFixture(dir, 1, 1).start()) {
            f.addVersion(2);
            f.addVersion(3);
            f.deployments.loadVersion(MODEL, 2, Actors.as("ops", "deploy")).join();
            f.deployments.loadVersion(MODEL, 3, Actors.as("ops", "deploy")).join();
            f.deployments.applyPolicy(MODEL, TrafficPolicy.single(2), OptionalLong.empty(), Actors.as("a", "deploy"), "");
            f.deployments.applyPolicy(MODEL, TrafficPolicy.single(3), OptionalLong.empty(), Actors.as("a", "deploy"), "");
            f.deployments.drained().join();

            assertEquals(List.of(2L), f.deployments.snapshot(MODEL).orElseThrow().standby());
            assertEquals(ModelReadyState.READY, state(f, 2));
            assertEquals(ModelReadyState.UNAVAILABLE, state(f, 1));
            assertTrue(f.executor(1).isClosed());
        }
    }

    @Test
    void rollback_withWarmStandby_switchesWithoutLoading() {
        try (ServingFixture f = new ServingFixture(dir, 1, 1).start()) {
            f.addVersion(2);
            f.deployments.loadVersion(MODEL, 2, Actors.as("ops", "deploy")).join();
            f.deployments.applyPolicy(MODEL, TrafficPolicy.single(2), OptionalLong.empty(), Actors.as("alice", "deploy"), "v2");
            int loads = f.factory.loads.get();

            CompletableFuture<RollbackResult> r = f.deployments.rollback(MODEL, OptionalLong.empty(), Actors.as("bob", "deploy"));

            assertTrue(r.isDone(), "a rollback to a warm standby waits for nothing");
            assertEquals(new RollbackResult(2, 1, 3, TrafficPolicy.single(1)), r.join());
            assertEquals(loads, f.factory.loads.get());
            assertEquals(TrafficPolicy.single(1), f.deployments.snapshot(MODEL).orElseThrow().policy());
            assertEquals(List.of(2L), f.deployments.snapshot(MODEL).orElseThrow().standby());
        }
    }

    @Test
    void rollback_toUnloadedVersion_loadsItFirst() {
        try (ServingFixture f = new ServingFixture(dir, 0, 1).start()) {
            f.addVersion(2);
            f.deployments.loadVersion(MODEL, 2, Actors.as("ops", "deploy")).join();
            f.deployments.applyPolicy(MODEL, TrafficPolicy.single(2), OptionalLong.empty(), Actors.as("alice", "deploy"), "");
            f.deployments.drained().join();
            assertEquals(ModelReadyState.UNAVAILABLE, state(f, 1));

            RollbackResult r = f.deployments.rollback(MODEL, OptionalLong.empty(), Actors.as("bob", "deploy")).join();

            assertEquals(1, r.to());
            assertEquals(ModelReadyState.READY, state(f, 1));
        }
    }

    @Test
    void unloadVersion_whileRouted_isRefused() {
        try (ServingFixture f = new ServingFixture(dir, 1, 1, 2).start()) {
            f.deployments.loadVersion(MODEL, 1, Actors.as("ops", "deploy")).join();
            f.deployments.applyPolicy(MODEL, split(90, 10), OptionalLong.empty(), Actors.as("a", "deploy"), "");

            GantryException e = failure(f.deployments.unloadVersion(MODEL, 2, Actors.as("ops", "deploy")));

            assertEquals(ErrorCode.FAILED_PRECONDITION, e.code());
            assertEquals("version 2 still takes traffic (weight 10 in revision 2)", e.getMessage());
            assertEquals(ModelReadyState.READY, state(f, 2));
        }
    }

    @Test
    void unloadVersion_whileShadowed_isRefused() {
        try (ServingFixture f = new ServingFixture(dir, 1, 1, 2).start()) {
            f.deployments.loadVersion(MODEL, 1, Actors.as("ops", "deploy")).join();
            f.deployments.applyPolicy(MODEL, new TrafficPolicy(List.of(new Route(2, 1)),
                    List.of(new ShadowRoute(1, 5))), OptionalLong.empty(), Actors.as("a", "deploy"), "");

            assertEquals("version 1 still takes traffic (shadow 5% in revision 2)",
                    failure(f.deployments.unloadVersion(MODEL, 1, Actors.as("ops", "deploy"))).getMessage());
        }
    }

    @Test
    void unloadVersion_ofStandby_dropsItFromStandbyAndUnloads() {
        try (ServingFixture f = new ServingFixture(dir, 1, 1).start()) {
            f.addVersion(2);
            f.deployments.loadVersion(MODEL, 2, Actors.as("ops", "deploy")).join();
            f.deployments.applyPolicy(MODEL, TrafficPolicy.single(2), OptionalLong.empty(), Actors.as("a", "deploy"), "");

            f.deployments.unloadVersion(MODEL, 1, Actors.as("ops", "deploy")).join();

            assertEquals(List.of(), f.deployments.snapshot(MODEL).orElseThrow().standby());
            assertEquals(ModelReadyState.UNAVAILABLE, state(f, 1));
        }
    }

    @Test
    void restart_restoresSamePolicyRevisionAndLoadedVersions() {
        try (ServingFixture f = new ServingFixture(dir, 1, 1, 2, 3).start()) {
            f.deployments.loadVersion(MODEL, 1, Actors.as("ops", "deploy")).join();
            f.deployments.loadVersion(MODEL, 2, Actors.as("ops", "deploy")).join();
            f.deployments.applyPolicy(MODEL, TrafficPolicy.single(2), OptionalLong.empty(), Actors.as("a", "deploy"), "");
            f.deployments.applyPolicy(MODEL, split(90, 10), OptionalLong.empty(), Actors.as("a", "deploy"), "canary");
        }
        // versions 1, 2, 3 on disk; the version policy alone would load only 3
        try (ServingFixture again = new ServingFixture(dir, 1).start()) {
            DeploymentSnapshot s = again.deployments.snapshot(MODEL).orElseThrow();
            assertEquals(3, s.revision());
            assertEquals(split(90, 10), s.policy());
            assertEquals(List.of(3L), s.standby());
            assertEquals(ModelReadyState.READY, state(again, 1));
            assertEquals(ModelReadyState.READY, state(again, 2));
            assertEquals(ModelReadyState.READY, state(again, 3));
            assertEquals(3, again.deployments.deployment(MODEL).orElseThrow().history().size());
        }
    }

    @Test
    void policyRevisionGauge_followsTheCurrentRevision() {
        try (ServingFixture f = new ServingFixture(dir, 1, 1, 2).start()) {
            f.deployments.loadVersion(MODEL, 1, Actors.as("ops", "deploy")).join();
            f.deployments.applyPolicy(MODEL, split(90, 10), OptionalLong.empty(), Actors.as("a", "deploy"), "");

            assertEquals(2.0, f.registry.get("routing.policy.revision").tag("model", MODEL).gauge().value());
        }
    }
}
