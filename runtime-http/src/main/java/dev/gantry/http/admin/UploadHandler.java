package dev.gantry.http.admin;

import dev.gantry.core.access.Actor;
import dev.gantry.core.error.ErrorCode;
import dev.gantry.core.error.GantryException;
import dev.gantry.core.release.Installed;
import dev.gantry.core.release.Releases;
import dev.gantry.http.auth.Caller;
import dev.gantry.http.auth.RouteGroup;
import dev.gantry.http.error.EarlyAnswer;
import dev.gantry.http.error.ErrorMapper;
import dev.gantry.http.json.Json;
import dev.gantry.http.params.PathParams;
import dev.gantry.http.upload.UploadSlots;
import dev.gantry.http.upload.UploadStream;
import dev.gantry.store.artifact.UploadLimits;
import dev.gantry.store.digest.Sha256;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.file.OpenOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.RoutingContext;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;

/**
 * {@code PUT /admin/v1/models/{m}/versions/{v}}: streams the artifact to a staging file, hashing it on the way,
 * then hands it to the release workflow, which installs, registers and starts validating it. Uploads have their own
 * executor and a bounded number of slots (503 past it), an idle timeout (408 when the client stops sending) and a
 * free-disk floor (507); the body is never pre-sized from what the client declares.
 */
public final class UploadHandler {
    private final Releases releases;
    private final UploadLimits limits;
    private final UploadSlots slots;
    private volatile WorkerExecutor uploads;

    public UploadHandler(Releases releases) {
        this.releases = releases;
        this.limits = releases.uploadLimits();
        this.slots = new UploadSlots(limits.maxConcurrent());
    }

    public void upload(RoutingContext ctx) {
        String model = ctx.pathParam("model");
        long version;
        long declared;
        UploadSlots.Slot slot;
        try {
            version = PathParams.requiredVersion(ctx.pathParam("version"));
            releases.checkUploadTarget(model, version);
            declared = declaredLength(ctx.request().getHeader("Content-Length"), releases.maxUploadBytes());
            slot = slots.acquire();
        } catch (GantryException e) {
            EarlyAnswer.leaveBodyUnread(ctx);
            if (e.code() == ErrorCode.UNAVAILABLE) {
                ctx.response().putHeader("Retry-After", "5");
            }
            ErrorMapper.send(ctx.response(), e);
            return;
        }
        ctx.addEndHandler(x -> slot.close());
        Actor actor = Caller.from(ctx).actor(RouteGroup.DEPLOY);
        Path staging = releases.newUploadFile();
        MessageDigest sha = Sha256.newDigest();
        HttpServerRequest req = ctx.request();
        req.pause();
        ctx.vertx().fileSystem().open(staging.toString(), new OpenOptions().setCreateNew(true).setWrite(true))
                .compose(file -> UploadStream.pipe(req, file, ctx.vertx(), new UploadStream.Options(
                                releases.maxUploadBytes(), limits.idleTimeout(),
                                got -> releases.uploadShortfall(Math.max(declared - got, 0))),
                                chunk -> sha.update(chunk.getBytes()))
                        .transform(ar -> file.close().transform(c -> ar.succeeded() ? Future.succeededFuture(ar.result())
                                : Future.<Long>failedFuture(ar.cause()))))
                .compose(received -> received == 0 ? Future.failedFuture(GantryException.invalid("the upload is empty"))
                        : Future.succeededFuture(HexFormat.of().formatHex(sha.digest())))
                .compose(digest -> uploads(ctx.vertx()).executeBlocking(() -> releases.install(model, version, staging,
                        digest, actor), /* ordered= */ false))
                .onSuccess((Installed out) -> Json.send(ctx.response(), out.created() ? 201 : 200,
                        ReleaseJson.installed(out)))
                .onFailure(e -> {
                    try {
                        Files.deleteIfExists(staging);
                    } catch (IOException ignored) {
                        // cleaned at the next start
                    }
                    ErrorMapper.send(ctx, e);
                });
    }

    /** The declared Content-Length (0 when absent), refused early when it is over the limit or not a number. */
    private static long declaredLength(String header, long maxBytes) {
        if (header == null) {
            return 0;
        }
        long declared;
        try {
            declared = Long.parseLong(header.trim());
        } catch (NumberFormatException e) {
            throw GantryException.invalid("Content-Length '" + header + "' is not a number");
        }
        if (declared > maxBytes) {
            throw new GantryException(ErrorCode.PAYLOAD_TOO_LARGE, "artifact of " + declared
                    + " bytes exceeds the upload limit of " + maxBytes + " bytes");
        }
        return declared;
    }

    /** The uploads' own executor: installing copies and fsyncs, and must not hold up the shared worker pool. */
    private WorkerExecutor uploads(Vertx vertx) {
        WorkerExecutor e = uploads;
        if (e == null) {
            synchronized (this) {
                if (uploads == null) {
                    uploads = vertx.createSharedWorkerExecutor("gantry-upload", limits.maxConcurrent());
                }
                e = uploads;
            }
        }
        return e;
    }
}
