package dev.gantry.http.inference;

import dev.gantry.http.params.PathParams;
import dev.gantry.core.error.ErrorCode;
import dev.gantry.core.error.GantryException;
import dev.gantry.core.routing.ModelRouter;
import dev.gantry.http.error.ErrorMapper;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;

import dev.gantry.http.logging.AccessLog;

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
    /** Set when a fallback version answered: {@code from=2; reason=timeout}. */
    public static final String FALLBACK_HEADER = "Gantry-Fallback";

    private final ModelRouter router;
    private final OipCodec codec;
    private final BodyLimits limits;
    private final WorkerExecutor workers;
    private final BooleanSupplier admitting;
    private final AtomicInteger inflight;
    private final DeprecationHeaders deprecation;

    /**
     * @param admitting false once the server drains: requests are then refused before admission
     * @param inflight counts admitted requests until their response is written (shutdown waits for zero)
     */
    public InferenceHandler(ModelRouter router, OipCodec codec, BodyLimits limits, WorkerExecutor workers,
                            BooleanSupplier admitting, AtomicInteger inflight, DeprecationHeaders deprecation) {
        this.deprecation = deprecation;
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
        } catch (GantryException e) {
            ctx.request().pause();
            ctx.response().putHeader("Connection", "close");
            ErrorMapper.send(ctx.response(), e);
            return;
        }
        inflight.incrementAndGet();
        ctx.addEndHandler(ar -> inflight.decrementAndGet());
        BodyReader.read(ctx.request(), limits.maxBytes(), ctx.vertx(), limits.timeout().toMillis())
                .compose(body -> decode(body, headerLength))
                .compose(decoded -> Future.fromCompletionStage(router.infer(model, version,
                                routingKey(ctx, decoded), decoded.request()), ctx.vertx().getOrCreateContext())
                        .compose(routed -> {
                            ctx.put(AccessLog.VERSION_KEY, routed.response().model().version());
                            routed.fallback().ifPresent(f -> {
                                ctx.put(AccessLog.FALLBACK_KEY, f.headerValue());
                                ctx.response().putHeader(FALLBACK_HEADER, f.headerValue());
                            });
                            deprecation.addTo(ctx.response(), routed.response().model());
                            return encode(routed.response(), decoded.outputEncoding());
                        }))
                .onSuccess(encoded -> write(ctx, encoded))
                .onFailure(e -> ErrorMapper.send(ctx, e));
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
