package dev.gantry.core.release;

import dev.gantry.core.access.Actor;
import dev.gantry.core.error.ErrorCode;
import dev.gantry.core.error.GantryException;
import dev.gantry.core.governance.CardPolicy;
import dev.gantry.core.governance.Governance;
import dev.gantry.core.governance.ReleaseStatus;
import dev.gantry.core.governance.Retirement;
import dev.gantry.core.lifecycle.ModelVersionState;
import dev.gantry.core.model.ModelId;
import dev.gantry.core.repository.ModelRepositoryManager;
import dev.gantry.core.routing.DeploymentManager;
import dev.gantry.core.routing.DeploymentSnapshot;
import dev.gantry.store.artifact.ArtifactException;
import dev.gantry.store.artifact.ArtifactStore;
import dev.gantry.store.artifact.InstallResult;
import dev.gantry.store.catalog.Approval;
import dev.gantry.store.catalog.CatalogStore;
import dev.gantry.store.catalog.DeploymentArchive;
import dev.gantry.store.catalog.ModelCard;
import dev.gantry.store.catalog.ReleaseRecord;
import dev.gantry.store.catalog.ReleaseStage;
import dev.gantry.store.deployment.PolicyRevision;
import dev.gantry.store.deployment.Route;
import dev.gantry.store.digest.Sha256;
import dev.gantry.store.repository.ModelConfig;
import dev.gantry.store.repository.ModelConfigParser;
import dev.gantry.store.repository.ModelEntry;
import dev.gantry.store.repository.ModelVersionEntry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Pattern;

/**
 * The release workflow of model versions: installing an uploaded artifact, registering and validating it,
 * the model card, approval, deprecation, suspension, retirement at sunset, the versions found at first start,
 * and the catalogue view. Every call that changes something takes the {@link Actor} who asked; the rules
 * themselves (which stage may follow which, separation of duties, card requirements) are {@link Governance}'s.
 */
public final class Releases {
    /*
     * Where things happen: the artifact store writes files, Governance writes release records with their audit
     * entries, DeploymentManager loads (validation) and changes traffic (retirement). This class sequences them
     * and is the only place that does, so transports stay thin: they parse, call one method here, render.
     */
    private static final Logger log = LoggerFactory.getLogger(Releases.class);
    private static final Pattern MODEL_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,127}");

    private final Governance governance;
    private final CatalogStore catalog;
    private final DeploymentArchive archive;
    private final ArtifactStore artifacts;
    private final ModelRepositoryManager repository;
    private final DeploymentManager deployments;
    private final dev.gantry.core.audit.AuditTrail audit;
    private final Clock clock;
    private final Duration unusedAfter;
    private final dev.gantry.store.artifact.UploadLimits uploadLimits;
    /* Epoch milliseconds of each version's last answer, NEVER until it answers: a field write per response, no
     * Instant allocated. */
    private final Map<ModelId, java.util.concurrent.atomic.AtomicLong> lastServed = new ConcurrentHashMap<>();
    private static final long NEVER = Long.MIN_VALUE;
    /** Refused fetches already audited by this process (their messages name object and digests): audited once. */
    private final java.util.Set<String> fetchRefusals = ConcurrentHashMap.newKeySet();

    private Releases(Governance governance, CatalogStore catalog, DeploymentArchive archive, ArtifactStore artifacts,
                     ModelRepositoryManager repository, DeploymentManager deployments,
                     dev.gantry.core.audit.AuditTrail audit, Clock clock, Duration unusedAfter,
                     dev.gantry.store.artifact.UploadLimits uploadLimits) {
        this.audit = audit;
        this.uploadLimits = uploadLimits;
        this.governance = governance;
        this.catalog = catalog;
        this.archive = archive;
        this.artifacts = artifacts;
        this.repository = repository;
        this.deployments = deployments;
        this.clock = clock;
        this.unusedAfter = unusedAfter;
    }

    /**
     * The workflow over these parts.
     *
     * @param unusedAfter how long an approved version may take no traffic before the catalogue flags it
     */
    public static Releases create(Governance governance, CatalogStore catalog, DeploymentArchive archive,
                                  ArtifactStore artifacts, ModelRepositoryManager repository,
                                  DeploymentManager deployments, dev.gantry.core.audit.AuditTrail audit, Clock clock,
                                  Duration unusedAfter) {
        return create(governance, catalog, archive, artifacts, repository, deployments, audit, clock, unusedAfter,
                dev.gantry.store.artifact.UploadLimits.defaults());
    }

    /** As the other {@code create}, with how uploads share the server ({@link #uploadLimits()}). */
    public static Releases create(Governance governance, CatalogStore catalog, DeploymentArchive archive,
                                  ArtifactStore artifacts, ModelRepositoryManager repository,
                                  DeploymentManager deployments, dev.gantry.core.audit.AuditTrail audit, Clock clock,
                                  Duration unusedAfter, dev.gantry.store.artifact.UploadLimits uploadLimits) {
        return new Releases(Objects.requireNonNull(governance, "governance"), Objects.requireNonNull(catalog, "catalog"),
                Objects.requireNonNull(archive, "archive"), Objects.requireNonNull(artifacts, "artifacts"),
                Objects.requireNonNull(repository, "repository"), Objects.requireNonNull(deployments, "deployments"),
                Objects.requireNonNull(audit, "audit"), Objects.requireNonNull(clock, "clock"), Objects.requireNonNull(unusedAfter, "unusedAfter"),
                Objects.requireNonNull(uploadLimits, "uploadLimits"));
    }

    // ---- upload and validation

    /**
     * Checks an upload's target before a byte is received.
     *
     * @throws GantryException INVALID_ARG naming the bad model name
     */
    public void checkUploadTarget(String model, long version) {
        if (model == null || !MODEL_NAME.matcher(model).matches()) {
            throw GantryException.invalid("model name must be 1-128 letters, digits, '_', '.' or '-', starting"
                    + " with a letter or digit, was '" + model + "'");
        }
        if (version < 1) {
            throw GantryException.invalid("model version must be a positive integer, was " + version);
        }
    }

    /** A new file to stream an upload into: in the store's hidden staging directory, which is cleaned at start. */
    public Path newUploadFile() {
        return artifacts.stagingDirectory().resolve("upload-" + UUID.randomUUID() + ".part");
    }

    /** How many uploads may run at once, how long one may stall, and how much disk must stay free. */
    public dev.gantry.store.artifact.UploadLimits uploadLimits() {
        return uploadLimits;
    }

    /**
     * Empty when the staging file system can take {@code incomingBytes} more and keep the free-disk floor; else a
     * message for the client (507).
     */
    public Optional<String> uploadShortfall(long incomingBytes) {
        return dev.gantry.store.artifact.DiskSpace.system().shortfall(artifacts.stagingDirectory(), incomingBytes,
                uploadLimits().minFreeBytes());
    }

    /** The largest artifact an upload may carry, in bytes. */
    public long maxUploadBytes() {
        return artifacts.limits().maxUploadBytes();
    }

    /**
     * Installs an uploaded artifact as {@code model}/{@code version} and registers it; a newly created version
     * adopts its bundle's card and config and starts validating in the background (VALIDATING, then VALIDATED
     * or FAILED). Installing the same bytes again changes nothing.
     *
     * @param upload the received file (consumed); {@code sha256Hex} its digest, computed as it arrived
     * @throws GantryException ALREADY_EXISTS when the version exists with other bytes, PAYLOAD_TOO_LARGE past the
     *     limits, INVALID_ARG for a malformed artifact, bundle or bundled config
     */
    public Installed install(String model, long version, Path upload, String sha256Hex, Actor actor) {
        checkUploadTarget(model, version);
        /*
         * The record is committed before the files become visible: the store prepares the version in a hidden
         * directory (fsynced), BeforePublish registers it, and only then is it renamed into place. A crash after
         * the commit leaves a REGISTERED record without files, which the next start marks FAILED; a failed
         * registration leaves no files. No artifact is ever visible without its record.
         */
        boolean hadRecord = governance.version(model, version).isPresent();
        AtomicReference<ReleaseRecord> registered = new AtomicReference<>();
        InstallResult result;
        try {
            result = artifacts.install(model, version, upload, sha256Hex, (prepared, dir) -> registered.set(
                    governance.register(model, version, prepared.sha256(), prepared.sizeBytes(),
                            Optional.of(modelFileDigest(dir)), actor, Optional.empty())));
        } catch (ArtifactException e) {
            failUnpublished(model, version, hadRecord, registered.get(), e.getMessage());
            throw new GantryException(switch (e.reason()) {
                case CONFLICT -> ErrorCode.ALREADY_EXISTS;
                case TOO_LARGE -> ErrorCode.PAYLOAD_TOO_LARGE;
                case IO, CORRUPT -> ErrorCode.INTERNAL;
                default -> ErrorCode.INVALID_ARG;
            }, e.getMessage());
        } catch (RuntimeException e) {
            failUnpublished(model, version, hadRecord, registered.get(), e.getMessage());
            throw e;
        }
        boolean created = result.outcome() == InstallResult.Outcome.CREATED;
        ReleaseRecord record = created ? registered.get() : governance.register(model, version, result.sha256(),
                result.sizeBytes(), installedModelFileDigest(model, version), actor, Optional.empty());
        Optional<String> configNote = Optional.empty();
        if (created) {
            result.cardJson().ifPresent(card -> governance.patchCard(model, version,
                    patched(governance.card(model, version).orElse(ModelCard.EMPTY), card), actor));
            configNote = result.configJson().map(config -> adoptConfig(model, config));
            startValidation(model, version, actor, false);
            record = governance.version(model, version).orElse(record);
        }
        return new Installed(model, version, result.sha256(), result.sizeBytes(), created, result.files(), configNote,
                record.stage());
    }

    /** A record this upload registered whose files were then not published is FAILED, not left REGISTERED. */
    private void failUnpublished(String model, long version, boolean hadRecord, ReleaseRecord registered,
                                 String why) {
        if (hadRecord || registered == null || registered.stage() != ReleaseStage.REGISTERED) {
            return;
        }
        try {
            governance.validationFailed(model, version, "the artifact could not be installed after it was registered: "
                    + why, Actor.SYSTEM);
        } catch (RuntimeException e) {
            log.error("{}/{}: cannot mark the unpublished upload FAILED; the next start will", model, version, e);
        }
    }

    /** The digest of the model file ONNX Runtime loads from a version directory (an upload's is model.onnx). */
    private static String modelFileDigest(Path versionDirectory) {
        try {
            return Sha256.hex(versionDirectory.resolve(ModelConfig.DEFAULT_MODEL_FILENAME));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the prepared model file in " + versionDirectory, e);
        }
    }

    private Optional<String> installedModelFileDigest(String model, long version) {
        try {
            return Optional.of(modelFileDigest(artifacts.stagingDirectory().getParent().resolve(model)
                    .resolve(Long.toString(version))));
        } catch (UncheckedIOException e) {
            return Optional.empty();
        }
    }

    /** A bundle's config.json becomes the model's configuration if the model has none yet. */
    private String adoptConfig(String model, String config) {
        Path dir = artifacts.stagingDirectory().getParent().resolve(model);
        if (Files.exists(dir.resolve(ModelConfigParser.JSON_FILE))
                || Files.exists(dir.resolve(ModelConfigParser.PBTXT_FILE))) {
            return "kept the model's existing configuration; the bundle's config.json stays in the version directory";
        }
        try {
            ModelConfigParser.parseJson(config, model);
            Files.writeString(dir.resolve(ModelConfigParser.JSON_FILE), config);
            return "adopted the bundle's config.json as the model's configuration";
        } catch (Exception e) {
            throw GantryException.invalid("the bundle's config.json is not a valid model configuration: "
                    + e.getMessage());
        }
    }

    /** VALIDATING: the deployment manager loads it (signature, warm-up, smoke inference); then VALIDATED or FAILED. */
    private void startValidation(String model, long version, Actor actor, boolean alreadyValidating) {
        if (!alreadyValidating) {
            governance.validationStarted(model, version, actor);
        }
        Optional<ModelVersionEntry> onDisk = repository.refresh(model).flatMap(e -> e.versions().stream()
                .filter(x -> x.version() == version).findFirst());
        if (onDisk.isEmpty()) {
            governance.validationFailed(model, version, "the repository does not list the installed version"
                    + repository.model(model).map(e -> ": " + e.problems()).orElse(""), actor);
            return;
        }
        deployments.validate(model, version).whenComplete((state, e) -> {
            try {
                if (e == null && state.isReady()) {
                    governance.validationSucceeded(model, version, actor);
                } else {
                    governance.validationFailed(model, version, e != null ? e.toString()
                            : state.reason().orElse(state.state().name()), actor);
                }
            } catch (RuntimeException failure) {
                log.error("{}/{}: recording validation failed", model, version, failure);
            }
        });
    }

    static final String OUTSIDE_UPLOAD = "appeared in the repository outside an upload";
    static final String INTERRUPTED = "upload interrupted before the artifact was installed";

    /**
     * Reconciles the catalogue with the repository at start. Uploads the catalogue registered but whose files
     * never appeared (a crash between the commit and the rename) become FAILED; registered or validating ones
     * whose files are there are validated again. Versions on disk the catalogue has never seen are catalogued:
     * at the very first start of an empty catalogue as APPROVED by the system (the bundled models, the
     * repository that was serving before governance); on any later start as REGISTERED by the system ("appeared
     * in the repository outside an upload") and validated like an upload, never approved. All audited.
     *
     * @param firstStart whether the catalogue had neither versions nor audit entries when it was opened
     */
    public void catalogueExisting(boolean firstStart) {
        for (ReleaseRecord r : catalog.versions()) {
            if (r.stage() != ReleaseStage.REGISTERED && r.stage() != ReleaseStage.VALIDATING) {
                continue;
            }
            try {
                if (installed(r.model(), r.version())) {
                    log.info("{}: validating again, the server stopped before its validation ended", r.target());
                    startValidation(r.model(), r.version(), Actor.SYSTEM, r.stage() == ReleaseStage.VALIDATING);
                } else {
                    log.warn("{}: {}", r.target(), INTERRUPTED);
                    governance.validationFailed(r.model(), r.version(), INTERRUPTED, Actor.SYSTEM);
                }
            } catch (RuntimeException e) {
                log.error("cannot reconcile {} at start: {}", r.target(), e.toString());
            }
        }
        for (ModelEntry entry : repository.models().values()) {
            for (ModelVersionEntry v : entry.versions()) {
                if (governance.version(entry.name(), v.version()).isPresent()) {
                    continue;
                }
                try {
                    String fileDigest = Sha256.hex(v.modelFile());
                    String digest = artifacts.digest(entry.name(), v.version()).orElse(fileDigest);
                    long size = Files.size(v.modelFile());
                    if (firstStart) {
                        governance.registerExisting(entry.name(), v.version(), digest, size, Optional.of(fileDigest));
                    } else {
                        log.warn("{}/{} {}: registering and validating it; it takes no traffic until approved",
                                entry.name(), v.version(), OUTSIDE_UPLOAD);
                        governance.register(entry.name(), v.version(), digest, size, Optional.of(fileDigest),
                                Actor.SYSTEM, Optional.of(OUTSIDE_UPLOAD));
                        startValidation(entry.name(), v.version(), Actor.SYSTEM, false);
                    }
                } catch (IOException | RuntimeException e) {
                    log.error("cannot catalogue {}/{}: {}", entry.name(), v.version(), e.toString());
                }
            }
        }
    }

    /**
     * Brings a catalogued version whose files are not in the local repository in from the shared artifact store
     * (when there is one), its SHA-256 checked against the catalogue's. A shared copy that does not match is
     * audited as {@code version.fetch_refused} by the system (once per distinct refusal per process) and refused.
     *
     * @return whether the version's files are in the local repository now (false: neither here nor shared)
     * @throws GantryException FAILED_PRECONDITION when the shared copy does not match the catalogue's digest,
     *     UNAVAILABLE when the shared store cannot be read
     */
    public boolean fetchIfMissing(String model, long version) {
        Optional<ReleaseRecord> record = governance.version(model, version);
        if (record.isEmpty()) {
            return false;
        }
        ReleaseRecord r = record.get();
        try {
            dev.gantry.store.artifact.ArtifactStore.Availability a = artifacts.fetch(model, version, r.digest());
            if (a == dev.gantry.store.artifact.ArtifactStore.Availability.FETCHED) {
                log.info("{}: fetched from {}", r.target(), artifacts.location());
                repository.refresh(model);
            }
            return a != dev.gantry.store.artifact.ArtifactStore.Availability.MISSING;
        } catch (ArtifactException e) {
            if (e.reason() != ArtifactException.Reason.CORRUPT) {
                log.error("{}: not fetched from {}: {}", r.target(), artifacts.location(), e.getMessage());
                throw new GantryException(ErrorCode.UNAVAILABLE, "version " + version + " of model '" + model
                        + "' is not on this server and cannot be fetched: " + e.getMessage());
            }
            log.error("{}: fetch refused: {}", r.target(), e.getMessage());
            if (fetchRefusals.add(e.getMessage())) {
                try {
                    audit.record(Actor.SYSTEM, new dev.gantry.core.audit.AuditTrail.Entry("version.fetch_refused",
                            r.target(), dev.gantry.store.catalog.AuditJson.object("digest", r.digest()),
                            dev.gantry.store.catalog.AuditJson.object("reason", e.getMessage())));
                } catch (RuntimeException failure) {
                    fetchRefusals.remove(e.getMessage());
                    log.error("{}: could not audit the refused fetch", r.target(), failure);
                }
            }
            throw new GantryException(ErrorCode.FAILED_PRECONDITION, "version " + version + " of model '" + model
                    + "' is not loaded: " + e.getMessage());
        }
    }

    /** Whether versions missing locally can be fetched: the artifacts are kept in a shared store. */
    public boolean fetchesMissing() {
        return artifacts.isShared();
    }

    /**
     * At start, before the repository is scanned: every catalogued version that may still serve (not FAILED,
     * REJECTED or RETIRED) and is missing locally is fetched from the shared artifact store. Nothing to do without
     * one.
     */
    public void fetchMissing() {
        if (!artifacts.isShared()) {
            return;
        }
        for (ReleaseRecord r : catalog.versions()) {
            if (r.stage() == ReleaseStage.FAILED || r.stage() == ReleaseStage.REJECTED
                    || r.stage() == ReleaseStage.RETIRED) {
                continue;
            }
            try {
                fetchIfMissing(r.model(), r.version());
            } catch (RuntimeException e) {
                log.error("{}: not fetched at start: {}", r.target(), e.getMessage());
            }
        }
    }

    /** Whether the version's files are in the repository (uploads carry a digest sidecar; the scan lists them). */
    private boolean installed(String model, long version) {
        return artifacts.digest(model, version).isPresent() || repository.model(model)
                .map(e -> e.versions().stream().anyMatch(x -> x.version() == version)).orElse(false);
    }

    // ---- records, cards, transitions

    /** @throws GantryException NOT_FOUND when the version is not catalogued */
    public ReleaseRecord record(String model, long version) {
        return governance.version(model, version).orElseThrow(() -> GantryException.notFound("model '" + model
                + "' has no catalogued version " + version));
    }

    /** The version's card; empty for a version without one. */
    public ModelCard card(String model, long version) {
        record(model, version);
        return governance.card(model, version).orElse(ModelCard.EMPTY);
    }

    /**
     * Merges {@code patchJson} into the version's card (RFC 7396); changed required fields void its approvals.
     *
     * @throws GantryException INVALID_ARG naming the unknown field or the value of the wrong type
     */
    public ReleaseRecord patchCard(String model, long version, String patchJson, Actor actor) {
        record(model, version);
        ModelCard card = patched(governance.card(model, version).orElse(ModelCard.EMPTY), patchJson);
        return governance.patchCard(model, version, card, actor);
    }

    private static ModelCard patched(ModelCard card, String patchJson) {
        try {
            return card.withPatch(patchJson);
        } catch (IllegalArgumentException e) {
            throw GantryException.invalid(e.getMessage());
        }
    }

    public ReleaseRecord requestApproval(String model, long version, Actor actor, String reason) {
        return governance.requestApproval(model, version, actor, reason);
    }

    public ReleaseRecord approve(String model, long version, Actor actor, String reason) {
        return governance.approve(model, version, actor, reason);
    }

    public ReleaseRecord reject(String model, long version, Actor actor, String reason) {
        return governance.reject(model, version, actor, reason);
    }

    public ReleaseRecord deprecate(String model, long version, Actor actor, Instant sunset, Optional<Long> successor,
                                   String reason) {
        return governance.deprecate(model, version, actor, sunset, successor, reason);
    }

    public ReleaseRecord suspend(String model, long version, Actor actor, String reason) {
        return governance.suspend(model, version, actor, reason);
    }

    /** @throws GantryException FORBIDDEN unless {@code actor} is an admin */
    public ReleaseRecord resume(String model, long version, Actor actor, String reason) {
        if (!actor.isAdmin()) {
            throw new GantryException(ErrorCode.FORBIDDEN, "resuming a suspended version needs the admin role");
        }
        return governance.resume(model, version, actor, reason);
    }

    /** Every decision on the version, oldest first. */
    public List<Approval> approvals(String model, long version) {
        return governance.approvals(model, version);
    }

    /** The version's serving state (loading, ready, ...), when the server knows it. */
    public Optional<ModelVersionState> servingState(String model, long version) {
        return repository.lifecycle().state(new ModelId(model, version));
    }

    // ---- sunset

    /*
     * Retirement never strands a model. For each version past its sunset: the policy without it is computed (its
     * share to the successor, or to the other routes); every version that policy routes must be READY (one that
     * is not is loaded, in the background, at most once a minute); then the policy is applied and only then is
     * the version RETIRED. Until that can happen the deprecated version keeps serving its share (the router lets
     * it), the catalogue flags it and the audit trail says why, once per distinct reason.
     */
    private static final Duration RELOAD_EVERY = Duration.ofMinutes(1);
    private final Map<ModelId, String> retirementWaiting = new ConcurrentHashMap<>();
    private final Map<ModelId, Instant> loadStarted = new ConcurrentHashMap<>();

    /** Retires every version past its sunset that can leave its routes now; called every second. */
    public void retireDue() {
        Instant now = clock.instant();
        for (Retirement r : governance.dueForRetirement(now)) {
            ModelId id = new ModelId(r.model(), r.version());
            Optional<String> waiting;
            try {
                waiting = retire(r, now);
            } catch (dev.gantry.store.catalog.LeaseLostException e) {
                throw e; // background work of a server that no longer holds the lease: not a reason to wait
            } catch (RuntimeException e) {
                waiting = Optional.of(e.getMessage() == null ? e.toString() : e.getMessage());
            }
            if (waiting.isEmpty()) {
                retirementWaiting.remove(id);
                continue;
            }
            String before = retirementWaiting.put(id, waiting.get());
            if (!waiting.get().equals(before)) {
                log.warn("model '{}': version {} is past its sunset but cannot retire yet: {}", r.model(), r.version(),
                        waiting.get());
                audit.record(Actor.SYSTEM, new dev.gantry.core.audit.AuditTrail.Entry("version.retire_waiting",
                        id.name() + "/" + id.version(), "", waiting.get()));
            }
        }
    }

    /** Takes the version off its routes and retires it; or says why it has to wait. */
    private Optional<String> retire(Retirement r, Instant now) {
        Optional<DeploymentSnapshot> snap = deployments.snapshot(r.model());
        if (snap.isPresent() && (snap.get().policy().routes(r.version())
                || snap.get().policy().weightOf(r.version()).isPresent()
                || snap.get().policy().fallback().equals(OptionalLong.of(r.version())))) {
            Optional<dev.gantry.store.deployment.TrafficPolicy> next = r.rewrite(snap.get().policy());
            if (next.isEmpty()) {
                return Optional.of("no other version can take its share: it is the model's only route and has no"
                        + " successor; route an approved version to let it retire");
            }
            for (long v : next.get().routedVersions()) {
                Optional<String> notReady = ensureReady(r.model(), v, now);
                if (notReady.isPresent()) {
                    return notReady;
                }
            }
            deployments.applyPolicy(r.model(), next.get(), OptionalLong.of(snap.get().revision()), Actor.SYSTEM,
                    "version " + r.version() + " retired at its sunset");
        }
        governance.retire(r.model(), r.version(), now);
        return Optional.empty();
    }

    private Optional<String> ensureReady(String model, long version, Instant now) {
        ModelId id = new ModelId(model, version);
        Optional<ModelVersionState> s = repository.lifecycle().state(id);
        if (s.isPresent() && s.get().isReady()) {
            return Optional.empty();
        }
        if (s.isPresent() && s.get().state() == dev.gantry.core.model.ModelReadyState.LOADING) {
            return Optional.of("version " + version + ", which takes its share, is loading");
        }
        Instant started = loadStarted.get(id);
        if (started == null || started.plus(RELOAD_EVERY).isBefore(now)) {
            loadStarted.put(id, now);
            deployments.loadVersion(model, version, Actor.SYSTEM);
            return Optional.of("version " + version + ", which takes its share, is being loaded");
        }
        return Optional.of("version " + version + ", which takes its share, cannot be loaded"
                + s.flatMap(ModelVersionState::reason).map(x -> ": " + x).orElse(""));
    }

    // ---- serving

    /**
     * Records that {@code id} answered a request (for the catalogue's last-served time) and returns its deprecation
     * when it is deprecated, so the response can say so. Cheap: called on every response.
     */
    public Optional<Deprecation> served(ModelId id) {
        java.util.concurrent.atomic.AtomicLong at = lastServed.get(id);
        if (at == null) {
            at = lastServed.computeIfAbsent(id, k -> new java.util.concurrent.atomic.AtomicLong(NEVER));
        }
        // Written at most once per millisecond, with release order: readers only need to see it soon, and a
        // volatile store on every request was a full fence on the serving thread.
        long now = clock.millis();
        if (at.getPlain() != now) {
            at.setRelease(now);
        }
        if (!governance.anyDeprecated()) {
            return Optional.empty();
        }
        Optional<ReleaseStatus> s = governance.trafficGate().status(id.name(), id.version());
        if (s.isEmpty() || s.get().stage() != ReleaseStage.DEPRECATED) {
            return Optional.empty();
        }
        return Optional.of(new Deprecation(s.get().since(), s.get().sunset()));
    }

    /**
     * Creates {@code id}'s last-served record (empty until it answers) before the version takes requests, so that
     * {@link #served} never creates it on the request path; see
     * {@link dev.gantry.core.lifecycle.ModelLifecycle#onReady}. Idempotent.
     */
    public void prepare(ModelId id) {
        lastServed.computeIfAbsent(id, k -> new java.util.concurrent.atomic.AtomicLong(NEVER));
    }

    /** When {@code id} last answered a request, since this server started. */
    public Optional<Instant> lastServed(ModelId id) {
        return lastServedAt(id);
    }

    private Optional<Instant> lastServedAt(ModelId id) {
        java.util.concurrent.atomic.AtomicLong at = lastServed.get(id);
        long millis = at == null ? NEVER : at.get();
        return millis == NEVER ? Optional.empty() : Optional.of(Instant.ofEpochMilli(millis));
    }

    // ---- catalogue and history

    /** Every catalogued version with owner, stage, tier, approvals, traffic share, last served time and flags. */
    public List<CatalogEntry> catalog() {
        Instant now = clock.instant();
        CardPolicy policy = governance.cardPolicy();
        List<CatalogEntry> out = new ArrayList<>();
        for (ReleaseRecord r : governance.versions()) {
            ModelCard card = governance.card(r.model(), r.version()).orElse(ModelCard.EMPTY);
            double share = share(r.model(), r.version());
            Optional<Instant> served = lastServedAt(new ModelId(r.model(), r.version()));
            List<String> flags = new ArrayList<>();
            r.reason().filter(x -> x.startsWith("approval voided")).ifPresent(x -> flags.add("approval voided"));
            if (r.stage() == ReleaseStage.DEPRECATED && r.sunset().map(now::isAfter).orElse(false)) {
                flags.add("deprecated past sunset");
            }
            String waiting = retirementWaiting.get(new ModelId(r.model(), r.version()));
            if (waiting != null) {
                flags.add("retirement waiting: " + waiting);
            }
            if (r.stage() == ReleaseStage.APPROVED && share == 0
                    && (served.isEmpty() || served.get().isBefore(now.minus(unusedAfter)))) {
                flags.add("approved but unused for " + unusedAfter.toDays() + " days");
            }
            List<String> missing = policy.missing(card);
            if (!missing.isEmpty()) {
                flags.add("card incomplete: " + missing);
            }
            out.add(new CatalogEntry(r, governance.approvals(r.model(), r.version()), card,
                    servingState(r.model(), r.version()).map(ModelVersionState::state), share, served, flags));
        }
        return out;
    }

    /** The traffic policy revision in force for {@code model} at {@code time}: the last applied at or before it. */
    public Optional<PolicyRevision> trafficAt(String model, Instant time) {
        return archive.inForceAt(model, time);
    }

    private double share(String model, long version) {
        Optional<DeploymentSnapshot> snap = deployments.snapshot(model);
        if (snap.isEmpty()) {
            return 0;
        }
        long total = snap.get().policy().routes().stream().mapToLong(Route::weight).sum();
        return total == 0 ? 0 : snap.get().policy().weightOf(version).orElse(0) / (double) total;
    }
}
