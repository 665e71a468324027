package dev.gantry.core.routing;

import dev.gantry.core.access.Actor;
import dev.gantry.core.governance.TrafficGate;
import dev.gantry.core.metrics.VersionStats;
import dev.gantry.core.model.ModelId;
import dev.gantry.core.rollout.GateSettings;
import dev.gantry.core.rollout.RolloutPlan;
import dev.gantry.core.rollout.RolloutState;
import dev.gantry.core.rollout.Rollouts;
import dev.gantry.core.rollout.Step;
import dev.gantry.store.deployment.Route;
import dev.gantry.store.rollout.RolloutStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The rollout state machine on a manual clock, with the per-version counters fed directly: steps advance only
 * when their time is up and they have their requests, a failing gate rolls back at once, pause stops the
 * step's clock, and a new service over the same store resumes a running step with the time it had left.
 * Nothing sleeps.
 */
class RolloutsTest {
    static final ModelId CANDIDATE = new ModelId(ServingFixture.MODEL, 1);
    static final ModelId BASELINE = new ModelId(ServingFixture.MODEL, 2);

    @TempDir
    Path dir;
    ServingFixture f;
    final ManualClock clock = new ManualClock(Instant.parse("2026-01-01T00:00:00Z"));
    final VersionStats stats = new VersionStats();
    final RolloutStore store = RolloutStore.inMemory();
    Rollouts rollouts;

    static final class ManualClock extends Clock {
        Instant now;

        ManualClock(Instant now) {
            this.now = now;
        }

        void advance(Duration d) {
            now = now.plus(d);
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }

    @BeforeEach
    void start() {
        f = new ServingFixture(dir, 1, 1, 2).start();
        f.deployments.loadVersion(ServingFixture.MODEL, 1, Actor.SYSTEM).join();
        rollouts = newService();
    }

    @AfterEach
    void stop() {
        f.close();
    }

    Rollouts newService() {
        return Rollouts.create(f.deployments, TrafficGate.allowAll(), stats, store, Optional.empty(),
                f.registry, clock);
    }

    static RolloutPlan plan(Step... steps) {
        return new RolloutPlan(1, OptionalLong.empty(), List.of(steps), GateSettings.DEFAULTS);
    }

    void feed(ModelId id, int ok, int errors) {
        for (int i = 0; i < ok; i++) {
            stats.offer(id);
            stats.record(id, false, 1_000_000);
        }
        for (int i = 0; i < errors; i++) {
            stats.offer(id);
            stats.record(id, true, 1_000_000);
        }
    }

    /** Requests handed to the version that it has not answered (queued, hung). */
    void unanswered(ModelId id, int n) {
        for (int i = 0; i < n; i++) {
            stats.offer(id);
        }
    }

    Map<Long, Integer> weights() {
        return f.deployments.snapshot(ServingFixture.MODEL).orElseThrow().policy().routes().stream()
                .collect(Collectors.toMap(Route::version, Route::weight));
    }

    @Test
    void step_advancesOnlyWhenItsTimeIsUpAndItHasItsRequests_thenPromotes() {
        String id = rollouts.start(ServingFixture.MODEL, plan(
                Step.of(0, Step.Kind.WEIGHT, 20, Duration.ofMinutes(1), 150),
                Step.of(1, Step.Kind.WEIGHT, 50, Duration.ofMinutes(1), 150)), Actor.ANONYMOUS).id();
        assertEquals(Map.of(2L, 80, 1L, 20), weights());
        feed(CANDIDATE, 200, 0);
        feed(BASELINE, 800, 0);
        clock.advance(Duration.ofSeconds(30));
        rollouts.tick();
        assertEquals(0, rollouts.get(ServingFixture.MODEL, id).stepIndex(), "time not up yet");

        clock.advance(Duration.ofSeconds(31));
        rollouts.tick();
        assertEquals(1, rollouts.get(ServingFixture.MODEL, id).stepIndex());
        assertEquals(Map.of(2L, 50, 1L, 50), weights());

        clock.advance(Duration.ofMinutes(2));
        rollouts.tick();
        assertEquals(RolloutState.RUNNING, rollouts.get(ServingFixture.MODEL, id).state(),
                "the new step's window has no requests yet");
        feed(CANDIDATE, 200, 0);
        feed(BASELINE, 200, 0);
        rollouts.tick();
        assertEquals(RolloutState.PROMOTED, rollouts.get(ServingFixture.MODEL, id).state());
        assertEquals(Map.of(1L, 100), weights());
        assertEquals(List.of(2L), f.deployments.snapshot(ServingFixture.MODEL).orElseThrow().standby());
    }

    @Test
    void failingErrorGate_rollsBackAtTheNextTick_beforeTheStepsTimeIsUp() {
        String id = rollouts.start(ServingFixture.MODEL, plan(
                Step.of(0, Step.Kind.WEIGHT, 20, Duration.ofMinutes(10), 1000)), Actor.ANONYMOUS).id();
        feed(CANDIDATE, 160, 40);
        feed(BASELINE, 800, 0);
        clock.advance(Duration.ofSeconds(1));
        rollouts.tick();
        Rollouts.View v = rollouts.get(ServingFixture.MODEL, id);
        assertEquals(RolloutState.ROLLED_BACK, v.state());
        assertEquals(Map.of(2L, 100), weights());
    }

    @Test
    void pause_stopsTheStepsClock_andResumeGivesBackTheTimeLeft() {
        String id = rollouts.start(ServingFixture.MODEL, plan(
                Step.of(0, Step.Kind.WEIGHT, 20, Duration.ofMinutes(1), 0)), Actor.ANONYMOUS).id();
        clock.advance(Duration.ofSeconds(20));
        assertEquals(Duration.ofSeconds(40), rollouts.pause(ServingFixture.MODEL, id, Actor.ANONYMOUS).timeLeft());
        clock.advance(Duration.ofHours(1));
        rollouts.tick();
        assertEquals(RolloutState.PAUSED, rollouts.get(ServingFixture.MODEL, id).state());
        assertEquals(Duration.ofSeconds(40), rollouts.resume(ServingFixture.MODEL, id, Actor.ANONYMOUS).timeLeft());
    }

    @Test
    void newServiceOverTheSameStore_resumesTheRunningStepWithTheTimeItHadLeft() {
        String id = rollouts.start(ServingFixture.MODEL, plan(
                Step.of(0, Step.Kind.WEIGHT, 20, Duration.ofMinutes(1), 100)), Actor.ANONYMOUS).id();
        clock.advance(Duration.ofSeconds(15));
        rollouts.tick(); // checkpoint: 15 s of the step used
        clock.advance(Duration.ofMinutes(5)); // the server is down
        Rollouts after = newService();
        after.resumeAll();
        Rollouts.View v = after.get(ServingFixture.MODEL, id);
        assertEquals(RolloutState.RUNNING, v.state());
        assertEquals(Duration.ofSeconds(45), v.timeLeft());
        clock.advance(Duration.ofSeconds(46));
        after.tick();
        assertEquals(RolloutState.RUNNING, after.get(ServingFixture.MODEL, id).state(),
                "requests from before the restart do not count");
    }

    @Test
    void candidateThatStopsAnswering_isRolledBackByTheThroughputGate_whileErrorAndLatencyGatesWait() {
        String id = rollouts.start(ServingFixture.MODEL, plan(
                Step.of(0, Step.Kind.WEIGHT, 20, Duration.ofMinutes(10), 1000)), Actor.ANONYMOUS).id();
        feed(CANDIDATE, 10, 0);
        unanswered(CANDIDATE, 190);
        feed(BASELINE, 800, 0);
        clock.advance(Duration.ofSeconds(1));
        rollouts.tick();
        Rollouts.View v = rollouts.get(ServingFixture.MODEL, id);
        assertEquals(RolloutState.ROLLED_BACK, v.state());
        org.junit.jupiter.api.Assertions.assertTrue(v.reason().startsWith("gate throughput failed at step 1"),
                v.reason());
        org.junit.jupiter.api.Assertions.assertTrue(v.reason().contains(
                "candidate answered 10 of 200 offered (5.0%), baseline 800 of 800 (100.0%): ratio 0.05 vs min 0.50"),
                v.reason());
        org.junit.jupiter.api.Assertions.assertTrue(v.reason().contains("error_rate WAITING"), v.reason());
        assertEquals(Map.of(2L, 100), weights());
    }

    @Test
    void candidateAnsweringItsShare_withAFewRequestsInFlight_passesTheThroughputGate() {
        String id = rollouts.start(ServingFixture.MODEL, plan(
                Step.of(0, Step.Kind.WEIGHT, 20, Duration.ofMinutes(1), 150)), Actor.ANONYMOUS).id();
        feed(CANDIDATE, 200, 0);
        unanswered(CANDIDATE, 8);
        feed(BASELINE, 800, 0);
        unanswered(BASELINE, 2);
        clock.advance(Duration.ofSeconds(61));
        rollouts.tick();
        Rollouts.View v = rollouts.get(ServingFixture.MODEL, id);
        assertEquals(RolloutState.PROMOTED, v.state(), v.reason());
        org.junit.jupiter.api.Assertions.assertTrue(v.reason().contains("throughput PASS"), v.reason());
    }

    @Test
    void fallbackNamedByThePolicy_isKeptThroughTheStepsAndAfterTheEnd() {
        f.addVersion(3);
        f.deployments.loadVersion(ServingFixture.MODEL, 3, Actor.SYSTEM).join();
        f.deployments.applyPolicy(ServingFixture.MODEL, dev.gantry.store.deployment.TrafficPolicy.single(2)
                .withFallback(OptionalLong.of(3)), OptionalLong.empty(), Actor.SYSTEM, "3 catches failures");
        String id = rollouts.start(ServingFixture.MODEL, plan(
                Step.of(0, Step.Kind.WEIGHT, 20, Duration.ofMinutes(1), 0)), Actor.ANONYMOUS).id();
        assertEquals(Map.of(2L, 80, 1L, 20), weights());
        assertEquals(OptionalLong.of(3), f.deployments.snapshot(ServingFixture.MODEL).orElseThrow().policy().fallback());
        rollouts.abort(ServingFixture.MODEL, id, Actor.ANONYMOUS);
        assertEquals(Map.of(2L, 100), weights());
        assertEquals(OptionalLong.of(3), f.deployments.snapshot(ServingFixture.MODEL).orElseThrow().policy().fallback());
    }

    @Test
    void pauseThroughAnotherServer_isNotOverwrittenByTheRunningServersNextCheckpoint() {
        String id = rollouts.start(ServingFixture.MODEL, plan(
                Step.of(0, Step.Kind.WEIGHT, 20, Duration.ofMinutes(10), 1000)), Actor.ANONYMOUS).id();
        Rollouts other = newService(); // a second server over the same store, not running the ticks
        other.follow(ServingFixture.MODEL);
        other.pause(ServingFixture.MODEL, id, Actor.ANONYMOUS);
        clock.advance(Duration.ofSeconds(5)); // the running server's checkpoint is due

        rollouts.tick();

        assertEquals(RolloutState.PAUSED.name(), store.load(id).orElseThrow().state());
        assertEquals(RolloutState.PAUSED, rollouts.get(ServingFixture.MODEL, id).state());
    }
}
