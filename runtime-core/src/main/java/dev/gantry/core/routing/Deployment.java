package dev.gantry.core.routing;

import dev.gantry.core.access.Actor;
import dev.gantry.core.error.ErrorCode;
import dev.gantry.core.error.GantryException;
import dev.gantry.store.deployment.DeploymentRecord;
import dev.gantry.store.deployment.DeploymentStore;
import dev.gantry.store.deployment.PolicyRevision;
import dev.gantry.store.deployment.RevisionConflictException;
import dev.gantry.store.deployment.Route;
import dev.gantry.store.deployment.TrafficPolicy;

import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One model's traffic policy, its revision history and its warm standby versions. Readers take
 * {@link #snapshot()} without locking; every change is persisted first and then published as a new snapshot.
 */
public final class Deployment {
    /*
     * Changes are serialized on this object. Each one builds the next record, saves it (if the save throws,
     * nothing has changed and the error propagates), then publishes the snapshot: a reader never sees a
     * policy that would be lost on restart.
     *
     * Standby: when a change takes versions off every route, they become the most recent standby versions
     * (bigger old weight first, then higher version), ahead of the standby list they join; anything routed
     * again leaves the list, and it is cut to standbyCount. The manager unloads whatever was routed or
     * standby before and is neither now.
     */
    private final String model;
    private final DeploymentStore store;
    private final Clock clock;
    private final DeploymentSettings settings;
    private final AtomicReference<DeploymentSnapshot> current;
    /** Oldest first; guarded by this. */
    private List<PolicyRevision> history;

    /** What one change did: the snapshots either side and the revision it recorded. */
    record Transition(DeploymentSnapshot before, DeploymentSnapshot after, PolicyRevision revision) {
    }

    private Deployment(String model, DeploymentStore store, Clock clock, DeploymentSettings settings,
                       DeploymentRecord record) {
        this.model = model;
        this.store = store;
        this.clock = clock;
        this.settings = settings;
        this.history = record.history();
        PolicyRevision cur = record.current();
        this.current = new AtomicReference<>(new DeploymentSnapshot(cur.revision(), cur.policy(),
                TrafficSplitter.of(cur.policy()), record.standby()));
    }

    /** A deployment as persisted: the same revision, policy and standby list, nothing saved. */
    public static Deployment restore(DeploymentRecord record, DeploymentStore store, Clock clock,
                                     DeploymentSettings settings) {
        return new Deployment(record.model(), store, clock, settings, record);
    }

    /** A new deployment at revision 1 with {@code policy}, saved before it is returned. */
    public static Deployment create(String model, TrafficPolicy policy, Actor actor, String reason,
                                    DeploymentStore store, Clock clock, DeploymentSettings settings) {
        PolicyRevision first = new PolicyRevision(1, clock.instant(), actor.name(), policy, Optional.empty(), reason);
        DeploymentRecord record = new DeploymentRecord(model, List.of(first), 1, List.of());
        store.save(record, actor.auditRole());
        return new Deployment(model, store, clock, settings, record);
    }

    public String model() {
        return model;
    }

    public DeploymentSnapshot snapshot() {
        return current.get();
    }

    /** Every kept revision, oldest first. */
    public synchronized List<PolicyRevision> history() {
        return history;
    }

    /** What is persisted for this deployment now. */
    public synchronized DeploymentRecord record() {
        DeploymentSnapshot s = current.get();
        return new DeploymentRecord(model, history, s.revision(), s.standby());
    }

    /**
     * Applies {@code policy} as a new revision, without the traffic gate and the readiness check: only
     * {@link DeploymentManager} (and tests of this class) may call it.
     *
     * @param expectedRevision when present, the change happens only if it is the current revision
     * @throws GantryException FAILED_PRECONDITION when {@code expectedRevision} is not current
     * @throws dev.gantry.store.deployment.DeploymentStoreException when it cannot be saved; nothing changed
     */
    PolicyRevision apply(TrafficPolicy policy, OptionalLong expectedRevision, Actor actor, String reason) {
        return change(policy, expectedRevision, actor, reason, Optional.empty()).revision();
    }

    /**
     * Applies the policy of the previous revision (or of {@code toRevision}) as a new revision.
     *
     * @throws GantryException NOT_FOUND for a revision not in the history, FAILED_PRECONDITION when there is
     *     nothing to roll back to
     */
    RollbackResult rollback(OptionalLong toRevision, Actor actor) {
        synchronized (this) {
            PolicyRevision target = rollbackTarget(toRevision);
            long from = current.get().revision();
            return rollbackTo(target, from, actor);
        }
    }

    /** The revision a rollback would restore. */
    public synchronized PolicyRevision rollbackTarget(OptionalLong toRevision) {
        long cur = current.get().revision();
        if (toRevision.isPresent()) {
            long to = toRevision.getAsLong();
            if (to == cur) {
                throw new GantryException(ErrorCode.FAILED_PRECONDITION, "revision " + to + " of model '" + model
                        + "' is already current");
            }
            return history.stream().filter(r -> r.revision() == to).findFirst().orElseThrow(() ->
                    GantryException.notFound("model '" + model + "' has no revision " + to + " in its history; kept: "
                            + history.get(0).revision() + " to " + history.get(history.size() - 1).revision()));
        }
        TrafficPolicy now = current.get().policy();
        for (int i = history.size() - 1; i >= 0; i--) {
            PolicyRevision r = history.get(i);
            if (r.revision() < cur && !r.policy().equals(now)) {
                return r;
            }
        }
        throw new GantryException(ErrorCode.FAILED_PRECONDITION, "model '" + model
                + "' has no earlier revision with a different policy to roll back to (current is " + cur + ")");
    }

    synchronized RollbackResult rollbackTo(PolicyRevision target, long expectedFrom, Actor actor) {
        Transition t = change(target.policy(), OptionalLong.of(expectedFrom), actor,
                "rollback to revision " + target.revision(), Optional.of(expectedFrom));
        return new RollbackResult(expectedFrom, target.revision(), t.revision().revision(), target.policy());
    }

    synchronized Transition change(TrafficPolicy policy, OptionalLong expectedRevision, Actor actor, String reason,
                                   Optional<Long> rollbackOf) {
        Objects.requireNonNull(policy, "policy");
        DeploymentSnapshot before = current.get();
        if (expectedRevision.isPresent() && expectedRevision.getAsLong() != before.revision()) {
            throw new GantryException(ErrorCode.FAILED_PRECONDITION, "expected revision "
                    + expectedRevision.getAsLong() + ", current is " + before.revision());
        }
        long next = history.get(history.size() - 1).revision() + 1;
        PolicyRevision revision = new PolicyRevision(next, clock.instant(), actor.name(), policy, rollbackOf, reason);
        List<PolicyRevision> nextHistory = new ArrayList<>(history);
        nextHistory.add(revision);
        while (nextHistory.size() > settings.historyLimit()) {
            nextHistory.remove(0);
        }
        List<Long> standby = nextStandby(before, policy);
        try {
            store.save(new DeploymentRecord(model, nextHistory, next, standby), actor.auditRole());
        } catch (RevisionConflictException e) {
            // Another server sharing the catalogue changed the policy since this one read it.
            throw new GantryException(ErrorCode.FAILED_PRECONDITION, "expected revision " + before.revision()
                    + ", current is " + e.storedRevision() + " (changed through another server)");
        }
        history = List.copyOf(nextHistory);
        DeploymentSnapshot after = new DeploymentSnapshot(next, policy, TrafficSplitter.of(policy), standby);
        current.set(after);
        return new Transition(before, after, revision);
    }

    /**
     * Takes {@code record} as it is (saved by another server sharing the catalogue) when it is newer than this
     * deployment's revision; nothing is saved. Only {@link DeploymentManager} calls it.
     *
     * @return the change, or empty when {@code record} is not newer
     */
    synchronized Optional<Transition> adopt(DeploymentRecord record) {
        DeploymentSnapshot before = current.get();
        if (record.currentRevision() <= before.revision()) {
            return Optional.empty();
        }
        PolicyRevision cur = record.current();
        history = List.copyOf(record.history());
        DeploymentSnapshot after = new DeploymentSnapshot(cur.revision(), cur.policy(), TrafficSplitter.of(cur.policy()),
                record.standby());
        current.set(after);
        return Optional.of(new Transition(before, after, cur));
    }

    /** Drops {@code version} from the standby list (it is being unloaded); saved first. */
    synchronized void removeStandby(long version, Actor actor) {
        DeploymentSnapshot s = current.get();
        if (!s.standby().contains(version)) {
            return;
        }
        List<Long> standby = new ArrayList<>(s.standby());
        standby.remove(version);
        store.save(new DeploymentRecord(model, history, s.revision(), standby), actor.auditRole());
        current.set(new DeploymentSnapshot(s.revision(), s.policy(), s.splitter(), standby));
    }

    private List<Long> nextStandby(DeploymentSnapshot before, TrafficPolicy next) {
        Set<Long> routedNow = next.routedVersions();
        TrafficPolicy old = before.policy();
        List<Route> left = new ArrayList<>();
        for (Route r : old.routes()) {
            if (r.weight() > 0 && !routedNow.contains(r.version())) {
                left.add(r);
            }
        }
        left.sort(Comparator.comparingInt(Route::weight).reversed()
                .thenComparing(Comparator.comparingLong(Route::version).reversed()));
        Set<Long> ordered = new LinkedHashSet<>();
        left.forEach(r -> ordered.add(r.version()));
        ordered.addAll(before.standby());
        // a version that stops being the named fallback is warm too: standby after the former routes
        old.fallback().ifPresent(f -> {
            if (!next.fallback().equals(old.fallback())) {
                ordered.add(f);
            }
        });
        ordered.removeAll(routedNow);
        return ordered.stream().limit(settings.standbyCount()).toList();
    }
}
