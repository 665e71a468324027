package dev.gantry.http.admin;

import dev.gantry.core.access.Actor;
import dev.gantry.core.error.ErrorCode;
import dev.gantry.core.error.GantryException;
import dev.gantry.core.release.Installed;
import dev.gantry.core.release.Releases;
import dev.gantry.http.auth.Caller;
import dev.gantry.http.auth.RouteGroup;
import dev.gantry.http.error.ErrorMapper;
import dev.gantry.http.json.Json;
import dev.gantry.http.params.PathParams;
import dev.gantry.store.digest.Sha256;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.file.AsyncFile;
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
 * then hands it to the release workflow, which installs, registers and starts validating it.
 */
public final class UploadHandler {
    private final Releases releases;
    private final WorkerExecutor workers;

    public UploadHandler(Releases releases, WorkerExecutor workers) {
        this.releases = releases;
        this.workers = workers;
    }

    public void upload(RoutingContext ctx) {
        String model = ctx.pathParam("model");
        long version;
        try {
            version = PathParams.requiredVersion(ctx.pathParam("version"));
            releases.checkUploadTarget(model, version);
        } catch (GantryException e) {
            ctx.request().pause();
            ctx.response().putHeader("Connection", "close");
            ErrorMapper.send(ctx.response(), e);
            return;
        }
        Actor actor = Caller.from(ctx).actor(RouteGroup.DEPLOY);
        Path staging = releases.newUploadFile();
        stream(ctx, staging, releases.maxUploadBytes())
                .compose(digest -> workers.executeBlocking(() -> releases.install(model, version, staging, digest,
                        actor), /* ordered= */ false))
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

    /** Streams the request body into {@code file}, computing its SHA-256; fails PAYLOAD_TOO_LARGE past the limit. */
    private static Future<String> stream(RoutingContext ctx, Path file, long maxBytes) {
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
        MessageDigest sha = Sha256.newDigest();
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
}
