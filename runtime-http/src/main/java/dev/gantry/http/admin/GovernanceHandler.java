package dev.gantry.http.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gantry.core.error.ErrorCode;
import dev.gantry.core.error.GantryException;
import dev.gantry.core.governance.CardPolicy;
import dev.gantry.core.governance.Governance;
import dev.gantry.core.lifecycle.ModelLifecycle;
import dev.gantry.core.lifecycle.ModelVersionState;
import dev.gantry.core.model.ModelId;
import dev.gantry.core.repository.ModelRepositoryManager;
import dev.gantry.core.routing.DeploymentManager;
import dev.gantry.core.routing.DeploymentSnapshot;
import dev.gantry.http.auth.Caller;
import dev.gantry.core.access.Role;
import dev.gantry.http.auth.RouteGroup;
import dev.gantry.http.error.ErrorMapper;
import dev.gantry.http.params.PathParams;
import dev.gantry.http.json.Json;
import dev.gantry.store.artifact.ArtifactException;
import dev.gantry.store.artifact.ArtifactStore;
import dev.gantry.store.artifact.InstallResult;
import dev.gantry.store.catalog.Approval;
import dev.gantry.store.catalog.AuditEntry;
import dev.gantry.store.catalog.AuditQuery;
import dev.gantry.store.catalog.AuditVerification;
import dev.gantry.store.catalog.CatalogStore;
import dev.gantry.store.catalog.DeploymentArchive;
import dev.gantry.store.catalog.ModelCard;
import dev.gantry.store.catalog.ReleaseRecord;
import dev.gantry.store.catalog.ReleaseStage;
import dev.gantry.store.deployment.PolicyRevision;
import dev.gantry.store.deployment.Route;
import dev.gantry.store.repository.ModelConfigParser;
import dev.gantry.store.repository.ModelEntry;
import dev.gantry.store.repository.ModelVersionEntry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.file.AsyncFile;
import io.vertx.core.file.OpenOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The model catalogue and release governance under /admin/v1: artifact upload and validation, model cards,
 * the version lifecycle (approval, deprecation, suspension), the audit trail and the catalogue view.
 */
public final class GovernanceHandler {
    private static final Logger log = LoggerFactory.getLogger(GovernanceHandler.class);

    private final Governance governance;
    private final CatalogStore catalog;
    private final DeploymentArchive archive;
    private final ArtifactStore artifacts;
    private final ModelRepositoryManager repository;
    private final ModelLifecycle lifecycle;
    private final DeploymentManager deployments;
    private final WorkerExecutor workers;
    private final Map<ModelId, Instant> lastServed;
    private final Duration unusedAfter;

    public GovernanceHandler(Governance governance, CatalogStore catalog, DeploymentArchive archive,
                             ArtifactStore artifacts, ModelRepositoryManager repository, DeploymentManager deployments,
                             WorkerExecutor workers, Map<ModelId, Instant> lastServed, Duration unusedAfter) {
        this.governance = governance;
        this.catalog = catalog;
        this.archive = archive;
        this.artifacts = artifacts;
        this.repository = repository;
        this.lifecycle = repository.lifecycle();
        this.deployments = deployments;
        this.workers = workers;
        this.lastServed = lastServed;
        this.unusedAfter = unusedAfter;
    }

    // ---- upload and validation ----

    /** PUT /admin/v1/models/{m}/versions/{v}: the artifact streamed to disk, hashed on the way, then installed. */
    public void upload(RoutingContext ctx) {
        String model = ctx.pathParam("model");
        long version;
        try {
            version = PathParams.requiredVersion(ctx.pathParam("version"));
            if (!model.matches("[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")) {
                throw GantryException.invalid("model name must be 1-128 letters, digits, '_', '.' or '-', starting"
                        + " with a letter or digit, was '" + model + "'");
            }
        } catch (GantryException e) {
            ctx.request().pause();
            ctx.response().putHeader("Connection", "close");
            ErrorMapper.send(ctx.response(), e);
            return;
        }
        String actor = actor(ctx);
        String role = role(ctx, RouteGroup.DEPLOY);
        Path staging = artifacts.stagingDirectory().resolve("upload-" + UUID.randomUUID() + ".part");
        stream(ctx, staging, artifacts.limits().maxUploadBytes())
                .compose(digest -> workers.executeBlocking(() -> install(model, version, staging, digest, actor, role),
                        /* ordered= */ false))
                .onSuccess(out -> Json.send(ctx.response(), out.get("outcome").asText().equals("created") ? 201 : 200,
                        out))
                .onFailure(e -> {
                    try {
                        Files.deleteIfExists(staging);
                    } catch (java.io.IOException ignored) {
                        // cleaned at the next start
                    }
                    ErrorMapper.send(ctx, e);
                });
    }

    /** Streams the request body into {@code file}, computing its SHA-256; fails PAYLOAD_TOO_LARGE past the limit. */
    private Future<String> stream(RoutingContext ctx, Path file, long maxBytes) {
        HttpServerRequest req = ctx.request();
        String declared = req.getHeader("Content-Length");
        if (declared != null) {
            try {
                if (Long.parseLong(declared.trim()) > maxBytes) {
                    req.response().putHeader("Connection", "close");
                    return Future.failedFuture(new GantryException(ErrorCode.PAYLOAD_TOO_LARGE, "artifact of "
                            + declared + " bytes exceeds the upload limit of " + maxBytes + " bytes"));
                }
            } catch (NumberFormatException e) {
                return Future.failedFuture(GantryException.invalid("Content-Length '" + declared + "' is not a number"));
            }
        }
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            return Future.failedFuture(e);
        }
        req.pause();
        Promise<String> done = Promise.promise();
        long[] received = {0};
        ctx.vertx().fileSystem().open(file.toString(), new OpenOptions().setCreateNew(true).setWrite(true))
                .onFailure(done::tryFail)
                .onSuccess((AsyncFile out) -> {
                    req.handler(chunk -> {
                        received[0] += chunk.length();
                        if (received[0] > maxBytes) {
                            req.response().putHeader("Connection", "close");
                            req.pause();
                            out.close();
                            done.tryFail(new GantryException(ErrorCode.PAYLOAD_TOO_LARGE, "artifact exceeds the upload"
                                    + " limit of " + maxBytes + " bytes"));
                            return;
                        }
                        sha.update(chunk.getBytes());
                        out.write(chunk);
                        if (out.writeQueueFull()) {
                            req.pause();
                            out.drainHandler(v -> req.resume());
                        }
                    });
                    req.exceptionHandler(e -> {
                        out.close();
                        done.tryFail(GantryException.invalid("upload interrupted: " + e.getMessage()));
                    });
                    req.endHandler(v -> out.flush().compose(x -> out.close()).onComplete(ar -> {
                        if (ar.failed()) {
                            done.tryFail(ar.cause());
                        } else if (received[0] == 0) {
                            done.tryFail(GantryException.invalid("the upload is empty"));
                        } else {
                            done.tryComplete(HexFormat.of().formatHex(sha.digest()));
                        }
                    }));
                    req.resume();
                });
        return done.future();
    }

    private ObjectNode install(String model, long version, Path upload, String digest, String actor, String role) {
        InstallResult result;
        try {
            result = artifacts.install(model, version, upload, digest);
        } catch (ArtifactException e) {
            throw new GantryException(switch (e.reason()) {
                case CONFLICT -> ErrorCode.ALREADY_EXISTS;
                case TOO_LARGE -> ErrorCode.PAYLOAD_TOO_LARGE;
                case IO -> ErrorCode.INTERNAL;
                default -> ErrorCode.INVALID_ARG;
            }, e.getMessage());
        }
        boolean created = result.outcome() == InstallResult.Outcome.CREATED;
        ReleaseRecord record = governance.register(model, version, result.sha256(), result.sizeBytes(), actor, role);
        ObjectNode out = Json.object();
        out.put("model", model);
        out.put("version", Long.toString(version));
        out.put("sha256", result.sha256());
        out.put("size_bytes", result.sizeBytes());
        out.put("outcome", created ? "created" : "identical");
        ArrayNode files = out.putArray("files");
        result.files().forEach(files::add);
        if (created) {
            result.cardJson().ifPresent(card -> governance.patchCard(model, version,
                    governance.card(model, version).orElse(ModelCard.EMPTY).withPatch(ModelCard.parse(card)), actor, role));
            result.configJson().ifPresent(config -> out.put("config", adoptConfig(model, config)));
            startValidation(model, version, actor, role);
            record = governance.version(model, version).orElse(record);
        }
        out.put("stage", record.stage().name());
        return out;
    }

    /** A bundle's config.json becomes the model's configuration if the model has none yet. */
    private String adoptConfig(String model, String config) {
        Path dir = artifactsRoot().resolve(model);
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

    private Path artifactsRoot() {
        return artifacts.stagingDirectory().getParent();
    }

    /** VALIDATING: ORT loads it, reads its signature and runs a smoke inference; then VALIDATED or FAILED. */
    private void startValidation(String model, long version, String actor, String role) {
        governance.validationStarted(model, version, actor, role);
        Optional<ModelEntry> entry = repository.refresh(model);
        Optional<ModelVersionEntry> v = entry.flatMap(e -> e.versions().stream()
                .filter(x -> x.version() == version).findFirst());
        if (entry.isEmpty() || v.isEmpty()) {
            governance.validationFailed(model, version, "the repository does not list the installed version"
                    + entry.map(e -> ": " + e.problems()).orElse(""), actor, role);
            return;
        }
        lifecycle.load(entry.get(), v.get()).whenComplete((state, e) -> {
            try {
                if (e == null && state.isReady()) {
                    governance.validationSucceeded(model, version, actor, role);
                } else {
                    governance.validationFailed(model, version, e != null ? e.toString()
                            : state.reason().orElse(state.state().name()), actor, role);
                }
            } catch (RuntimeException failure) {
                log.error("{}/{}: recording validation failed", model, version, failure);
            }
        });
    }

    // ---- version, card, lifecycle ----

    public void version(RoutingContext ctx) {
        run(ctx, 200, () -> describe(record(ctx)));
    }

    public void card(RoutingContext ctx) {
        run(ctx, 200, () -> {
            ReleaseRecord r = record(ctx);
            return Json.MAPPER.readTree(governance.card(r.model(), r.version()).orElse(ModelCard.EMPTY).toJson());
        });
    }

    public void patchCard(RoutingContext ctx) {
        String actor = actor(ctx);
        String role = role(ctx, RouteGroup.DEPLOY);
        AdminBodies.json(ctx).onSuccess(patch -> run(ctx, 200, () -> {
            ReleaseRecord r = record(ctx);
            ModelCard card = governance.card(r.model(), r.version()).orElse(ModelCard.EMPTY).withPatch(patch);
            governance.patchCard(r.model(), r.version(), card, actor, role);
            ObjectNode out = describe(governance.version(r.model(), r.version()).orElseThrow());
            return out;
        })).onFailure(e -> ErrorMapper.send(ctx, e));
    }

    /** POST .../versions/{v}/{action}: request-approval, approve, reject, deprecate, suspend, resume. */
    public void transition(RoutingContext ctx, String action) {
        String actor = actor(ctx);
        RouteGroup group = action.equals("approve") || action.equals("reject") ? RouteGroup.APPROVAL : RouteGroup.DEPLOY;
        String role = action.equals("resume") ? "admin" : role(ctx, group);
        AdminBodies.json(ctx).onSuccess(body -> run(ctx, 200, () -> {
            ReleaseRecord r = record(ctx);
            String reason = Optional.ofNullable(AdminBodies.text(body, "reason", false)).orElse("");
            String m = r.model();
            long v = r.version();
            ReleaseRecord after = switch (action) {
                case "request-approval" -> governance.requestApproval(m, v, actor, role, reason);
                case "approve" -> governance.approve(m, v, actor, role, reason);
                case "reject" -> governance.reject(m, v, actor, role, reason);
                case "deprecate" -> governance.deprecate(m, v, actor, role, sunset(body),
                        body.hasNonNull("successor") ? Optional.of(DeploymentsHandler.integer(body.get("successor"),
                                "successor")) : Optional.empty(), reason);
                case "suspend" -> governance.suspend(m, v, actor, role, reason);
                case "resume" -> {
                    if (!isAdmin(ctx)) {
                        throw new GantryException(ErrorCode.FORBIDDEN, "resuming a suspended version needs the admin"
                                + " role");
                    }
                    yield governance.resume(m, v, actor, role, reason);
                }
                default -> throw GantryException.notFound("no lifecycle action '" + action + "'");
            };
            return describe(after);
        })).onFailure(e -> ErrorMapper.send(ctx, e));
    }

    private static Instant sunset(JsonNode body) {
        if (body.hasNonNull("sunset")) {
            try {
                return Instant.parse(body.get("sunset").asText());
            } catch (DateTimeParseException e) {
                throw GantryException.invalid("'sunset' must be an ISO-8601 instant like 2027-01-31T00:00:00Z, was '"
                        + body.get("sunset").asText() + "'");
            }
        }
        if (body.hasNonNull("sunset_in")) {
            return Instant.now().plus(KeysHandler.parseDuration(body.get("sunset_in").asText()));
        }
        throw GantryException.invalid("deprecating needs 'sunset' (an ISO-8601 instant) or 'sunset_in' (e.g. 30d)");
    }

    // ---- audit, point in time, catalogue ----

    public void audit(RoutingContext ctx) {
        run(ctx, 200, () -> {
            AuditQuery q = AuditQuery.all();
            String model = ctx.queryParams().get("model");
            String version = ctx.queryParams().get("version");
            String actor = ctx.queryParams().get("actor");
            if (model != null && version != null) {
                q = q.version(model, PathParams.requiredVersion(version));
            } else if (model != null) {
                q = q.model(model);
            } else if (version != null) {
                throw GantryException.invalid("'version' needs 'model'");
            }
            if (actor != null) {
                q = q.actor(actor);
            }
            Instant from = instantParam(ctx, "from", Instant.EPOCH);
            Instant to = instantParam(ctx, "to", Instant.now().plusSeconds(1));
            q = q.between(from, to);
            if (ctx.queryParams().get("limit") != null) {
                q = q.limit((int) DeploymentsHandler.integer(com.fasterxml.jackson.databind.node.TextNode
                        .valueOf(ctx.queryParams().get("limit")), "limit"));
            }
            ObjectNode out = Json.object();
            ArrayNode entries = out.putArray("entries");
            for (AuditEntry e : catalog.audit(q)) {
                ObjectNode n = entries.addObject();
                n.put("seq", e.seq());
                n.put("time", e.time().toString());
                n.put("actor", e.actor());
                n.put("role", e.role());
                n.put("action", e.action());
                n.put("target", e.target());
                n.put("before", e.before());
                n.put("after", e.after());
                n.put("prev_hash", e.prevHash());
                n.put("hash", e.hash());
            }
            return out;
        });
    }

    public void verifyAudit(RoutingContext ctx) {
        run(ctx, 200, () -> {
            AuditVerification v = catalog.verifyAudit();
            ObjectNode out = Json.object();
            out.put("ok", v.ok());
            out.put("checked", v.checked());
            v.firstBroken().ifPresent(seq -> out.put("first_broken", seq));
            v.problem().ifPresent(p -> out.put("problem", p));
            return out;
        });
    }

    /** GET /admin/v1/models/{m}/traffic/at?time=T: which versions took traffic, with which weights, at T. */
    public void trafficAt(RoutingContext ctx) {
        String model = ctx.pathParam("model");
        run(ctx, 200, () -> {
            Instant at = instantParam(ctx, "time", null);
            if (at == null) {
                throw GantryException.invalid("'time' is required, an ISO-8601 instant");
            }
            Optional<PolicyRevision> r = archive.inForceAt(model, at);
            ObjectNode out = Json.object();
            out.put("model", model);
            out.put("time", at.toString());
            if (r.isEmpty()) {
                out.putNull("revision");
                out.putArray("routes");
                return out;
            }
            out.put("revision", r.get().revision());
            out.put("since", r.get().time().toString());
            out.put("actor", r.get().actor());
            out.set("policy", DeploymentsHandler.policy(r.get().policy()));
            return out;
        });
    }

    /** GET /admin/v1/catalog: every version with owner, stage, tier, approvals, traffic share, last served, flags. */
    public void catalog(RoutingContext ctx) {
        run(ctx, 200, () -> {
            Instant now = Instant.now();
            CardPolicy policy = governance.cardPolicy();
            ObjectNode out = Json.object();
            ArrayNode versions = out.putArray("versions");
            for (ReleaseRecord r : catalog.versions()) {
                ObjectNode n = describe(r);
                ModelCard card = governance.card(r.model(), r.version()).orElse(ModelCard.EMPTY);
                card.owner().ifPresent(o -> n.put("owner", o));
                card.riskTier().ifPresent(t -> n.put("risk_tier", t.name().toLowerCase(java.util.Locale.ROOT)));
                double share = share(r.model(), r.version());
                n.put("traffic_share", share);
                Instant served = lastServed.get(new ModelId(r.model(), r.version()));
                if (served != null) {
                    n.put("last_served", served.toString());
                } else {
                    n.putNull("last_served");
                }
                ArrayNode flags = n.putArray("flags");
                r.reason().filter(x -> x.startsWith("approval voided")).ifPresent(x -> flags.add("approval voided"));
                if (r.stage() == ReleaseStage.DEPRECATED && r.sunset().map(now::isAfter).orElse(false)) {
                    flags.add("deprecated past sunset");
                }
                if (r.stage() == ReleaseStage.APPROVED && share == 0
                        && (served == null || served.isBefore(now.minus(unusedAfter)))) {
                    flags.add("approved but unused for " + unusedAfter.toDays() + " days");
                }
                List<String> missing = policy.missing(card);
                if (!missing.isEmpty()) {
                    flags.add("card incomplete: " + missing);
                }
            }
            return out;
        });
    }

    private double share(String model, long version) {
        Optional<DeploymentSnapshot> snap = deployments.snapshot(model);
        if (snap.isEmpty()) {
            return 0;
        }
        long total = snap.get().policy().routes().stream().mapToLong(Route::weight).sum();
        return total == 0 ? 0 : snap.get().policy().weightOf(version).orElse(0) / (double) total;
    }

    // ---- helpers ----

    private ObjectNode describe(ReleaseRecord r) {
        ObjectNode n = Json.object();
        n.put("model", r.model());
        n.put("version", Long.toString(r.version()));
        n.put("stage", r.stage().name());
        n.put("digest", r.digest());
        n.put("size_bytes", r.sizeBytes());
        n.put("uploaded_by", r.uploadedBy());
        n.put("uploaded_at", r.uploadedAt().toString());
        r.reason().ifPresent(x -> n.put("reason", x));
        r.approvalRequestedBy().ifPresent(x -> n.put("approval_requested_by", x));
        r.sunset().ifPresent(x -> n.put("sunset", x.toString()));
        r.successor().ifPresent(x -> n.put("successor", Long.toString(x)));
        r.suspendedFrom().ifPresent(x -> n.put("suspended_from", x.name()));
        ArrayNode approvals = n.putArray("approvals");
        for (Approval a : governance.approvals(r.model(), r.version())) {
            ObjectNode o = approvals.addObject();
            o.put("approver", a.approver());
            o.put("decision", a.decision().name());
            o.put("time", a.time().toString());
            o.put("reason", a.reason());
            o.put("voided", a.voided());
        }
        lifecycle.state(new ModelId(r.model(), r.version())).map(ModelVersionState::state)
                .ifPresent(s -> n.put("serving_state", s.name()));
        return n;
    }

    private ReleaseRecord record(RoutingContext ctx) {
        String model = ctx.pathParam("model");
        long version = PathParams.requiredVersion(ctx.pathParam("version"));
        return governance.version(model, version).orElseThrow(() -> GantryException.notFound("model '" + model
                + "' has no catalogued version " + version));
    }

    private void run(RoutingContext ctx, int status, Callable<Object> work) {
        workers.executeBlocking(work, /* ordered= */ false)
                .onSuccess(tree -> Json.send(ctx.response(), status, tree))
                .onFailure(e -> ErrorMapper.send(ctx, e));
    }

    private static Instant instantParam(RoutingContext ctx, String name, Instant fallback) {
        String v = ctx.queryParams().get(name);
        if (v == null) {
            return fallback;
        }
        try {
            return Instant.parse(v);
        } catch (DateTimeParseException e) {
            throw GantryException.invalid("'" + name + "' must be an ISO-8601 instant like 2026-11-26T12:00:00Z, was '"
                    + v + "'");
        }
    }

    static String actor(RoutingContext ctx) {
        return DeploymentsHandler.actor(ctx);
    }

    /** The role that let the caller in: the group's non-admin role it holds, else admin; "none" without keys. */
    static String role(RoutingContext ctx, RouteGroup group) {
        Caller c = ctx.get(Caller.CONTEXT_KEY);
        if (c == null || c.key().isEmpty()) {
            return "none";
        }
        for (Role r : c.key().get().roles()) {
            if (r != Role.ADMIN && group.allowed().contains(r)) {
                return r.wireName();
            }
        }
        return Role.ADMIN.wireName();
    }

    private static boolean isAdmin(RoutingContext ctx) {
        Caller c = ctx.get(Caller.CONTEXT_KEY);
        return c == null || c.key().isEmpty() || c.key().get().roles().contains(Role.ADMIN);
    }

    /** Versions served through the router record when they last answered, for the catalogue. */
    public static Map<ModelId, Instant> newLastServed() {
        return new ConcurrentHashMap<>();
    }
}
