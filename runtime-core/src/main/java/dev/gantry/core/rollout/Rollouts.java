package dev.gantry.core.rollout;

import dev.gantry.core.access.Actor;
import dev.gantry.core.audit.AuditTrail;
import dev.gantry.core.error.ErrorCode;
import dev.gantry.core.error.GantryException;
import dev.gantry.core.governance.ReleaseStatus;
import dev.gantry.core.governance.TrafficGate;
import dev.gantry.core.metrics.MetricNames;
import dev.gantry.core.metrics.VersionStats;
import dev.gantry.core.model.ModelId;
import dev.gantry.core.routing.DeploymentManager;
import dev.gantry.core.routing.DeploymentSnapshot;
import dev.gantry.store.catalog.LeaseLostException;
import dev.gantry.store.catalog.ReleaseStage;
import dev.gantry.store.deployment.PolicyRevision;
import dev.gantry.store.deployment.Route;
import dev.gantry.store.deployment.ShadowRoute;
import dev.gantry.store.deployment.TrafficPolicy;
import dev.gantry.store.rollout.RolloutRecord;
import dev.gantry.store.rollout.RolloutStore;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Progressive delivery: runs rollout plans step by step, analyses the candidate against the baseline on every
 * {@link #tick()}, rolls back at once when a gate fails and promotes when every step has passed. Every traffic
 * change goes through {@link DeploymentManager#applyPolicy} (so the traffic gate and the policy audit apply);
 * every decision is an audit entry with the numbers that decided it.
 */
public final class Rollouts {
    /*
     * State lives in the rollout store (one row per rollout) and, for active rollouts, in `active` (guarded by
     * this), which adds what only memory can hold: the counters at the start of the step's window and the last
     * analysis. Time comes from the injected clock only, so tests drive steps with a fake clock and tick().
     *
     * Several servers on one catalogue (ObservationSync, see shareObservations): every server tracks the active
     * rollouts (follow) with a window of its own counters per step, and shares it through the catalogue about
     * once a second. The lease holder analyses its own live window plus what the others last shared for the
     * step (up to ~1 s old); it takes no decision in a step before it has read the others' counts for it once.
     * A window lasts as long as its step on that server: pausing and resuming keep it, and so does taking the
     * lease (resumeAll keeps the window this server already had for the step), so a handover loses nothing of
     * the step's evidence: the old holder's counts stay in the catalogue up to its last write.
     *
     * Restart on one server (embedded catalogue): the analysis window (counters in memory) is lost. A RUNNING
     * rollout resumes its step with the time it had left at its last checkpoint (the row is checkpointed at most
     * once a second while running), and its window restarts: the step can pass only on min_requests candidate
     * requests seen after the restart, so it never passes on evidence it no longer has. A PAUSED one stays
     * paused. The traffic policy itself is restored by the DeploymentManager, so the split in force is the step's.
     *
     * Rolling back and aborting apply "all traffic to the baseline"; promoting applies "all traffic to the
     * candidate", which leaves the baseline loaded as the first standby version (warm).
     *
     * Background work (tick, resumeAll) runs fenced on a shared catalogue (Replication.runFenced): a write the
     * database refuses because this server no longer holds the lease throws LeaseLostException. It is never
     * taken for a failed step or a failed rollback: it ends the tick at once, and what this server holds in
     * memory of the model's rollouts is read again from the store (follow), so nothing decided but not
     * written lingers here; the holder that took over decides from what is stored.
     */
    private static final Logger log = LoggerFactory.getLogger(Rollouts.class);
    private static final List<String> ACTIVE = List.of(RolloutState.PENDING.name(), RolloutState.RUNNING.name(),
            RolloutState.PAUSED.name());
    private static final Duration CHECKPOINT_EVERY = Duration.ofSeconds(1);

    private final DeploymentManager deployments;
    private final TrafficGate gate;
    private final VersionStats stats;
    private final RolloutStore store;
    private final Optional<AuditTrail> audit;
    private final MeterRegistry registry;
    private final Clock clock;
    private final Map<String, Active> active = new LinkedHashMap<>();
    private final Map<String, AtomicReference<Double>> gauges = new ConcurrentHashMap<>();
    /** Windows of steps this server left since ObservationSync last asked (only while shared). */
    private final List<Window> leftWindows = new ArrayList<>();
    private boolean shared;

    private static final class Active {
        RolloutRecord rec;
        final RolloutPlan plan;
        VersionStats.Counts candidateStart = VersionStats.Counts.ZERO;
        VersionStats.Counts baselineStart = VersionStats.Counts.ZERO;
        /** The step the window (candidateStart, baselineStart) belongs to; -1 before the first. */
        int windowStep = -1;
        Optional<Analysis> last = Optional.empty();
        /** What the other servers last shared of step othersStep (-1: nothing read yet for the step). */
        int othersStep = -1;
        VersionStats.Counts othersCandidate = VersionStats.Counts.ZERO;
        VersionStats.Counts othersBaseline = VersionStats.Counts.ZERO;
        int othersReplicas;
        /** Servers whose requests the last analysis counted. */
        int replicas;

        Active(RolloutRecord rec, RolloutPlan plan) {
            this.rec = rec;
            this.plan = plan;
        }
    }

    /**
     * What a rollout looks like from outside: its record, plan, time left in its step and live analysis.
     *
     * @param analysisReplicas the servers whose requests the analysis counts (0 without an analysis)
     */
    public record View(String id, String model, long candidate, long baseline, RolloutState state, int stepIndex,
                       RolloutPlan plan, Duration timeLeft, Optional<Analysis> analysis, String reason,
                       Instant createdAt, String createdBy, Instant updatedAt, int analysisReplicas) {
        /** The step in force (PENDING, RUNNING, PAUSED) or where it ended. */
        public Step step() {
            List<Step> s = plan.analysed();
            return s.get(Math.min(stepIndex, s.size() - 1));
        }
    }

    private Rollouts(DeploymentManager deployments, TrafficGate gate, VersionStats stats, RolloutStore store,
                     Optional<AuditTrail> audit, MeterRegistry registry, Clock clock) {
        this.deployments = deployments;
        this.gate = gate;
        this.stats = stats;
        this.store = store;
        this.audit = audit;
        this.registry = registry;
        this.clock = clock;
    }

    /** One server's counts of one step of a rollout since the step began there. */
    record Window(String rolloutId, int stepIndex, VersionStats.Counts candidate, VersionStats.Counts baseline) {
    }

    /** The rollout service; call {@link #resumeAll()} once deployments are restored, then {@link #tick()} often. */
    public static Rollouts create(DeploymentManager deployments, TrafficGate gate, VersionStats stats,
                                  RolloutStore store, Optional<AuditTrail> audit, MeterRegistry registry, Clock clock) {
        return new Rollouts(deployments, gate, stats, store, audit, registry, clock);
    }

    /**
     * Call (holding no lock) before a client's start, pause, resume, promote or abort: on a shared catalogue,
     * waits briefly until this server has applied what other servers committed before, so a rollout started or
     * changed through another one is known here; see {@link DeploymentManager#awaitCatalogue()}.
     */
    public void awaitCatalogue() {
        deployments.awaitCatalogue();
    }

    /**
     * Starts a rollout: checks the plan against the model, records it and applies its first step.
     *
     * @throws GantryException NOT_FOUND for an unknown model; FAILED_PRECONDITION when the candidate is not
     *     APPROVED or not READY, the model has another active rollout, or the baseline takes no traffic
     */
    public synchronized View start(String model, RolloutPlan plan, Actor actor) {
        DeploymentSnapshot snap = deployments.snapshot(model).orElseThrow(() -> new GantryException(
                ErrorCode.FAILED_PRECONDITION, "model '" + model + "' has no traffic policy yet; load a version first"));
        for (Active a : active.values()) {
            if (a.rec.model().equals(model)) {
                throw new GantryException(ErrorCode.FAILED_PRECONDITION, "model '" + model + "' already has rollout "
                        + a.rec.id() + " (" + a.rec.state() + "); pause, promote or abort it first");
            }
        }
        long candidate = plan.candidate();
        if (gate != TrafficGate.allowAll()) {
            Optional<ReleaseStage> stage = gate.status(model, candidate).map(ReleaseStatus::stage);
            if (stage.isEmpty()) {
                throw new GantryException(ErrorCode.FAILED_PRECONDITION, "version " + candidate + " of model '" + model
                        + "' is not catalogued; a rollout needs an APPROVED candidate");
            }
            if (stage.get() != ReleaseStage.APPROVED) {
                throw new GantryException(ErrorCode.FAILED_PRECONDITION, "version " + candidate + " of model '" + model
                        + "' is " + stage.get() + "; a rollout needs an APPROVED candidate");
            }
        }
        long baseline = plan.baseline().orElseGet(() -> snap.policy().routes().stream()
                .filter(r -> r.weight() > 0 && r.version() != candidate)
                .max(Comparator.comparingInt(Route::weight)).map(Route::version)
                .orElseThrow(() -> new GantryException(ErrorCode.FAILED_PRECONDITION, "model '" + model
                        + "' has no primary version other than the candidate " + candidate + " to compare with; "
                        + "name a baseline")));
        if (baseline == candidate) {
            throw new GantryException(ErrorCode.INVALID_ARG, "baseline must differ from candidate, both were "
                    + candidate);
        }
        Instant now = clock.instant();
        String id = "ro-" + UUID.randomUUID().toString().substring(0, 8);
        RolloutRecord rec = new RolloutRecord(id, model, candidate, baseline, RolloutState.PENDING.name(), 0, now, 0,
                PlanCodec.encode(plan), "", now, actor.name(), now);
        Active a = new Active(rec, plan);
        enter(a, 0, actor, "rollout " + id + " of version " + candidate + " against " + baseline + " started by "
                + actor.name());
        active.put(id, a);
        log.info("model '{}': rollout {} of version {} against {} started: {}", model, id, candidate, baseline,
                plan.steps());
        return view(a);
    }

    /** Every rollout of {@code model}, oldest first. */
    public synchronized List<View> list(String model) {
        return store.forModel(model).stream().map(this::view).toList();
    }

    /** @throws GantryException NOT_FOUND when {@code model} has no rollout {@code id} */
    public synchronized View get(String model, String id) {
        return view(record(model, id));
    }

    /** Holds the current step: its split stays, its clock stops. */
    public synchronized View pause(String model, String id, Actor actor) {
        Active a = requireActive(model, id, RolloutState.RUNNING, "pause");
        Instant now = clock.instant();
        long left = timeLeft(a, now).toMillis();
        a.rec = with(a.rec, RolloutState.PAUSED, a.rec.stepIndex(), a.rec.stepStartedAt(), left, "paused by "
                + actor.name(), now);
        save(a, actor, "rollout.pause", "RUNNING step " + (a.rec.stepIndex() + 1), "PAUSED with " + left
                + " ms left in the step; " + summary(a));
        return view(a);
    }

    /** Lets a paused step run again for the time it had left. */
    public synchronized View resume(String model, String id, Actor actor) {
        Active a = requireActive(model, id, RolloutState.PAUSED, "resume");
        Instant now = clock.instant();
        Step s = a.plan.analysed().get(a.rec.stepIndex());
        Instant started = now.minus(s.duration()).plusMillis(a.rec.pausedLeftMillis());
        a.rec = with(a.rec, RolloutState.RUNNING, a.rec.stepIndex(), started, 0, "resumed by " + actor.name(), now);
        save(a, actor, "rollout.resume", "PAUSED", "RUNNING step " + (a.rec.stepIndex() + 1) + " with "
                + timeLeft(a, now).toMillis() + " ms left");
        return view(a);
    }

    /** Gives the candidate all traffic now, whatever the analysis says. */
    public synchronized View promote(String model, String id, Actor actor) {
        Active a = requireActive(model, id, null, "promote");
        finish(a, actor, RolloutState.PROMOTED, "promoted by " + actor.name() + " at step "
                + (a.rec.stepIndex() + 1) + "; " + summary(a));
        return view(a);
    }

    /** Gives the baseline all traffic back and ends the rollout. */
    public synchronized View abort(String model, String id, Actor actor) {
        Active a = requireActive(model, id, null, "abort");
        finish(a, actor, RolloutState.ABORTED, "aborted by " + actor.name() + " at step " + (a.rec.stepIndex() + 1)
                + "; " + summary(a));
        return view(a);
    }

    /**
     * Picks up the rollouts a previous run left active (see the class comment for what resuming means). Call
     * after deployments are restored.
     */
    public synchronized void resumeAll() {
        try {
            resumeStored();
        } catch (LeaseLostException e) {
            forgetUnwritten(null, e);
            throw e;
        }
    }

    /**
     * After a refused write: reads {@code model}'s rollouts (all active ones when null) from the store again, so
     * nothing decided here but not written stays in memory. A failure to read is added to {@code refused}.
     */
    private void forgetUnwritten(String model, LeaseLostException refused) {
        try {
            if (model == null) {
                followAll();
            } else {
                follow(model);
            }
        } catch (RuntimeException e) {
            refused.addSuppressed(e);
        }
    }

    private void resumeStored() {
        Instant now = clock.instant();
        for (RolloutRecord rec : store.inStates(ACTIVE)) {
            RolloutPlan plan;
            try {
                plan = PlanCodec.decode(rec.plan());
            } catch (RuntimeException e) {
                log.error("rollout {} of model '{}' has an unreadable plan; left as it is: {}", rec.id(), rec.model(),
                        e.toString());
                continue;
            }
            Active a = new Active(rec, plan);
            Active followed = active.get(rec.id());
            if (followed != null && followed.windowStep == rec.stepIndex()) {
                a.candidateStart = followed.candidateStart;
                a.baselineStart = followed.baselineStart;
                a.windowStep = followed.windowStep;
            } else {
                startWindow(a);
            }
            active.put(rec.id(), a);
            if (rec.state().equals(RolloutState.RUNNING.name())) {
                long elapsed = Math.max(0, Duration.between(rec.stepStartedAt(), rec.updatedAt()).toMillis());
                Instant started = now.minusMillis(elapsed);
                a.rec = with(rec, RolloutState.RUNNING, rec.stepIndex(), started, 0, rec.reason(), now);
                long min = plan.analysed().get(rec.stepIndex()).minRequests();
                save(a, Actor.SYSTEM, "rollout.resume", "RUNNING step " + (rec.stepIndex() + 1) + " before restart",
                        shared ? "RUNNING step " + (rec.stepIndex() + 1) + " resumed by the server holding the "
                                + "background lease with " + timeLeft(a, now).toMillis() + " ms left; the analysis"
                                + " keeps the step's counts every server shared, the step needs " + min
                                + " candidate requests in all"
                        : "RUNNING step " + (rec.stepIndex() + 1) + " resumed after restart with "
                                + timeLeft(a, now).toMillis() + " ms left; analysis window restarted (the counts"
                                + " before the restart were lost), the step needs " + min
                                + " candidate requests seen from now");
            } else if (rec.state().equals(RolloutState.PENDING.name())) {
                finish(a, Actor.SYSTEM, RolloutState.ABORTED, "the server stopped before the first step applied");
            }
            log.info("model '{}': rollout {} resumed in state {}", rec.model(), rec.id(), a.rec.state());
        }
    }

    /**
     * Reads {@code model}'s rollouts from the store again, for a change another server sharing the catalogue
     * made (a rollout it started, paused, resumed, promoted or aborted, or a step the background lease holder
     * took): active ones are tracked here as stored (their analysis window restarts when their step changed;
     * a pause or resume keeps it),
     * ended ones are dropped. Writes nothing.
     */
    public synchronized void follow(String model) {
        Map<String, RolloutRecord> stored = new LinkedHashMap<>();
        for (RolloutRecord rec : store.forModel(model)) {
            stored.put(rec.id(), rec);
        }
        active.values().removeIf(a -> a.rec.model().equals(model) && !isActive(stored.get(a.rec.id())));
        for (RolloutRecord rec : stored.values()) {
            if (!isActive(rec)) {
                continue;
            }
            Active a = active.get(rec.id());
            if (a == null) {
                try {
                    a = new Active(rec, PlanCodec.decode(rec.plan()));
                } catch (RuntimeException e) {
                    log.error("rollout {} of model '{}' has an unreadable plan; not followed: {}", rec.id(), model,
                            e.toString());
                    continue;
                }
                active.put(rec.id(), a);
                startWindow(a);
            } else {
                boolean newStep = a.rec.stepIndex() != rec.stepIndex();
                a.rec = rec;
                if (newStep) {
                    startWindow(a);
                }
            }
        }
    }

    /** As {@link #follow(String)} for every model with an active rollout; for a server that does not run them. */
    public synchronized void followAll() {
        for (String model : store.inStates(ACTIVE).stream().map(RolloutRecord::model).distinct().toList()) {
            follow(model);
        }
    }

    private static boolean isActive(RolloutRecord rec) {
        return rec != null && ACTIVE.contains(rec.state());
    }

    /**
     * Analyses every running rollout and takes the decisions that are due.
     *
     * @throws LeaseLostException when run fenced and a write was refused: the tick stopped there
     */
    public synchronized void tick() {
        Instant now = clock.instant();
        for (Active a : List.copyOf(active.values())) {
            try {
                if (a.rec.state().equals(RolloutState.RUNNING.name())) {
                    decide(a, now);
                }
            } catch (LeaseLostException e) {
                log.info("rollout {} of model '{}': this server's decision was not written (it no longer holds the"
                        + " background lease); reading the rollout as stored", a.rec.id(), a.rec.model());
                forgetUnwritten(a.rec.model(), e);
                throw e;
            } catch (RuntimeException e) {
                log.error("rollout {} of model '{}': tick failed", a.rec.id(), a.rec.model(), e);
            }
        }
    }

    private void decide(Active a, Instant now) {
        int i = a.rec.stepIndex();
        Step s = a.plan.analysed().get(i);
        VersionStats.Counts c = stats.counts(new ModelId(a.rec.model(), a.rec.candidate())).minus(a.candidateStart);
        VersionStats.Counts b = stats.counts(new ModelId(a.rec.model(), a.rec.baseline())).minus(a.baselineStart);
        a.replicas = c.isEmpty() && b.isEmpty() ? 0 : 1;
        // Shared: no decision before the others' counts of this step were read once (a new step, a new lease).
        boolean othersRead = !shared || a.othersStep == i;
        if (shared && othersRead) {
            c = c.plus(a.othersCandidate);
            b = b.plus(a.othersBaseline);
            a.replicas += a.othersReplicas;
        }
        boolean timeUp = !now.isBefore(a.rec.stepStartedAt().plus(s.duration()));
        boolean finalLook = timeUp && c.requests() >= s.minRequests();
        Analysis an = Analysis.of(c, b, s.kind() == Step.Kind.SHADOW, a.plan.gates(), finalLook);
        a.last = Optional.of(an);
        publishGauges(a, an);
        Optional<Analysis.Gate> failed = othersRead ? an.failed() : Optional.empty();
        boolean passed = othersRead && finalLook && an.allPass();
        boolean checkpoint = Duration.between(a.rec.updatedAt(), now).compareTo(CHECKPOINT_EVERY) >= 0;
        if ((failed.isPresent() || passed || checkpoint) && changedElsewhere(a)) {
            return;
        }
        if (failed.isPresent()) {
            finish(a, Actor.SYSTEM, RolloutState.ROLLED_BACK, "gate " + failed.get().name() + " failed at step "
                    + (i + 1) + " (" + s + "): " + an.summary());
            return;
        }
        if (passed) {
            record(Actor.SYSTEM, "rollout.pass", a, "step " + (i + 1) + " (" + s + ")", "passed: " + an.summary());
            if (i + 1 < a.plan.analysed().size()) {
                enter(a, i + 1, Actor.SYSTEM, "rollout " + a.rec.id() + " step " + (i + 2) + " after step " + (i + 1)
                        + " passed");
            } else {
                finish(a, Actor.SYSTEM, RolloutState.PROMOTED, "every step passed; last: " + an.summary());
            }
            return;
        }
        if (checkpoint) {
            a.rec = with(a.rec, RolloutState.RUNNING, i, a.rec.stepStartedAt(), 0, a.rec.reason(), now);
            store.save(a.rec);
        }
    }

    /**
     * Whether another server sharing the catalogue changed the rollout's state or step since this one read it
     * (paused, promoted or aborted it through that server): then its record is taken (see {@link #follow}) and
     * this tick writes nothing over it. Read before each write of a tick, so a change made elsewhere is not
     * overwritten by a checkpoint or decision computed from the old state.
     */
    private boolean changedElsewhere(Active a) {
        Optional<RolloutRecord> stored = store.load(a.rec.id());
        if (stored.isEmpty() || (stored.get().state().equals(a.rec.state())
                && stored.get().stepIndex() == a.rec.stepIndex())) {
            return false;
        }
        log.info("rollout {} of model '{}' was changed through another server ({} step {}); following it",
                a.rec.id(), a.rec.model(), stored.get().state(), stored.get().stepIndex() + 1);
        follow(a.rec.model());
        return true;
    }

    /** Applies step {@code i}'s split, then records it; on failure the rollout ends with the baseline. */
    private void enter(Active a, int i, Actor actor, String reason) {
        Step s = a.plan.analysed().get(i);
        String model = a.rec.model();
        long cand = a.rec.candidate();
        long base = a.rec.baseline();
        TrafficPolicy policy = s.kind() == Step.Kind.SHADOW
                ? new TrafficPolicy(List.of(new Route(base, 100)), List.of(new ShadowRoute(cand, s.percent())),
                namedFallback(model, cand))
                : new TrafficPolicy(List.of(new Route(base, 100 - s.percent()), new Route(cand, s.percent())),
                List.of(), namedFallback(model, cand));
        Instant now = clock.instant();
        PolicyRevision r;
        try {
            r = deployments.applyPolicy(model, policy, OptionalLong.empty(), actor, reason);
        } catch (RuntimeException e) {
            if (i == 0 || e instanceof LeaseLostException) {
                throw e;
            }
            finish(a, Actor.SYSTEM, RolloutState.ROLLED_BACK, "step " + (i + 1) + " could not be applied: "
                    + e.getMessage());
            return;
        }
        String before = a.rec.state() + (a.rec.state().equals("PENDING") ? "" : " step " + (a.rec.stepIndex() + 1));
        a.rec = with(a.rec, RolloutState.RUNNING, i, now, 0, reason, now);
        startWindow(a);
        save(a, actor, "rollout.step", before, "RUNNING step " + (i + 1) + "/" + a.plan.analysed().size() + ": " + s
                + "; policy revision " + r.revision() + " (" + describe(policy) + ")");
        gauge("rollout.step|" + model, MetricNames.ROLLOUT_STEP, model, null).set((double) (i + 1));
    }

    /** Ends the rollout: the baseline takes all traffic back, or the candidate takes it all (PROMOTED). */
    private void finish(Active a, Actor actor, RolloutState end, String reason) {
        String model = a.rec.model();
        long to = end == RolloutState.PROMOTED ? a.rec.candidate() : a.rec.baseline();
        String applied;
        try {
            PolicyRevision r = deployments.applyPolicy(model, TrafficPolicy.single(to)
                            .withFallback(namedFallback(model, to)), OptionalLong.empty(), actor,
                    "rollout " + a.rec.id() + " " + end.name().toLowerCase(java.util.Locale.ROOT) + ": " + reason);
            applied = "policy revision " + r.revision() + ": all traffic to version " + to;
        } catch (LeaseLostException e) {
            throw e;
        } catch (RuntimeException e) {
            log.error("rollout {} of model '{}': could not send all traffic to version {}", a.rec.id(), model, to, e);
            applied = "all traffic to version " + to + " FAILED: " + e.getMessage();
        }
        Instant now = clock.instant();
        String before = a.rec.state() + " step " + (a.rec.stepIndex() + 1);
        a.rec = with(a.rec, end, a.rec.stepIndex(), a.rec.stepStartedAt(), 0, reason, now);
        String action = switch (end) {
            case PROMOTED -> "rollout.promote";
            case ABORTED -> "rollout.abort";
            default -> "rollout.rollback";
        };
        save(a, actor, action, before, end + ": " + reason + "; " + applied);
        active.remove(a.rec.id());
        gauge("rollout.step|" + model, MetricNames.ROLLOUT_STEP, model, null).set(0.0);
        log.info("model '{}': rollout {} {}: {}", model, a.rec.id(), end, reason);
    }

    /**
     * The fallback the policy in force names, kept through the rollout's policies unless it is {@code version}
     * (a version is not its own fallback).
     */
    private OptionalLong namedFallback(String model, long version) {
        OptionalLong f = deployments.snapshot(model).map(x -> x.policy().fallback()).orElse(OptionalLong.empty());
        return f.isPresent() && f.getAsLong() == version ? OptionalLong.empty() : f;
    }

    private void startWindow(Active a) {
        if (shared && a.windowStep >= 0 && a.windowStep != a.rec.stepIndex()) {
            leftWindows.add(window(a));
        }
        a.candidateStart = stats.counts(new ModelId(a.rec.model(), a.rec.candidate()));
        a.baselineStart = stats.counts(new ModelId(a.rec.model(), a.rec.baseline()));
        a.windowStep = a.rec.stepIndex();
        a.last = Optional.empty();
        a.othersStep = -1;
        a.othersCandidate = VersionStats.Counts.ZERO;
        a.othersBaseline = VersionStats.Counts.ZERO;
        a.othersReplicas = 0;
        a.replicas = 0;
    }

    private Window window(Active a) {
        return new Window(a.rec.id(), a.windowStep,
                stats.counts(new ModelId(a.rec.model(), a.rec.candidate())).minus(a.candidateStart),
                stats.counts(new ModelId(a.rec.model(), a.rec.baseline())).minus(a.baselineStart));
    }

    /**
     * From now on the analysis counts what the other servers share ({@link #observedElsewhere}) and waits, in
     * each step, until it has read that once; {@link #windows()} also returns the windows of steps left.
     */
    synchronized void shareObservations() {
        shared = true;
    }

    /**
     * This server's window of every active rollout (running or paused), then those of the steps it left since the
     * last call (their final counts).
     */
    synchronized List<Window> windows() {
        List<Window> out = new ArrayList<>(leftWindows);
        leftWindows.clear();
        for (Active a : active.values()) {
            if (a.windowStep >= 0 && !a.rec.state().equals(RolloutState.PENDING.name())) {
                out.add(window(a));
            }
        }
        return out;
    }

    /** The step in force of every rollout this server is running, by rollout id. */
    synchronized Map<String, Integer> running() {
        Map<String, Integer> out = new LinkedHashMap<>();
        for (Active a : active.values()) {
            if (a.rec.state().equals(RolloutState.RUNNING.name())) {
                out.put(a.rec.id(), a.rec.stepIndex());
            }
        }
        return out;
    }

    /** The ids of the rollouts this server tracks as active. */
    synchronized java.util.Set<String> activeIds() {
        return java.util.Set.copyOf(active.keySet());
    }

    /**
     * What the other servers shared of step {@code stepIndex} of rollout {@code id}, summed; ignored when the
     * rollout has moved on meanwhile.
     */
    synchronized void observedElsewhere(String id, int stepIndex, VersionStats.Counts candidate,
                                        VersionStats.Counts baseline, int replicas) {
        Active a = active.get(id);
        if (a == null || a.rec.stepIndex() != stepIndex || a.windowStep != stepIndex) {
            return;
        }
        a.othersStep = stepIndex;
        a.othersCandidate = candidate;
        a.othersBaseline = baseline;
        a.othersReplicas = replicas;
    }

    private void save(Active a, Actor actor, String action, String before, String after) {
        store.save(a.rec);
        record(actor, action, a, before, after);
    }

    private void record(Actor actor, String action, Active a, String before, String after) {
        audit.ifPresent(t -> t.record(actor, new AuditTrail.Entry(action, a.rec.model() + "/" + a.rec.candidate(),
                "rollout " + a.rec.id() + ": " + before, after)));
    }

    private Active requireActive(String model, String id, RolloutState required, String what) {
        RolloutRecord rec = record(model, id);
        Active a = active.get(id);
        if (a == null) {
            throw new GantryException(ErrorCode.FAILED_PRECONDITION, "rollout " + id + " of model '" + model + "' is "
                    + rec.state() + "; only an active rollout can " + what);
        }
        if (required != null && !a.rec.state().equals(required.name())) {
            throw new GantryException(ErrorCode.FAILED_PRECONDITION, "rollout " + id + " of model '" + model + "' is "
                    + a.rec.state() + "; only a " + required + " rollout can " + what);
        }
        return a;
    }

    private RolloutRecord record(String model, String id) {
        Active a = active.get(id);
        if (a != null && a.rec.model().equals(model)) {
            return a.rec;
        }
        return store.load(id).filter(r -> r.model().equals(model)).orElseThrow(() ->
                GantryException.notFound("model '" + model + "' has no rollout '" + id + "'"));
    }

    private View view(RolloutRecord rec) {
        Active a = active.get(rec.id());
        return a != null ? view(a) : new View(rec.id(), rec.model(), rec.candidate(), rec.baseline(),
                RolloutState.valueOf(rec.state()), rec.stepIndex(), PlanCodec.decode(rec.plan()), Duration.ZERO,
                Optional.empty(), rec.reason(), rec.createdAt(), rec.createdBy(), rec.updatedAt(), 0);
    }

    private View view(Active a) {
        RolloutRecord rec = a.rec;
        return new View(rec.id(), rec.model(), rec.candidate(), rec.baseline(), RolloutState.valueOf(rec.state()),
                rec.stepIndex(), a.plan, timeLeft(a, clock.instant()), a.last, rec.reason(), rec.createdAt(),
                rec.createdBy(), rec.updatedAt(), a.last.isPresent() ? a.replicas : 0);
    }

    private Duration timeLeft(Active a, Instant now) {
        return switch (RolloutState.valueOf(a.rec.state())) {
            case RUNNING -> {
                Duration d = Duration.between(now, a.rec.stepStartedAt().plus(a.plan.analysed()
                        .get(a.rec.stepIndex()).duration()));
                yield d.isNegative() ? Duration.ZERO : d;
            }
            case PAUSED -> Duration.ofMillis(a.rec.pausedLeftMillis());
            default -> Duration.ZERO;
        };
    }

    private static String summary(Active a) {
        return a.last.map(Analysis::summary).orElse("no analysis yet");
    }

    private static RolloutRecord with(RolloutRecord r, RolloutState state, int step, Instant stepStarted,
                                      long pausedLeft, String reason, Instant now) {
        return new RolloutRecord(r.id(), r.model(), r.candidate(), r.baseline(), state.name(), step, stepStarted,
                pausedLeft, r.plan(), reason, r.createdAt(), r.createdBy(), now);
    }

    private static String describe(TrafficPolicy p) {
        StringBuilder b = new StringBuilder();
        p.routes().forEach(r -> b.append(b.isEmpty() ? "" : ", ").append("v").append(r.version()).append(" weight ")
                .append(r.weight()));
        p.shadow().forEach(s -> b.append(", v").append(s.version()).append(" shadow ").append(s.percent())
                .append('%'));
        p.fallback().ifPresent(f -> b.append(", fallback v").append(f));
        return b.toString();
    }

    private void publishGauges(Active a, Analysis an) {
        for (Analysis.Gate g : an.gates()) {
            gauge("rollout.gate|" + a.rec.model() + "|" + g.name(), MetricNames.ROLLOUT_GATE, a.rec.model(), g.name())
                    .set(g.value());
        }
    }

    private AtomicReference<Double> gauge(String key, MetricNames name, String model, String gateName) {
        return gauges.computeIfAbsent(key, k -> {
            AtomicReference<Double> ref = new AtomicReference<>(0.0);
            Gauge.Builder<AtomicReference<Double>> b = Gauge.builder(name.meterName(), ref, x -> x.get())
                    .tag("model", model).strongReference(true);
            if (gateName != null) {
                b.tag("gate", gateName).description("The value of a rollout gate in the current step: error z, "
                        + "p99 ratio, throughput ratio, agreement");
            } else {
                b.description("The step (1-based) of the model's active rollout; 0 when none is active");
            }
            b.register(registry);
            return ref;
        });
    }
}
