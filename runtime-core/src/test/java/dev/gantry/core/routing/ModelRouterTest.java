package dev.gantry.core.routing;

import dev.gantry.core.governance.Actors;
import dev.gantry.core.error.ErrorCode;
import dev.gantry.core.error.GantryException;
import dev.gantry.core.inference.InferenceRequest;
import dev.gantry.core.model.ModelId;
import dev.gantry.core.testing.RecordingExecutor;
import dev.gantry.core.testing.Tensors;
import dev.gantry.store.deployment.Route;
import dev.gantry.store.deployment.ShadowRoute;
import dev.gantry.store.deployment.TrafficPolicy;
import io.micrometer.core.instrument.Counter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

import static dev.gantry.core.routing.ServingFixture.MODEL;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModelRouterTest {
    @TempDir
    Path dir;

    private static InferenceRequest request(float base) {
        return InferenceRequest.of(List.of(Tensors.fp32Rows(RecordingExecutor.INPUT, 2, 3, base)));
    }

    private static float[] doubled(RoutedResponse r) {
        return Tensors.floats(r.response().outputs().stream()
                .filter(t -> t.name().equals(RecordingExecutor.DOUBLED)).findFirst().orElseThrow());
    }

    private static ModelRouter router(ServingFixture f, ShadowRunner shadows, Consumer<ModelId> beforeAdmission) {
        RandomSource random = RandomSource.of(new SplittableRandom(1));
        return ModelRouter.createForTest(f.repository, f.deployments, shadows, f.registry,
                bound -> {
                    synchronized (random) {
                        return random.nextLong(bound);
                    }
                }, beforeAdmission);
    }

    private static double count(ServingFixture f, String name, String... tags) {
        Counter c = f.registry.find(name).tags(tags).counter();
        return c == null ? 0 : c.count();
    }

    /** Waits for a condition another thread makes true; fails after a few seconds. */
    private static void await(BooleanSupplier condition) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not met in time");
            }
            LockSupport.parkNanos(1_000_000);
        }
    }

    @Test
    void unversioned_followsPolicy_andCountsRouteKind() {
        try (ServingFixture f = new ServingFixture(dir, 1, 1, 2).start();
             ShadowRunner shadows = ShadowRunner.start(f.lifecycle, f.registry, 4, Duration.ofSeconds(5))) {
            f.deployments.loadVersion(MODEL, 1, Actors.as("ops", "deploy")).join();
            f.deployments.applyPolicy(MODEL, new TrafficPolicy(List.of(new Route(1, 0), new Route(2, 1)), List.of()),
                    OptionalLong.empty(), Actors.as("a", "deploy"), "");
            ModelRouter router = router(f, shadows, id -> { });

            RoutedResponse r = router.infer(MODEL, OptionalLong.empty(), Optional.empty(), request(0)).join();

            assertEquals(new ModelId(MODEL, 2), r.response().model());
            assertEquals(RouteKind.WEIGHTED, r.kind());
            assertEquals(1.0, count(f, "routing.requests", "model", MODEL, "version", "2", "kind", "weighted"));
        }
    }

    @Test
    void inferAll_underAFiftyFiftySplit_servesEveryRequestOfTheCallFromOneVersionAndCountsOnce() {
        try (ServingFixture f = new ServingFixture(dir, 1, 1, 2).start();
             ShadowRunner shadows = ShadowRunner.start(f.lifecycle, f.registry, 4, Duration.ofSeconds(5))) {
            f.deployments.loadVersion(MODEL, 1, Actors.as("ops", "deploy")).join();
            f.deployments.applyPolicy(MODEL, new TrafficPolicy(List.of(new Route(1, 50), new Route(2, 50)), List.of()),
                    OptionalLong.empty(), Actors.as("a", "deploy"), "");
            ModelRouter router = router(f, shadows, id -> { });
            List<Long> builtFor = new ArrayList<>();

            for (int call = 0; call < 10; call++) {
                ModelRouter.RoutedResponses r = router.inferAll(MODEL, OptionalLong.empty(), Optional.empty(),
                        target -> {
                            builtFor.add(target.id().version());
                            return List.of(request(0), request(1), request(2));
                        }).join();

                assertEquals(3, r.responses().size());
                for (var response : r.responses()) {
                    assertEquals(r.model(), response.model());
                }
                assertEquals(r.model().version(), builtFor.get(builtFor.size() - 1));
            }
            assertEquals(10.0, count(f, "routing.requests", "model", MODEL, "version", "1", "kind", "weighted")
                    + count(f, "routing.requests", "model", MODEL, "version", "2", "kind", "weighted"));
        }
    }

    @Test
    void inferAll_whenBuildingTheRequestsFails_completesWithThatFailure() {
        try (ServingFixture f = new ServingFixture(dir, 1, 1).start();
             ShadowRunner shadows = ShadowRunner.start(f.lifecycle, f.registry, 4, Duration.ofSeconds(5))) {
            ModelRouter router = router(f, shadows, id -> { });

            CompletableFuture<ModelRouter.RoutedResponses> r = router.inferAll(MODEL, OptionalLong.empty(),
                    Optional.empty(), target -> {
                        throw GantryException.invalid("input is too long");
                    });

            CompletionException e = assertThrows(CompletionException.class, r::join);
            assertEquals(ErrorCode.INVALID_ARG, ((GantryException) e.getCause()).code());
        }
    }

    @Test
    void routingKey_picksStickyVersion() {
        try (ServingFixture f = new ServingFixture(dir, 1, 1, 2).start();
             ShadowRunner shadows = ShadowRunner.start(f.lifecycle, f.registry, 4, Duration.ofSeconds(5))) {
            f.deployments.loadVersion(MODEL, 1, Actors.as("ops", "deploy")).join();
            TrafficPolicy p = new TrafficPolicy(List.of(new Route(1, 50), new Route(2, 50)), List.of());
            f.deployments.applyPolicy(MODEL, p, OptionalLong.empty(), Actors.as("a", "deploy"), "");
            ModelRouter router = router(f, shadows, id -> { });
            long expected = TrafficSplitter.of(p).pickSticky("user-7");

            for (int i = 0; i < 5; i++) {
                RoutedResponse r = router.infer(MODEL, OptionalLong.empty(), Optional.of("user-7"), request(i)).join();
                assertEquals(expected, r.response().model().version());
                assertEquals(RouteKind.STICKY, r.kind());
            }
        }
    }

    @Test
    void pinned_toUnloadedVersion_isNotFound() {
        try (ServingFixture f = new ServingFixture(dir, 0, 1).start();
             ShadowRunner shadows = ShadowRunner.start(f.lifecycle, f.registry, 4, Duration.ofSeconds(5))) {
            f.addVersion(2);
            f.deployments.loadVersion(MODEL, 2, Actors.as("ops", "deploy")).join();
            f.deployments.applyPolicy(MODEL, TrafficPolicy.single(2), OptionalLong.empty(), Actors.as("a", "deploy"), "");
            f.deployments.drained().join();
            ModelRouter router = router(f, shadows, id -> { });

            CompletionException e = assertThrows(CompletionException.class,
                    () -> router.infer(MODEL, OptionalLong.of(1), Optional.empty(), request(0)).join());
            assertEquals(ErrorCode.NOT_FOUND, assertInstanceOf(GantryException.class, e.getCause()).code());
            assertEquals(RouteKind.PINNED,
                    router.infer(MODEL, OptionalLong.of(2), Optional.empty(), request(0)).join().kind());
        }
    }

    @Test
    void versionStartingToDrainBetweenResolveAndEnqueue_requestIsAnsweredByNewRoute() {
        try (ServingFixture f = new ServingFixture(dir, 0, 1).start();
             ShadowRunner shadows = ShadowRunner.start(f.lifecycle, f.registry, 4, Duration.ofSeconds(5))) {
            f.addVersion(2);
            f.deployments.loadVersion(MODEL, 2, Actors.as("ops", "deploy")).join();
            List<ModelId> admitted = new ArrayList<>();
            AtomicBoolean swapped = new AtomicBoolean();
            ModelRouter router = router(f, shadows, id -> {
                admitted.add(id);
                if (swapped.compareAndSet(false, true)) {
                    // the swap lands after this request chose version 1: version 1 stops admitting
                    f.deployments.applyPolicy(MODEL, TrafficPolicy.single(2), OptionalLong.empty(), Actors.as("a", "deploy"), "");
                }
            });

            RoutedResponse r = router.infer(MODEL, OptionalLong.empty(), Optional.empty(), request(0)).join();

            assertEquals(new ModelId(MODEL, 2), r.response().model());
            assertEquals(List.of(new ModelId(MODEL, 1), new ModelId(MODEL, 2)), admitted);
            assertArrayEquals(Tensors.floats(RecordingExecutor.doubled(request(0).inputs().get(0))), doubled(r));
        }
    }

    @Test
    void slowShadowWithFullQueue_dropsShadowCopies_primaryAnswersUnchanged() throws InterruptedException {
        try (ServingFixture f = new ServingFixture(dir, 1, 1, 2).start();
             ShadowRunner shadows = ShadowRunner.start(f.lifecycle, f.registry, 1, Duration.ofSeconds(10))) {
            f.deployments.loadVersion(MODEL, 1, Actors.as("ops", "deploy")).join();
            f.deployments.applyPolicy(MODEL, new TrafficPolicy(List.of(new Route(1, 1)),
                    List.of(new ShadowRoute(2, 100))), OptionalLong.empty(), Actors.as("a", "deploy"), "");
            f.executor(2).holdRuns();
            ModelRouter router = router(f, shadows, id -> { });

            List<CompletableFuture<RoutedResponse>> answers = new ArrayList<>();
            answers.add(router.infer(MODEL, OptionalLong.empty(), Optional.empty(), request(0)));
            answers.get(0).join();
            f.executor(2).awaitRunsStarted(2); // the warm-up run and the first shadow copy, now held
            for (int i = 1; i < 6; i++) {
                answers.add(router.infer(MODEL, OptionalLong.empty(), Optional.empty(), request(i)));
            }

            for (int i = 0; i < answers.size(); i++) {
                RoutedResponse r = answers.get(i).join();
                assertEquals(new ModelId(MODEL, 1), r.response().model());
                assertArrayEquals(Tensors.floats(RecordingExecutor.doubled(request(i).inputs().get(0))), doubled(r));
            }
            // one copy held in the shadow model, one waiting in the queue, the other four dropped
            assertEquals(4.0, count(f, "shadow.dropped", "model", MODEL, "version", "2"));
            f.executor(2).releaseRuns();
            await(() -> count(f, "shadow.requests", "model", MODEL, "version", "2", "outcome", "agree") == 2.0);
        }
    }

    @Test
    void failingShadow_countsError_primaryUnaffected() {
        try (ServingFixture f = new ServingFixture(dir, 1, 1, 2).start();
             ShadowRunner shadows = ShadowRunner.start(f.lifecycle, f.registry, 8, Duration.ofSeconds(10))) {
            f.deployments.loadVersion(MODEL, 1, Actors.as("ops", "deploy")).join();
            f.deployments.applyPolicy(MODEL, new TrafficPolicy(List.of(new Route(1, 1)),
                    List.of(new ShadowRoute(2, 100))), OptionalLong.empty(), Actors.as("a", "deploy"), "");
            f.executor(2).failRun(1, new GantryException(ErrorCode.INTERNAL, "shadow engine failed"));
            ModelRouter router = router(f, shadows, id -> { });

            RoutedResponse r = router.infer(MODEL, OptionalLong.empty(), Optional.empty(), request(0)).join();

            assertEquals(new ModelId(MODEL, 1), r.response().model());
            await(() -> count(f, "shadow.requests", "model", MODEL, "version", "2", "outcome", "error") == 1.0);
            assertEquals(1.0, count(f, "routing.requests", "model", MODEL, "version", "2", "kind", "shadow"));
        }
    }
}
