package dev.gantry.core.routing;

import dev.gantry.core.access.Actor;
import dev.gantry.core.governance.TrafficGate;
import dev.gantry.core.metrics.VersionStats;
import dev.gantry.core.model.ModelId;
import dev.gantry.core.rollout.Analysis;
import dev.gantry.core.rollout.ObservationSync;
import dev.gantry.core.rollout.RolloutState;
import dev.gantry.core.rollout.Rollouts;
import dev.gantry.core.rollout.Step;
import dev.gantry.store.rollout.RolloutObservationStore;
import dev.gantry.store.rollout.RolloutStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

import static dev.gantry.core.routing.RolloutsTest.BASELINE;
import static dev.gantry.core.routing.RolloutsTest.CANDIDATE;
import static dev.gantry.core.routing.RolloutsTest.plan;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two servers over one rollout store and one observation store, each with its own counters: "a" holds the
 * background lease and runs the ticks, "b" serves requests and shares its counts. The analysis on a counts b's
 * requests, a failing candidate seen only by b is rolled back by a, a takes no decision in a step before it
 * has read the others' counts of it, and when b takes over the lease it keeps the counts a shared. Rounds of
 * sharing are run by hand (syncNow); nothing sleeps.
 */
class SharedRolloutAnalysisTest {
    @TempDir
    Path dir;
    ServingFixture f;
    final RolloutsTest.ManualClock clock = new RolloutsTest.ManualClock(Instant.parse("2026-01-01T00:00:00Z"));
    final RolloutStore store = RolloutStore.inMemory();
    final RolloutObservationStore observations = RolloutObservationStore.inMemory(store);
    final VersionStats statsA = new VersionStats();
    final VersionStats statsB = new VersionStats();
    final AtomicBoolean aHolds = new AtomicBoolean(true);
    Rollouts a;
    Rollouts b;
    ObservationSync syncA;
    ObservationSync syncB;

    @BeforeEach
    void start() {
        f = new ServingFixture(dir, 1, 1, 2).start();
        f.deployments.loadVersion(ServingFixture.MODEL, 1, Actor.SYSTEM).join();
        a = Rollouts.create(f.deployments, TrafficGate.allowAll(), statsA, store, Optional.empty(), f.registry, clock);
        b = Rollouts.create(f.deployments, TrafficGate.allowAll(), statsB, store, Optional.empty(), f.registry, clock);
        syncA = ObservationSync.over(a, observations, "host-a", aHolds::get);
        syncB = ObservationSync.over(b, observations, "host-b", () -> !aHolds.get());
    }

    @AfterEach
    void stop() {
        f.close();
    }

    static void feed(VersionStats stats, ModelId id, int ok, int errors, long nanos) {
        for (int i = 0; i < ok + errors; i++) {
            stats.offer(id);
            stats.record(id, i >= ok, nanos);
        }
    }

    String startOnA(int minRequests) {
        String id = a.start(ServingFixture.MODEL, plan(Step.of(0, Step.Kind.WEIGHT, 20, Duration.ofMinutes(1),
                minRequests)), Actor.ANONYMOUS).id();
        b.follow(ServingFixture.MODEL);
        return id;
    }

    /** One round of sharing on both servers: b writes, then a writes and reads. */
    void share() {
        syncB.syncNow();
        syncA.syncNow();
    }

    @Test
    void holdersAnalysis_countsTheRequestsTheOtherServerServed_withItsOwn() {
        String id = startOnA(150);
        feed(statsB, CANDIDATE, 150, 0, 1_000_000);
        feed(statsB, BASELINE, 600, 0, 1_000_000);
        feed(statsA, CANDIDATE, 50, 0, 1_000_000);
        share();
        clock.advance(Duration.ofSeconds(10));
        a.tick();

        Rollouts.View v = a.get(ServingFixture.MODEL, id);
        Analysis an = v.analysis().orElseThrow();
        assertEquals(200, an.candidateRequests());
        assertEquals(200, an.candidateOffered());
        assertEquals(600, an.baselineRequests());
        assertEquals(2, v.analysisReplicas());
        assertEquals(RolloutState.RUNNING, v.state());
    }

    @Test
    void candidateFailingOnlyOnTheOtherServer_isRolledBackByTheHolder_whichServedNoneOfItsRequests() {
        String id = startOnA(1000);
        feed(statsB, CANDIDATE, 100, 100, 1_000_000);
        feed(statsB, BASELINE, 800, 0, 1_000_000);
        share();
        clock.advance(Duration.ofSeconds(1));
        a.tick();

        Rollouts.View v = a.get(ServingFixture.MODEL, id);
        assertEquals(RolloutState.ROLLED_BACK, v.state());
        assertTrue(v.reason().startsWith("gate error_rate failed at step 1"), v.reason());
        assertTrue(v.reason().contains("candidate 100/200 errors, baseline 0/800"), v.reason());
        assertEquals(VersionStats.Counts.ZERO.requests(), statsA.counts(CANDIDATE).requests());
    }

    @Test
    void holder_takesNoDecisionInAStep_beforeItHasReadTheOthersCountsOfIt() {
        String id = startOnA(1000);
        feed(statsA, CANDIDATE, 100, 100, 1_000_000);
        feed(statsA, BASELINE, 800, 0, 1_000_000);
        clock.advance(Duration.ofSeconds(1));
        a.tick();
        assertEquals(RolloutState.RUNNING, a.get(ServingFixture.MODEL, id).state(), "others not read yet");

        syncA.syncNow();
        a.tick();
        assertEquals(RolloutState.ROLLED_BACK, a.get(ServingFixture.MODEL, id).state());
    }

    @Test
    void newLeaseHolder_keepsTheStepsCountsTheOldHolderShared_andAddsItsOwn() {
        String id = startOnA(1000);
        feed(statsA, CANDIDATE, 120, 0, 1_000_000);
        feed(statsA, BASELINE, 480, 0, 1_000_000);
        feed(statsB, CANDIDATE, 30, 0, 1_000_000);
        share();
        clock.advance(Duration.ofSeconds(5));
        a.tick(); // checkpoint
        // a dies (its last write is in the store); b takes the lease
        aHolds.set(false);
        b.resumeAll();
        syncB.syncNow();
        clock.advance(Duration.ofSeconds(1));
        b.tick();

        Rollouts.View v = b.get(ServingFixture.MODEL, id);
        assertEquals(RolloutState.RUNNING, v.state());
        Analysis an = v.analysis().orElseThrow();
        assertEquals(150, an.candidateRequests());
        assertEquals(480, an.baselineRequests());
        assertEquals(2, v.analysisReplicas());
    }

    @Test
    void observationsOfAnEndedRollout_areDeletedByTheHoldersNextRound() {
        String id = startOnA(1000);
        feed(statsB, CANDIDATE, 10, 0, 1_000_000);
        share();
        assertEquals(1, observations.step(id, 0).size());
        a.abort(ServingFixture.MODEL, id, Actor.ANONYMOUS);
        syncA.syncNow();
        assertEquals(List.of(), observations.step(id, 0));
    }
}
