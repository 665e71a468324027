package dev.gantry.core.governance;

import dev.gantry.core.access.Actor;
import dev.gantry.core.error.ErrorCode;
import dev.gantry.core.error.GantryException;
import dev.gantry.store.catalog.Approval;
import dev.gantry.store.catalog.AuditJson;
import dev.gantry.store.catalog.CatalogStore;
import dev.gantry.store.catalog.ModelCard;
import dev.gantry.store.catalog.ReleaseRecord;
import dev.gantry.store.catalog.ReleaseStage;
import dev.gantry.store.deployment.Route;
import dev.gantry.store.deployment.ShadowRoute;
import dev.gantry.store.deployment.TrafficPolicy;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;

/**
 * The release rules of model versions: the lifecycle from registration through validation, approval,
 * deprecation and retirement, separation of duties, model card requirements, and which versions may take which
 * traffic. Every transition is written with its audit entry in one catalogue transaction; every forbidden step
 * is a {@link GantryException} naming the rule.
 */
public final class Governance {
    /*
     * Transitions are serialized on this object: each reads the version in a catalogue transaction, checks the
     * rule, writes the new record and its audit entry, commits, and then publishes the new status into an
     * immutable map the serving path reads without locking (the gate and status()).
     *
     * Approvals are bound to the artifact digest and to CardPolicy.requiredFieldsHash of the card at the time
     * of the decision; only non-voided APPROVE decisions matching both count. A card edit that changes the hash
     * voids them and sends an approved (or pending, partly approved, deprecated) version back to VALIDATED.
     * Versions approved by registerExisting have no approval rows: there is nothing a card edit could void.
     */
    static final String PRESENT_AT_START = "present in the repository at start";

    private final CatalogStore store;
    private final CardPolicy policy;
    private final Clock clock;
    private final dev.gantry.core.access.KeyLineage lineage;
    private final AtomicReference<Map<Key, ReleaseStatus>> statuses;
    /* Whether statuses holds a DEPRECATED version; written after each publish, by publishers holding this lock. */
    private volatile boolean anyDeprecated;
    /*
     * The version whose change this server has put in a catalogue transaction and not yet published, with the
     * thread doing it; null between changes. From the commit (which other threads' catalogue reads see at once) to
     * the publish, a client could read the new stage here and be refused by the serving path that still has the
     * old one: version() waits out that moment. Written by publishers holding this object's lock.
     */
    private volatile Pending pending;
    private final Object publishedSignal = new Object();
    private final Gate gate = new Gate();

    private record Key(String model, long version) {
        // Written out as in ModelId: the serving path looks statuses up by Key.
        @Override
        public boolean equals(Object o) {
            return this == o || o instanceof Key k && version == k.version && model.equals(k.model);
        }

        @Override
        public int hashCode() {
            return 31 * model.hashCode() + Long.hashCode(version);
        }
    }

    private record Pending(Key key, Thread writer) {
    }

    /** The longest version() waits for a publish; past it the record is returned as read. */
    private static final long PUBLISH_WAIT_MILLIS = 5_000;

    private Governance(CatalogStore store, CardPolicy policy, Clock clock, dev.gantry.core.access.KeyLineage lineage) {
        this.lineage = lineage;
        this.store = store;
        this.policy = policy;
        this.clock = clock;
        Map<Key, ReleaseStatus> all = new HashMap<>();
        for (ReleaseRecord r : store.versions()) {
            all.put(new Key(r.model(), r.version()), ReleaseStatus.of(r));
        }
        this.statuses = new AtomicReference<>(Map.copyOf(all));
        this.anyDeprecated = deprecatedIn(this.statuses.get());
    }

    /**
     * Whether any published version is DEPRECATED: while none is, a served answer needs no status lookup to
     * know it carries no Deprecation header ({@link dev.gantry.core.release.Releases#served}).
     */
    public boolean anyDeprecated() {
        return anyDeprecated;
    }

    private static boolean deprecatedIn(Map<Key, ReleaseStatus> published) {
        for (ReleaseStatus s : published.values()) {
            if (s.stage() == ReleaseStage.DEPRECATED) {
                return true;
            }
        }
        return false;
    }

    /** Governance over {@code store}, reading every version's status from it once. */
    public static Governance create(CatalogStore store, CardPolicy policy, Clock clock) {
        return create(store, policy, clock, dev.gantry.core.access.KeyLineage.NONE);
    }

    /**
     * As {@link #create(CatalogStore, CardPolicy, Clock)}, with separation of duties following {@code lineage}: a
     * key made (through a chain) by the uploader or requester, or that made them, acts for them.
     */
    public static Governance create(CatalogStore store, CardPolicy policy, Clock clock,
                                    dev.gantry.core.access.KeyLineage lineage) {
        return new Governance(Objects.requireNonNull(store, "store"), Objects.requireNonNull(policy, "policy"),
                Objects.requireNonNull(clock, "clock"), Objects.requireNonNull(lineage, "lineage"));
    }

    /** The gate that enforces this governance's traffic rules; for {@code DeploymentManager.create}. */
    public TrafficGate trafficGate() {
        return gate;
    }

    public CardPolicy cardPolicy() {
        return policy;
    }

    /**
     * The version's record as committed. While this server is between committing a change to it and publishing
     * that change to the serving path, waits for the publish (at most a few seconds), so that a stage read here
     * is the stage requests are served by.
     */
    public Optional<ReleaseRecord> version(String model, long version) {
        Optional<ReleaseRecord> r = store.version(model, version);
        Pending p = pending;
        if (p != null && p.writer() != Thread.currentThread() && p.key().equals(new Key(model, version))) {
            awaitPublished(p);
        }
        return r;
    }

    /**
     * Every catalogued version, by model then version, as committed; like {@link #version(String, long)}, waits
     * for the publish of a change this server has committed and not yet published (to any version).
     */
    public List<ReleaseRecord> versions() {
        List<ReleaseRecord> all = store.versions();
        Pending p = pending;
        if (p != null && p.writer() != Thread.currentThread()) {
            awaitPublished(p);
        }
        return all;
    }

    private void awaitPublished(Pending p) {
        long deadline = System.nanoTime() + PUBLISH_WAIT_MILLIS * 1_000_000;
        synchronized (publishedSignal) {
            long left;
            while (pending == p && (left = deadline - System.nanoTime()) > 0) {
                try {
                    publishedSignal.wait(Math.max(1, left / 1_000_000));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    /**
     * Runs {@code work} in a catalogue transaction and publishes the record it returns; callers hold this
     * object's lock. The version is marked pending from inside the transaction (before its commit) to after the
     * publish.
     */
    private ReleaseRecord commitAndPublish(Function<CatalogStore.Tx, ReleaseRecord> work) {
        try {
            ReleaseRecord r;
            try {
                r = store.transaction(tx -> {
                    ReleaseRecord out = work.apply(tx);
                    pending = new Pending(new Key(out.model(), out.version()), Thread.currentThread());
                    return out;
                });
            } catch (RuntimeException e) {
                Pending p = pending;
                if (p != null) {
                    // The work ran, and the failure came at or after the commit (the sync to disk, a commit
                    // listener): the change may be committed. Publish what the catalogue holds, so that the
                    // serving path never keeps a stage the catalogue has left.
                    try {
                        store.version(p.key().model(), p.key().version()).ifPresent(this::publish);
                    } catch (RuntimeException again) {
                        e.addSuppressed(again);
                    }
                }
                throw e;
            }
            publish(r);
            return r;
        } finally {
            if (pending != null) {
                pending = null;
                synchronized (publishedSignal) {
                    publishedSignal.notifyAll();
                }
            }
        }
    }

    /**
     * Registers an uploaded version as REGISTERED. Registering the same digest again returns the existing
     * record and changes nothing.
     *
     * @throws GantryException ALREADY_EXISTS when the version is registered with another digest
     */
    public ReleaseRecord register(String model, long version, String digest, long sizeBytes, Actor actor) {
        return register(model, version, digest, sizeBytes, Optional.empty(), actor, Optional.empty());
    }

    /**
     * As {@link #register(String, long, String, long, Actor)}, recording the digest of the model file ONNX
     * Runtime will load (checked before every load) and, when given, why the version was registered (kept as its
     * reason and in the audit entry).
     */
    public synchronized ReleaseRecord register(String model, long version, String digest, long sizeBytes,
                                               Optional<String> modelFileDigest, Actor actor, Optional<String> note) {
        String d = digest(digest);
        Optional<String> fileDigest = modelFileDigest.map(Governance::digest);
        return commitAndPublish(tx -> {
            Optional<ReleaseRecord> existing = tx.version(model, version);
            if (existing.isPresent()) {
                return sameDigest(existing.get(), d);
            }
            ReleaseRecord r = registered(model, version, d, sizeBytes, actor).toBuilder()
                    .modelFileDigest(fileDigest).reason(note).build();
            tx.insertVersion(r);
            tx.audit(actor.name(), actor.auditRole(), "version.register", r.target(), "", AuditJson.of(r,
                    "size_bytes", sizeBytes, "model_file_digest", fileDigest, "note", note));
            return r;
        });
    }

    /**
     * Catalogues a version found in the model repository at the first start of an empty catalogue: it is
     * APPROVED with reason "present in the repository at start" (it was serving before governance), audited.
     * A version already catalogued is returned unchanged.
     *
     * @throws GantryException FAILED_PRECONDITION when the catalogued digest differs from the one on disk
     */
    public ReleaseRecord registerExisting(String model, long version, String digest, long sizeBytes) {
        return registerExisting(model, version, digest, sizeBytes, Optional.empty());
    }

    /** As {@link #registerExisting(String, long, String, long)}, recording the model file's digest. */
    public synchronized ReleaseRecord registerExisting(String model, long version, String digest, long sizeBytes,
                                                       Optional<String> modelFileDigest) {
        Actor actor = Actor.SYSTEM;
        String d = digest(digest);
        Optional<String> fileDigest = modelFileDigest.map(Governance::digest);
        return commitAndPublish(tx -> {
            Optional<ReleaseRecord> existing = tx.version(model, version);
            if (existing.isPresent()) {
                if (!existing.get().digest().equals(d)) {
                    throw new GantryException(ErrorCode.FAILED_PRECONDITION, "version " + version + " of model '"
                            + model + "' on disk has digest " + d + " but the catalogue registered "
                            + existing.get().digest() + "; the artifact was replaced outside Gantry");
                }
                return existing.get();
            }
            ReleaseRecord created = registered(model, version, d, sizeBytes, actor).toBuilder()
                    .stage(ReleaseStage.APPROVED).reason(Optional.of(PRESENT_AT_START))
                    .modelFileDigest(fileDigest).build();
            tx.insertVersion(created);
            tx.audit(actor.name(), actor.auditRole(), "version.register_existing", created.target(), "", AuditJson.of(created));
            return created;
        });
    }

    /**
     * Checks that the artifact about to be served is the one catalogued (and approved).
     *
     * @throws GantryException NOT_FOUND for an uncatalogued version, FAILED_PRECONDITION on a mismatch
     */
    public void checkDigest(String model, long version, String digest) {
        ReleaseRecord r = require(store.version(model, version), model, version);
        String d = digest(digest);
        if (!r.digest().equals(d)) {
            throw new GantryException(ErrorCode.FAILED_PRECONDITION, "version " + version + " of model '" + model
                    + "' has digest " + d + " but the catalogue registered " + r.digest()
                    + "; approvals are bound to the registered artifact");
        }
    }

    /** REGISTERED -> VALIDATING. */
    public ReleaseRecord validationStarted(String model, long version, Actor actor) {
        return transition(model, version, actor, "version.validation_start", (ctx, r) -> {
            requireStage(r, "start validating", ReleaseStage.REGISTERED);
            return r.toBuilder().stage(ReleaseStage.VALIDATING).reason(Optional.empty());
        });
    }

    /** VALIDATING -> VALIDATED. */
    public ReleaseRecord validationSucceeded(String model, long version, Actor actor) {
        return transition(model, version, actor, "version.validated", (ctx, r) -> {
            requireStage(r, "mark validated", ReleaseStage.VALIDATING);
            return r.toBuilder().stage(ReleaseStage.VALIDATED).reason(Optional.empty());
        });
    }

    /** REGISTERED or VALIDATING -> FAILED, for good: a failed version never takes traffic. */
    public ReleaseRecord validationFailed(String model, long version, String reason, Actor actor) {
        return transition(model, version, actor, "version.validation_failed", (ctx, r) -> {
            requireStage(r, "fail validation of", ReleaseStage.REGISTERED, ReleaseStage.VALIDATING);
            return r.toBuilder().stage(ReleaseStage.FAILED).reason(Optional.of(nonBlank(reason, "validation failed")));
        });
    }

    /**
     * VALIDATED -> PENDING_APPROVAL once the card has every field its risk tier requires; {@code actor} becomes the
     * requester, who may not approve it.
     *
     * @throws GantryException FAILED_PRECONDITION listing the empty required card fields
     */
    public ReleaseRecord requestApproval(String model, long version, Actor actor, String reason) {
        return transition(model, version, actor, "approval.request", (ctx, r) -> {
            requireStage(r, "request approval of", ReleaseStage.VALIDATED);
            List<String> missing = policy.missing(ctx.tx.card(model, version).orElse(ModelCard.EMPTY));
            if (!missing.isEmpty()) {
                throw new GantryException(ErrorCode.FAILED_PRECONDITION, "cannot request approval of version "
                        + version + " of model '" + model + "': required card fields are empty: " + missing);
            }
            ctx.note = reason;
            return r.toBuilder().stage(ReleaseStage.PENDING_APPROVAL).approvalRequestedBy(Optional.of(actor.name()));
        });
    }

    /**
     * Records {@code approver}'s approval of a PENDING_APPROVAL version, bound to its digest and required card
     * fields. The version becomes APPROVED once it has as many distinct approvers as its risk tier needs (two for
     * high); until then it stays PENDING_APPROVAL.
     *
     * @throws GantryException FORBIDDEN when the approver uploaded the version, requested the approval, or
     *     already approved it; FAILED_PRECONDITION when a required card field is empty or the stage is wrong
     */
    public ReleaseRecord approve(String model, long version, Actor approver, String reason) {
        return transition(model, version, approver, "approval.approve", (ctx, r) -> {
            requireStage(r, "approve", ReleaseStage.PENDING_APPROVAL);
            if (r.uploadedBy().equals(approver.name())) {
                throw new GantryException(ErrorCode.FORBIDDEN, "approval refused: the approver '" + approver.name()
                        + "' uploaded this version (separation of duties)");
            }
            if (r.approvalRequestedBy().map(approver.name()::equals).orElse(false)) {
                throw new GantryException(ErrorCode.FORBIDDEN, "approval refused: the approver '" + approver.name()
                        + "' requested this approval (separation of duties)");
            }
            for (String party : r.approvalRequestedBy().map(q -> List.of(r.uploadedBy(), q))
                    .orElse(List.of(r.uploadedBy()))) {
                if (lineage.related(approver.name(), party)) {
                    throw new GantryException(ErrorCode.FORBIDDEN, "approval refused: the approver '"
                            + approver.name() + "' acts for '" + party + "', who "
                            + (party.equals(r.uploadedBy()) ? "uploaded" : "requested approval of") + " this version: "
                            + "one key made the other (separation of duties)");
                }
            }
            ModelCard card = ctx.tx.card(model, version).orElse(ModelCard.EMPTY);
            List<String> missing = policy.missing(card);
            if (!missing.isEmpty()) {
                throw new GantryException(ErrorCode.FAILED_PRECONDITION,
                        "approval refused: required card fields are empty: " + missing);
            }
            String cardHash = policy.requiredFieldsHash(card);
            List<String> approvers = validApprovers(ctx.tx.approvals(model, version), r.digest(), cardHash);
            if (approvers.contains(approver.name())) {
                throw new GantryException(ErrorCode.FORBIDDEN, CardPolicy.tierOf(card).wireName()
                        + " risk tier needs a second approver distinct from '" + approver.name() + "'");
            }
            ctx.tx.addApproval(new Approval(model, version, approver.name(), approver.auditRole(), clock.instant(), r.digest(), cardHash,
                    Approval.Decision.APPROVE, nonBlank(reason, ""), false));
            int needed = policy.approversNeeded(CardPolicy.tierOf(card));
            int have = approvers.size() + 1;
            ctx.extra = new Object[] {"approvals", have, "approvals_needed", needed, "card_hash", cardHash};
            ctx.note = reason;
            if (have < needed) {
                return r.toBuilder();
            }
            return r.toBuilder().stage(ReleaseStage.APPROVED).reason(Optional.empty());
        });
    }

    /** PENDING_APPROVAL -> REJECTED, for good. */
    public ReleaseRecord reject(String model, long version, Actor approver, String reason) {
        return transition(model, version, approver, "approval.reject", (ctx, r) -> {
            requireStage(r, "reject", ReleaseStage.PENDING_APPROVAL);
            ModelCard card = ctx.tx.card(model, version).orElse(ModelCard.EMPTY);
            ctx.tx.addApproval(new Approval(model, version, approver.name(), approver.auditRole(), clock.instant(), r.digest(),
                    policy.requiredFieldsHash(card), Approval.Decision.REJECT, nonBlank(reason, ""), false));
            return r.toBuilder().stage(ReleaseStage.REJECTED).reason(Optional.of(nonBlank(reason, "rejected")));
        });
    }

    /**
     * APPROVED (or DEPRECATED, to change its sunset) -> DEPRECATED: it keeps serving until {@code sunset}, then
     * {@link #retireDue(Instant)} retires it.
     *
     * @throws GantryException FAILED_PRECONDITION when the sunset is in the past or the successor is not an
     *     APPROVED version of the same model
     */
    public ReleaseRecord deprecate(String model, long version, Actor actor, Instant sunset,
                                   Optional<Long> successor, String reason) {
        Objects.requireNonNull(sunset, "sunset");
        Objects.requireNonNull(successor, "successor");
        return transition(model, version, actor, "version.deprecate", (ctx, r) -> {
            requireStage(r, "deprecate", ReleaseStage.APPROVED, ReleaseStage.DEPRECATED);
            if (sunset.isBefore(clock.instant())) {
                throw new GantryException(ErrorCode.FAILED_PRECONDITION, "sunset " + sunset + " of version " + version
                        + " of model '" + model + "' is in the past (now " + clock.instant() + ")");
            }
            if (successor.isPresent()) {
                long s = successor.get();
                if (s == version) {
                    throw new GantryException(ErrorCode.INVALID_ARG, "version " + version + " cannot succeed itself");
                }
                ReleaseRecord next = ctx.tx.version(model, s).orElseThrow(() -> GantryException.notFound(
                        "successor version " + s + " of model '" + model + "' is not in the catalogue"));
                if (next.stage() != ReleaseStage.APPROVED) {
                    throw new GantryException(ErrorCode.FAILED_PRECONDITION, "successor version " + s + " of model '"
                            + model + "' is " + next.stage() + "; a successor must be APPROVED");
                }
            }
            ctx.note = reason;
            return r.toBuilder().stage(ReleaseStage.DEPRECATED).sunset(Optional.of(sunset)).successor(successor);
        });
    }

    /** The kill switch: a VALIDATED, PENDING_APPROVAL, APPROVED or DEPRECATED version takes no traffic at all. */
    public ReleaseRecord suspend(String model, long version, Actor actor, String reason) {
        return transition(model, version, actor, "version.suspend", (ctx, r) -> {
            if (!r.stage().isSuspendable()) {
                throw new GantryException(ErrorCode.FAILED_PRECONDITION, "cannot suspend version " + version
                        + " of model '" + model + "': it is " + r.stage() + " and takes no traffic to stop");
            }
            return r.toBuilder().stage(ReleaseStage.SUSPENDED).suspendedFrom(Optional.of(r.stage()))
                    .reason(Optional.of("suspended: " + nonBlank(reason, "no reason given")));
        });
    }

    /**
     * SUSPENDED -> the stage it was suspended from.
     *
     * @throws GantryException FORBIDDEN unless {@code role} is admin
     */
    public ReleaseRecord resume(String model, long version, Actor actor, String reason) {
        return transition(model, version, actor, "version.resume", (ctx, r) -> {
            if (!actor.isAdmin()) {
                throw new GantryException(ErrorCode.FORBIDDEN, "only an admin may resume a suspended version; '"
                        + actor.name() + "' acted as " + actor.auditRole());
            }
            requireStage(r, "resume", ReleaseStage.SUSPENDED);
            ctx.note = reason;
            return r.toBuilder().stage(r.suspendedFrom().orElseThrow()).suspendedFrom(Optional.empty())
                    .reason(Optional.empty());
        });
    }

    /**
     * Replaces the version's model card. When a required field changed, every approval is voided and an
     * approved, partly approved or deprecated version goes back to VALIDATED with reason
     * "approval voided: required card fields changed: [...]" (a suspended one will resume to VALIDATED).
     */
    public ReleaseRecord patchCard(String model, long version, ModelCard newCard, Actor actor) {
        Objects.requireNonNull(newCard, "newCard");
        return transition(model, version, actor, "card.update", (ctx, r) -> {
            ModelCard old = ctx.tx.card(model, version).orElse(ModelCard.EMPTY);
            ctx.tx.putCard(model, version, newCard);
            List<String> changed = policy.changedRequiredFields(old, newCard);
            String oldHash = policy.requiredFieldsHash(old);
            String newHash = policy.requiredFieldsHash(newCard);
            ctx.before = new Object[] {"card_hash", oldHash};
            ctx.extra = new Object[] {"card_hash", newHash, "changed", changed};
            ReleaseRecord.Builder b = r.toBuilder();
            if (oldHash.equals(newHash)) {
                return b;
            }
            boolean hadApprovals = ctx.tx.approvals(model, version).stream()
                    .anyMatch(a -> !a.voided() && a.decision() == Approval.Decision.APPROVE);
            if (!hadApprovals) {
                return b;
            }
            ctx.tx.voidApprovals(model, version);
            ReleaseStage effective = r.suspendedFrom().orElse(r.stage());
            if (effective != ReleaseStage.APPROVED && effective != ReleaseStage.PENDING_APPROVAL
                    && effective != ReleaseStage.DEPRECATED) {
                return b;
            }
            Optional<String> why = Optional.of("approval voided: required card fields changed: " + changed);
            b.reason(why).approvalRequestedBy(Optional.empty()).sunset(Optional.empty()).successor(Optional.empty());
            if (r.stage() == ReleaseStage.SUSPENDED) {
                return b.suspendedFrom(Optional.of(ReleaseStage.VALIDATED));
            }
            return b.stage(ReleaseStage.VALIDATED);
        });
    }

    /** Every DEPRECATED version whose sunset is at or before {@code now}: what is due to retire. */
    public List<Retirement> dueForRetirement(Instant now) {
        return store.versionsIn(ReleaseStage.DEPRECATED).stream()
                .filter(r -> !now.isBefore(r.sunset().orElseThrow()))
                .map(r -> new Retirement(r.model(), r.version(), r.successor())).toList();
    }

    /**
     * DEPRECATED past its sunset -> RETIRED, audited as the system. The caller has taken it off every route first.
     *
     * @throws GantryException FAILED_PRECONDITION when it is not DEPRECATED or its sunset is still ahead
     */
    public ReleaseRecord retire(String model, long version, Instant now) {
        return transition(model, version, Actor.SYSTEM, "version.retire", (ctx, r) -> {
            requireStage(r, "retire", ReleaseStage.DEPRECATED);
            if (now.isBefore(r.sunset().orElseThrow())) {
                throw new GantryException(ErrorCode.FAILED_PRECONDITION, "version " + version + " of model '" + model
                        + "' reaches its sunset at " + r.sunset().get() + ", not yet");
            }
            return r.toBuilder().stage(ReleaseStage.RETIRED).reason(Optional.of("sunset " + r.sunset().get()
                    + " reached"));
        });
    }

    /** Every DEPRECATED version whose sunset is at or before {@code now} becomes RETIRED, audited as system. */
    public List<Retirement> retireDue(Instant now) {
        List<Retirement> due = dueForRetirement(now);
        due.forEach(r -> retire(r.model(), r.version(), now));
        return due;
    }

    /** The catalogue's card of the version, if one was written. */
    public Optional<ModelCard> card(String model, long version) {
        return store.card(model, version);
    }

    /** Every decision on the version, oldest first. */
    public List<Approval> approvals(String model, long version) {
        return store.approvals(model, version);
    }

    // ---- machinery

    /** Per-transition scratch: the transaction, and what else goes into the audit entry. */
    private static final class Ctx {
        final CatalogStore.Tx tx;
        Object[] before = new Object[0];
        Object[] extra = new Object[0];
        String note;

        Ctx(CatalogStore.Tx tx) {
            this.tx = tx;
        }
    }

    @FunctionalInterface
    private interface Step {
        ReleaseRecord.Builder apply(Ctx ctx, ReleaseRecord current);
    }

    private synchronized ReleaseRecord transition(String model, long version, Actor actor, String action,
                                                  Step step) {
        Objects.requireNonNull(actor, "actor");
        return commitAndPublish(tx -> {
            ReleaseRecord before = require(tx.version(model, version), model, version);
            Ctx ctx = new Ctx(tx);
            ReleaseRecord next = step.apply(ctx, before).updatedAt(clock.instant()).build();
            tx.updateVersion(next);
            Object[] extra = ctx.note == null || ctx.note.isBlank() ? ctx.extra
                    : concat(ctx.extra, new Object[] {"note", ctx.note});
            tx.audit(actor.name(), actor.auditRole(), action, next.target(), AuditJson.of(before, ctx.before),
                    AuditJson.of(next, extra));
            return next;
        });
    }

    /**
     * Reads the stage of every version of {@code model} from the catalogue again and publishes it: for a change
     * another server sharing the catalogue made (an approval, a suspension, a retirement). Serialized with the
     * transitions, so it never publishes a stage older than one this server committed.
     */
    public synchronized void reload(String model) {
        List<ReleaseRecord> records = store.versions(model);
        statuses.updateAndGet(m -> {
            Map<Key, ReleaseStatus> next = new HashMap<>(m);
            for (ReleaseRecord r : records) {
                next.put(new Key(r.model(), r.version()), ReleaseStatus.of(r));
            }
            return Map.copyOf(next);
        });
        anyDeprecated = deprecatedIn(statuses.get());
    }

    /** As {@link #reload(String)} for one version. */
    public synchronized void reload(String model, long version) {
        store.version(model, version).ifPresent(this::publish);
    }

    /** Publishes {@code r}'s status; callers hold this object's lock. */
    private void publish(ReleaseRecord r) {
        Map<Key, ReleaseStatus> published = statuses.updateAndGet(m -> {
            Map<Key, ReleaseStatus> next = new HashMap<>(m);
            next.put(new Key(r.model(), r.version()), ReleaseStatus.of(r));
            return Map.copyOf(next);
        });
        anyDeprecated = deprecatedIn(published);
    }

    private static List<String> validApprovers(List<Approval> approvals, String digest, String cardHash) {
        Set<String> out = new LinkedHashSet<>();
        for (Approval a : approvals) {
            if (!a.voided() && a.decision() == Approval.Decision.APPROVE && a.digest().equals(digest)
                    && a.cardHash().equals(cardHash)) {
                out.add(a.approver());
            }
        }
        return List.copyOf(out);
    }

    private ReleaseRecord registered(String model, long version, String digest, long sizeBytes, Actor actor) {
        Objects.requireNonNull(actor, "actor");
        try {
            return ReleaseRecord.registered(model, version, digest, sizeBytes, actor.name(), clock.instant());
        } catch (IllegalArgumentException e) {
            throw GantryException.invalid(e.getMessage());
        }
    }

    private static ReleaseRecord sameDigest(ReleaseRecord existing, String digest) {
        if (!existing.digest().equals(digest)) {
            throw new GantryException(ErrorCode.ALREADY_EXISTS, "version " + existing.version() + " of model '"
                    + existing.model() + "' is already registered with digest " + existing.digest()
                    + "; a version's artifact never changes, upload it as a new version");
        }
        return existing;
    }

    private static String digest(String digest) {
        try {
            return ReleaseRecord.normalizeDigest(digest);
        } catch (IllegalArgumentException e) {
            throw GantryException.invalid(e.getMessage());
        }
    }

    private static ReleaseRecord require(Optional<ReleaseRecord> r, String model, long version) {
        return r.orElseThrow(() -> GantryException.notFound("version " + version + " of model '" + model
                + "' is not in the catalogue"));
    }

    private static void requireStage(ReleaseRecord r, String what, ReleaseStage... allowed) {
        if (Arrays.asList(allowed).contains(r.stage())) {
            return;
        }
        String wanted = allowed.length == 1 ? allowed[0].name()
                : Arrays.stream(allowed).map(Enum::name).toList().toString().replace("[", "").replace("]", "")
                        .replace(", ", " or ");
        throw new GantryException(ErrorCode.FAILED_PRECONDITION, "cannot " + what + " version " + r.version()
                + " of model '" + r.model() + "': it is " + r.stage() + r.reason().map(x -> " (" + x + ")").orElse("")
                + ", and only a " + wanted + " version can be");
    }


    private static String nonBlank(String s, String otherwise) {
        return s == null || s.isBlank() ? otherwise : s;
    }

    private static Object[] concat(Object[] a, Object[] b) {
        Object[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** The traffic rules over the published statuses. */
    private final class Gate implements TrafficGate {
        @Override
        public void check(String model, TrafficPolicy p, Instant now) {
            List<String> problems = problems(model, p, now, this::status);
            if (!problems.isEmpty()) {
                // The published statuses trail the catalogue by the moment between a transition's commit and its
                // publish (and another server's change by its notification), so a client that has just read
                // VALIDATED or APPROVED could be refused here: before refusing, judge by the catalogue as
                // committed. Read without this object's lock (a caller may be inside a catalogue transaction).
                problems = problems(model, p, now, (m, v) -> store.version(m, v).map(ReleaseStatus::of));
            }
            if (!problems.isEmpty()) {
                // Only unknown versions: the policy names something that does not exist (404), not a rule.
                boolean allUnknown = problems.stream().allMatch(x -> x.contains("is not in the catalogue"));
                throw new GantryException(allUnknown ? ErrorCode.NOT_FOUND : ErrorCode.FAILED_PRECONDITION,
                        String.join("; ", problems));
            }
        }

        @Override
        public void checkPinned(String model, long version, Instant now) {
            checkPinned(model, version, now, PinnedAccess.PRE_RELEASE);
        }

        @Override
        public void checkPinned(String model, long version, Instant now, PinnedAccess access) {
            Optional<ReleaseStatus> s = status(model, version);
            if (s.isEmpty()) {
                throw new GantryException(ErrorCode.FAILED_PRECONDITION, "version " + version + " of model '" + model
                        + "' is not in the catalogue and takes no traffic");
            }
            ReleaseStatus st = s.get();
            if (st.isGone(now)) {
                throw new GantryException(ErrorCode.GONE, "version " + version + " of model '" + model
                        + "' is retired" + st.successor().map(x -> "; use version " + x).orElse(""));
            }
            if (!st.mayTakeShadow(now)) {
                throw new GantryException(ErrorCode.FAILED_PRECONDITION, neverMessage(st));
            }
            if (access == PinnedAccess.RELEASED_ONLY && !st.mayTakePrimary(now)) {
                throw new GantryException(ErrorCode.FORBIDDEN, "version " + version + " of model '" + model + "' is "
                        + st.stage() + ": before approval only keys with the deploy or approve role may call it");
            }
        }

        @Override
        public Optional<ReleaseStatus> status(String model, long version) {
            return Optional.ofNullable(statuses.get().get(new Key(model, version)));
        }

        private List<String> problems(String model, TrafficPolicy p, Instant now,
                                      java.util.function.BiFunction<String, Long, Optional<ReleaseStatus>> lookup) {
            List<String> problems = new ArrayList<>();
            for (Route r : p.routes()) {
                if (r.weight() > 0) {
                    refusal(lookup, model, r.version(), now, true, "weight " + r.weight()).ifPresent(problems::add);
                }
            }
            for (ShadowRoute s : p.shadow()) {
                refusal(lookup, model, s.version(), now, false, "shadow " + s.percent() + "%")
                        .ifPresent(problems::add);
            }
            if (p.fallback().isPresent() && p.weightOf(p.fallback().getAsLong()).orElse(0) == 0) {
                refusal(lookup, model, p.fallback().getAsLong(), now, true, "fallback").ifPresent(problems::add);
            }
            return problems;
        }

        private Optional<String> refusal(java.util.function.BiFunction<String, Long, Optional<ReleaseStatus>> lookup,
                                         String model, long version, Instant now, boolean primary, String how) {
            Optional<ReleaseStatus> s = lookup.apply(model, version);
            String v = "version " + version + " of model '" + model + "'";
            if (s.isEmpty()) {
                return Optional.of(v + " is not in the catalogue; register it before routing to it");
            }
            ReleaseStatus st = s.get();
            if (primary ? st.mayTakePrimary(now) : st.mayTakeShadow(now)) {
                return Optional.empty();
            }
            if (st.stage() == ReleaseStage.DEPRECATED && st.isGone(now)) {
                return Optional.of(v + " is " + st.stage() + " and past its sunset " + st.sunset().orElseThrow()
                        + st.successor().map(x -> "; its successor is version " + x).orElse("")
                        + "; it can never take traffic again (" + how + ")");
            }
            if (primary && st.mayTakeShadow(now)) {
                return Optional.of(v + " is " + st.stage() + ": only APPROVED versions (and DEPRECATED ones before "
                        + "their sunset) may take primary traffic (" + how + "); it may take shadow traffic");
            }
            return Optional.of(neverMessage(st) + " (" + how + ")");
        }

        private String neverMessage(ReleaseStatus st) {
            String v = "version " + st.version() + " of model '" + st.model() + "'";
            return switch (st.stage()) {
                case FAILED, REJECTED -> v + " is " + st.stage() + " and can never take traffic";
                case RETIRED -> v + " is RETIRED and can never take traffic"
                        + st.successor().map(x -> "; its successor is version " + x).orElse("");
                case SUSPENDED -> v + " is SUSPENDED and takes no traffic until an admin resumes it";
                case REGISTERED, VALIDATING -> v + " is " + st.stage() + " and takes no traffic until it is VALIDATED";
                default -> v + " is " + st.stage() + " and may not take this traffic";
            };
        }
    }
}
