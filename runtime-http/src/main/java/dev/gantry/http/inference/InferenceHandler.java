package dev.gantry.http.inference;

import dev.gantry.http.params.PathParams;
import dev.gantry.core.error.ErrorCode;
import dev.gantry.core.error.GantryException;
import dev.gantry.core.routing.ModelRouter;
import dev.gantry.http.auth.Caller;
import dev.gantry.http.error.ErrorMapper;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;

import dev.gantry.http.logging.AccessLog;
import dev.gantry.http.tracing.Tracing;
import dev.gantry.http.usage.UsageRecorder;
import dev.gantry.core.inference.RequestContext;

import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.OptionalLong;
import java.util.function.BooleanSupplier;

/** {@code POST /v2/models/{model}[/versions/{version}]/infer}: OIP JSON or the binary tensor extension. */
public final class InferenceHandler implements Handler<RoutingContext> {
    /*
     * Threads. The body is read on the event loop. Decoding and encoding run there too for bodies up to
     * OFFLOAD_BYTES (a few microseconds of work); larger ones (a 600 KB tensor is ~1 ms of JSON) go to the
     * named worker pool so one big request cannot stall every connection on the loop. Inference runs on the
     * model's scheduler threads; its result comes back to this request's context.
     */
    static final int OFFLOAD_BYTES = 256 * 1024;
    public static final String ROUTE_KEY_HEADER = "Gantry-Route-Key";

    private final ModelRouter router;
    private final OipCodec codec;
    private final BodyLimits limits;
    private final WorkerExecutor workers;
    private final BooleanSupplier admitting;
    private final AtomicInteger inflight;
    private final DeprecationHeaders deprecation;
    private final UsageRecorder usage;

    /**
     * @param admitting false once the server drains: requests are then refused before admission
     * @param inflight counts admitted requests until their response is written (shutdown waits for zero)
     */
    public InferenceHandler(ModelRouter router, OipCodec codec, BodyLimits limits, WorkerExecutor workers,
                            BooleanSupplier admitting, AtomicInteger inflight, DeprecationHeaders deprecation,
                            UsageRecorder usage) {
        this.deprecation = deprecation;
        this.usage = usage;
        this.router = router;
        this.codec = codec;
        this.limits = limits;
        this.workers = workers;
        this.admitting = admitting;
        this.inflight = inflight;
    }

    @Override
    public void handle(RoutingContext ctx) {
        String model = ctx.pathParam("model");
        OptionalLong version;
        OptionalLong headerLength;
        try {
            version = PathParams.version(ctx.pathParam("version"));
            headerLength = OipCodec.headerLength(ctx.request().getHeader(OipCodec.HEADER_LENGTH_HEADER));
            checkContentType(ctx.request().getHeader("Content-Type"), headerLength.isPresent());
            if (!admitting.getAsBoolean()) {
                throw new GantryException(ErrorCode.UNAVAILABLE, "server is shutting down and admits no new requests");
            }
            Optional<GantryException> overQuota = usage.admit(ctx);
            if (overQuota.isPresent()) {
                throw overQuota.get();
            }
        } catch (GantryException e) {
            ctx.request().pause();
            ctx.response().putHeader("Connection", "close");
            ErrorMapper.send(ctx.response(), e);
            return;
        }
        inflight.incrementAndGet();
        ctx.addEndHandler(ar -> inflight.decrementAndGet());
        RequestContext context = new RequestContext(Tracing.span(ctx));
        Used used = new Used();
        BodyReader.read(ctx.request(), limits.maxBytes(), ctx.vertx(), limits.timeout().toMillis())
                .compose(body -> {
                    used.bytesIn = body.length();
                    return decode(body, headerLength);
                })
                .compose(decoded -> Future.fromCompletionStage(router.infer(model, version,
                                routingKey(ctx, decoded), decoded.request(), Caller.from(ctx).pinnedAccess(), context),
                                ctx.vertx().getOrCreateContext())
                        .compose(routed -> {
                            ctx.put(AccessLog.VERSION_KEY, routed.response().model().version());
                            deprecation.addTo(ctx.response(), routed.response().model());
                            Tracing.routed(ctx, routed.response().model(), routed.kind());
                            used.served = routed.response().model();
                            used.rows = rows(decoded.request());
                            return encode(routed.response(), decoded.outputEncoding());
                        }))
                .onSuccess(encoded -> {
                    write(ctx, encoded);
                    usage.completed(ctx, used.served, used.rows, used.bytesIn, encoded.body().length(),
                            /* tokens= */ 0, context.computeNanos());
                })
                .onFailure(e -> {
                    usage.failed(ctx);
                    ErrorMapper.send(ctx, e);
                });
    }

    /** What a request used, filled in as it goes. */
    private static final class Used {
        long bytesIn;
        long rows;
        dev.gantry.core.model.ModelId served;
    }

    /** Batch rows: dimension 0 of the first input (1 for a scalar or no input). */
    static long rows(dev.gantry.core.inference.InferenceRequest request) {
        if (request.inputs().isEmpty() || request.inputs().get(0).rank() == 0) {
            return 1;
        }
        return request.inputs().get(0).dim(0);
    }

    /** The sticky-routing key: the Gantry-Route-Key header, else the request's parameters.routing_key. */
    static Optional<String> routingKey(RoutingContext ctx, DecodedRequest decoded) {
        String header = ctx.request().getHeader(ROUTE_KEY_HEADER);
        if (header != null && !header.isBlank()) {
            return Optional.of(header);
        }
        Object p = decoded.request().parameters().get("routing_key");
        return p == null ? Optional.empty() : Optional.of(p.toString());
    }

    private Future<DecodedRequest> decode(Buffer body, OptionalLong headerLength) {
        if (body.length() <= OFFLOAD_BYTES) {
            try {
                return Future.succeededFuture(codec.decodeRequest(body, headerLength));
            } catch (GantryException e) {
                return Future.failedFuture(e);
            }
        }
        return workers.executeBlocking(() -> codec.decodeRequest(body, headerLength), /* ordered= */ false);
    }

    private Future<EncodedResponse> encode(dev.gantry.core.inference.InferenceResponse response,
                                           OutputEncoding encoding) {
        long bytes = response.outputs().stream().mapToLong(t -> t.byteSize()).sum();
        if (bytes <= OFFLOAD_BYTES / 4) {
            try {
                return Future.succeededFuture(codec.encodeResponse(response, encoding));
            } catch (RuntimeException e) {
                return Future.failedFuture(e);
            }
        }
        return workers.executeBlocking(() -> codec.encodeResponse(response, encoding), /* ordered= */ false);
    }

    private static void write(RoutingContext ctx, EncodedResponse encoded) {
        HttpServerResponse response = ctx.response();
        if (response.closed() || response.ended()) {
            return;
        }
        Object version = ctx.get(AccessLog.VERSION_KEY);
        if (version != null) {
            response.putHeader("Gantry-Model-Version", version.toString());
        }
        if (encoded.headerLength().isPresent()) {
            response.putHeader("Content-Type", "application/octet-stream")
                    .putHeader(OipCodec.HEADER_LENGTH_HEADER, Long.toString(encoded.headerLength().getAsLong()));
        } else {
            response.putHeader("Content-Type", "application/json");
        }
        response.end(encoded.body());
    }

    static void checkContentType(String contentType, boolean binary) {
        if (contentType == null) {
            return;
        }
        String type = contentType.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
        boolean ok = type.isEmpty() || type.equals("application/json")
                || (binary && (type.equals("application/octet-stream")
                || type.equals("application/vnd.sagemaker-triton.binary+json")));
        if (!ok) {
            throw new GantryException(ErrorCode.UNSUPPORTED_MEDIA_TYPE, "Content-Type '" + contentType
                    + "' is not accepted; send application/json"
                    + (binary ? " or application/octet-stream" : " (or the binary extension with "
                    + OipCodec.HEADER_LENGTH_HEADER + ")"));
        }
    }
}
