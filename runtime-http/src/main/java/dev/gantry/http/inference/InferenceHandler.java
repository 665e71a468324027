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
     *
     * Content codings (ContentCoding). A gzip/deflate body is inflated before decoding, under --max-body-bytes;
     * one over INLINE_INFLATE_BYTES compressed inflates on the worker pool (deflate expands up to ~1000x). The
     * response is compressed where it is encoded, when the client accepts it and it is worth it. The
     * classification extension rewrites the chosen outputs after inference, before encoding.
     */
    static final int OFFLOAD_BYTES = 256 * 1024;
    /** Compressed bodies up to this size inflate on the event loop (at most ~1 MB of output, deflate's limit). */
    static final int INLINE_INFLATE_BYTES = 1024;
    public static final String ROUTE_KEY_HEADER = "Gantry-Route-Key";
    /** Set when a fallback version answered: {@code from=2; reason=timeout}. */
    public static final String FALLBACK_HEADER = "Gantry-Fallback";

    /* Constant header names and values, encoded once: Netty writes them without re-encoding or re-hashing. */
    private static final CharSequence VARY = io.vertx.core.http.HttpHeaders.createOptimized("Vary");
    private static final CharSequence ACCEPT_ENCODING = io.vertx.core.http.HttpHeaders.createOptimized("Accept-Encoding");
    private static final CharSequence MODEL_VERSION = io.vertx.core.http.HttpHeaders.createOptimized("Gantry-Model-Version");
    private static final CharSequence CONTENT_TYPE = io.vertx.core.http.HttpHeaders.CONTENT_TYPE;
    private static final CharSequence JSON = io.vertx.core.http.HttpHeaders.createOptimized("application/json");
    private static final CharSequence OCTET_STREAM = io.vertx.core.http.HttpHeaders.createOptimized("application/octet-stream");
    private static final CharSequence ROUTE_KEY = io.vertx.core.http.HttpHeaders.createOptimized(ROUTE_KEY_HEADER);
    private static final CharSequence HEADER_LENGTH = io.vertx.core.http.HttpHeaders.createOptimized(OipCodec.HEADER_LENGTH_HEADER);

    private final ModelRouter router;
    private final OipCodec codec;
    private final BodyLimits limits;
    private final WorkerExecutor workers;
    private final BooleanSupplier admitting;
    private final AtomicInteger inflight;
    private final DeprecationHeaders deprecation;
    private final UsageRecorder usage;
    private final dev.gantry.core.sharedmemory.SharedMemoryRegistry sharedMemory;

    /**
     * @param admitting false once the server drains: requests are then refused before admission
     * @param inflight counts admitted requests until their response is written (shutdown waits for zero)
     */
    public InferenceHandler(ModelRouter router, OipCodec codec, BodyLimits limits, WorkerExecutor workers,
                            BooleanSupplier admitting, AtomicInteger inflight, DeprecationHeaders deprecation,
                            UsageRecorder usage, dev.gantry.core.sharedmemory.SharedMemoryRegistry sharedMemory) {
        this.deprecation = deprecation;
        this.usage = usage;
        this.sharedMemory = sharedMemory;
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
        ContentCoding.Coding coding;
        try {
            version = PathParams.version(ctx.pathParam("version"));
            headerLength = OipCodec.headerLength(ctx.request().getHeader(HEADER_LENGTH));
            checkContentType(ctx.request().getHeader(CONTENT_TYPE), headerLength.isPresent());
            coding = ContentCoding.ofRequest(ctx.request().getHeader(io.vertx.core.http.HttpHeaders.CONTENT_ENCODING));
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
        SharedMemoryRef.Access regions = sharedMemory == null ? SharedMemoryRef.Access.NONE
                : (region, offset, size) -> sharedMemory.view(SharedMemoryHandler.owner(ctx), region, offset, size);
        java.util.Optional<ContentCoding.Coding> answerCoding =
                ContentCoding.forResponse(ctx.request().getHeader(ACCEPT_ENCODING));
        BodyReader.read(ctx.request(), limits.maxBytes(), ctx.vertx(), limits.timeout().toMillis())
                .compose(body -> {
                    used.bytesIn = body.length();
                    return decode(body, headerLength, coding, regions);
                })
                .compose(decoded -> Future.fromCompletionStage(router.infer(model, version,
                                routingKey(ctx, decoded), decoded.request(), Caller.from(ctx).pinnedAccess(), context),
                                ctx.vertx().getOrCreateContext())
                        .compose(routed -> {
                            ctx.put(AccessLog.VERSION_KEY, routed.response().model().version());
                            routed.fallback().ifPresent(f -> {
                                ctx.put(AccessLog.FALLBACK_KEY, f.headerValue());
                                ctx.response().putHeader(FALLBACK_HEADER, f.headerValue());
                            });
                            deprecation.addTo(ctx.response(), routed.response().model());
                            Tracing.routed(ctx, routed.response().model(), routed.kind());
                            used.served = routed.response().model();
                            used.rows = rows(decoded.request());
                            dev.gantry.core.inference.InferenceResponse response;
                            try {
                                response = router.lifecycle().classify(routed.response(), decoded.classification());
                            } catch (GantryException e) {
                                return Future.failedFuture(e);
                            }
                            return encode(response, decoded, answerCoding, regions);
                        }))
                .onSuccess(encoded -> {
                    write(ctx, encoded);
                    usage.completed(ctx, used.served, used.rows, used.bytesIn, encoded.response().body().length(),
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
        String header = ctx.request().getHeader(ROUTE_KEY);
        if (header != null && !header.isBlank()) {
            return Optional.of(header);
        }
        Object p = decoded.request().parameters().get("routing_key");
        return p == null ? Optional.empty() : Optional.of(p.toString());
    }

    private Future<DecodedRequest> decode(Buffer body, OptionalLong headerLength, ContentCoding.Coding coding,
                                          SharedMemoryRef.Access regions) {
        // A compressed body may inflate up to --max-body-bytes: only a small one is inflated on the event loop.
        boolean inline = coding == ContentCoding.Coding.IDENTITY ? body.length() <= OFFLOAD_BYTES
                : body.length() <= INLINE_INFLATE_BYTES;
        if (inline) {
            try {
                return Future.succeededFuture(codec.decodeRequest(
                        ContentCoding.decode(coding, body, limits.maxBytes()), headerLength, regions));
            } catch (GantryException e) {
                return Future.failedFuture(e);
            }
        }
        return workers.executeBlocking(() -> codec.decodeRequest(
                ContentCoding.decode(coding, body, limits.maxBytes()), headerLength, regions),
                /* ordered= */ false);
    }

    /** Encodes a response and, when the client accepts it and the body is large enough, compresses it. */
    private Future<Encoded> encode(dev.gantry.core.inference.InferenceResponse response, DecodedRequest request,
                                   java.util.Optional<ContentCoding.Coding> coding, SharedMemoryRef.Access regions) {
        long bytes = response.outputs().stream().mapToLong(t -> t.byteSize()).sum();
        if (bytes <= OFFLOAD_BYTES / 4) {
            try {
                return Future.succeededFuture(encodeNow(response, request, coding, regions));
            } catch (RuntimeException e) {
                return Future.failedFuture(e);
            }
        }
        return workers.executeBlocking(() -> encodeNow(response, request, coding, regions), /* ordered= */ false);
    }

    private Encoded encodeNow(dev.gantry.core.inference.InferenceResponse response, DecodedRequest request,
                              java.util.Optional<ContentCoding.Coding> coding, SharedMemoryRef.Access regions) {
        EncodedResponse encoded = codec.encodeResponse(response, request.outputEncoding(),
                request.sharedMemoryOutputs(), regions);
        if (coding.isPresent() && ContentCoding.worthCompressing(encoded.body().length())) {
            return new Encoded(new EncodedResponse(ContentCoding.encode(coding.get(), encoded.body()),
                    encoded.headerLength()), coding);
        }
        return new Encoded(encoded, java.util.Optional.empty());
    }

    /** An encoded response and the content coding its body is in (empty: as encoded). */
    private record Encoded(EncodedResponse response, java.util.Optional<ContentCoding.Coding> coding) {
    }

    private static void write(RoutingContext ctx, Encoded answer) {
        EncodedResponse encoded = answer.response();
        HttpServerResponse response = ctx.response();
        answer.coding().ifPresent(c -> response.putHeader("Content-Encoding", c.token()));
        response.putHeader(VARY, ACCEPT_ENCODING);
        if (response.closed() || response.ended()) {
            return;
        }
        Object version = ctx.get(AccessLog.VERSION_KEY);
        if (version != null) {
            response.putHeader(MODEL_VERSION, version.toString());
        }
        if (encoded.headerLength().isPresent()) {
            response.putHeader(CONTENT_TYPE, OCTET_STREAM)
                    .putHeader(HEADER_LENGTH, Long.toString(encoded.headerLength().getAsLong()));
        } else {
            response.putHeader(CONTENT_TYPE, JSON);
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
