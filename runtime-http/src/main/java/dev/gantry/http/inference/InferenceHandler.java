package dev.gantry.http.inference;

import dev.gantry.http.params.PathParams;
import dev.gantry.core.error.ErrorCode;
import dev.gantry.core.error.GantryException;
import dev.gantry.core.routing.ModelRouter;
import dev.gantry.http.auth.Caller;
import dev.gantry.http.error.EarlyAnswer;
import dev.gantry.http.error.ErrorMapper;
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
    /** Every admitted request's end handler: one instance, not a lambda per request. */
    /*
     * Whether the access log reads the served version from the request's context. Without the log nothing does,
     * and the context's first put (it allocates the context's map) was 4% of the event loop under MLP load.
     */
    private final boolean accessLogged;

    /**
     * @param admitting false once the server drains: requests are then refused before admission
     * @param inflight counts admitted requests until their response is written (shutdown waits for zero)
     * @param accessLogged whether an access log reads the served version and fallback from the context
     */
    public InferenceHandler(ModelRouter router, OipCodec codec, BodyLimits limits, WorkerExecutor workers,
                            BooleanSupplier admitting, AtomicInteger inflight, DeprecationHeaders deprecation,
                            UsageRecorder usage, dev.gantry.core.sharedmemory.SharedMemoryRegistry sharedMemory,
                            boolean accessLogged) {
        this.accessLogged = accessLogged;
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
            EarlyAnswer.leaveBodyUnread(ctx);
            ErrorMapper.send(ctx.response(), e);
            return;
        }
        inflight.incrementAndGet();
        // the body's bytes are held in the server's budget until the answer is written or the connection closes,
        // and, when it closes first, until the model has answered (its tensors wait in the queue until then)
        BodyMemory.Lease held = limits.memory().lease();
        Exchange x = new Exchange(ctx, model, version, headerLength, coding,
                ContentCoding.forResponse(ctx.request().getHeader(ACCEPT_ENCODING)), held);
        ctx.addEndHandler(ar -> {
            inflight.decrementAndGet();
            held.ended();
        });
        BodyReader.read(ctx.request(), limits.maxBytes(), ctx.vertx(), limits.timeout().toMillis(), held)
                .onComplete(x);
    }

    /*
     * One request's way through, as one object: the steps are methods and what they learn is fields, instead of
     * a chain of composed futures with a lambda and a listener per step and routing-context entries. Every step
     * runs on the request's event loop, except the scheduler's completion (accept), which hands the answer back
     * with one runOnContext. A step that fails ends the request through fail(): usage released, the error mapped.
     */
    private final class Exchange implements Handler<io.vertx.core.AsyncResult<Buffer>>,
            java.util.function.BiConsumer<dev.gantry.core.routing.RoutedResponse, Throwable>, SharedMemoryRef.Access {
        final RoutingContext ctx;
        final String model;
        final OptionalLong version;
        final OptionalLong headerLength;
        final ContentCoding.Coding coding;
        final Optional<ContentCoding.Coding> answerCoding;
        final RequestContext context;
        final io.vertx.core.Context loop;
        final Thread loopThread = Thread.currentThread();
        final SharedMemoryRef.Access regions;
        long bytesIn;
        DecodedRequest decoded;
        /* Set by the scheduler's thread before runOnContext, read on the loop after it. */
        dev.gantry.core.routing.RoutedResponse routed;
        Throwable failure;

        /**
         * What this request holds of the server's body memory budget; in use while its body is decoded on a worker
         * and while the model has its tensors.
         */
        final BodyMemory.Lease held;

        Exchange(RoutingContext ctx, String model, OptionalLong version, OptionalLong headerLength,
                 ContentCoding.Coding coding, Optional<ContentCoding.Coding> answerCoding, BodyMemory.Lease held) {
            this.held = held;
            this.ctx = ctx;
            this.model = model;
            this.version = version;
            this.headerLength = headerLength;
            this.coding = coding;
            this.answerCoding = answerCoding;
            this.context = new RequestContext(Tracing.span(ctx));
            this.loop = ctx.vertx().getOrCreateContext();
            this.regions = sharedMemory == null ? SharedMemoryRef.Access.NONE : this;
        }

        @Override
        public java.nio.ByteBuffer view(String region, long offset, long byteSize) {
            return sharedMemory.view(SharedMemoryHandler.owner(ctx), region, offset, byteSize);
        }

        /** The body has arrived (or failed): decode it, here or on the worker pool. */
        @Override
        public void handle(io.vertx.core.AsyncResult<Buffer> body) {
            if (body.failed()) {
                fail(body.cause());
                return;
            }
            Buffer b = body.result();
            bytesIn = b.length();
            // A compressed body may inflate up to --max-body-bytes: only a small one is inflated on the event loop.
            boolean inline = coding == ContentCoding.Coding.IDENTITY ? b.length() <= OFFLOAD_BYTES
                    : b.length() <= INLINE_INFLATE_BYTES;
            if (inline) {
                DecodedRequest d;
                try {
                    d = codec.decodeRequest(ContentCoding.decode(coding, b, limits.maxBytes(), held), headerLength,
                            regions);
                } catch (Throwable e) { // as a composed future's step did: any throwable is the request's failure
                    fail(e);
                    return;
                }
                infer(d);
                return;
            }
            held.use();
            workers.executeBlocking(() -> codec.decodeRequest(ContentCoding.decode(coding, b, limits.maxBytes(),
                            held), headerLength, regions), /* ordered= */ false)
                    .onComplete(ar -> {
                        held.done();
                        if (held.hasEnded()) { // the client left while its body was decoded: nothing to run
                            usage.failed(ctx);
                            return;
                        }
                        if (ar.succeeded()) {
                            infer(ar.result());
                        } else {
                            fail(ar.cause());
                        }
                    });
        }

        private void infer(DecodedRequest d) {
            decoded = d;
            java.util.concurrent.CompletableFuture<dev.gantry.core.routing.RoutedResponse> answer;
            held.use();
            try {
                answer = router.infer(model, version, routingKey(ctx, d), d.request(), Caller.from(ctx).pinnedAccess(),
                        context);
            } catch (Throwable e) { // as a composed future's step did: any throwable is the request's failure
                held.done();
                fail(e);
                return;
            }
            answer.whenComplete(this);
        }

        /** The router's answer, on the scheduler's thread (or this loop's, when refused at once): back to the loop. */
        @Override
        public void accept(dev.gantry.core.routing.RoutedResponse r, Throwable e) {
            routed = r;
            failure = e;
            if (Thread.currentThread() == loopThread) {
                answered();
            } else {
                loop.runOnContext(v -> answered());
            }
        }

        private void answered() {
            held.done();
            if (failure != null) {
                fail(failure);
                return;
            }
            dev.gantry.core.model.ModelId served = routed.response().model();
            dev.gantry.core.inference.InferenceResponse response;
            try {
                if (accessLogged) {
                    ctx.put(AccessLog.VERSION_KEY, served.version());
                }
                if (routed.fallback().isPresent()) {
                    String fallback = routed.fallback().get().headerValue();
                    if (accessLogged) {
                        ctx.put(AccessLog.FALLBACK_KEY, fallback);
                    }
                    ctx.response().putHeader(FALLBACK_HEADER, fallback);
                }
                deprecation.addTo(ctx.response(), served);
                Tracing.routed(ctx, served, routed.kind());
                response = router.lifecycle().classify(routed.response(), decoded.classification());
            } catch (Throwable e) { // as a composed future's step did: any throwable is the request's failure
                fail(e);
                return;
            }
            long bytes = 0;
            for (dev.gantry.core.inference.Tensor t : response.outputs()) {
                bytes += t.byteSize();
            }
            if (bytes <= OFFLOAD_BYTES / 4) {
                Encoded encoded;
                try {
                    encoded = encodeNow(response, decoded, answerCoding, regions);
                } catch (Throwable e) { // as a composed future's step did: any throwable is the request's failure
                    fail(e);
                    return;
                }
                done(served, encoded);
                return;
            }
            dev.gantry.core.inference.InferenceResponse big = response;
            workers.executeBlocking(() -> encodeNow(big, decoded, answerCoding, regions), /* ordered= */ false)
                    .onComplete(ar -> {
                        if (ar.succeeded()) {
                            done(served, ar.result());
                        } else {
                            fail(ar.cause());
                        }
                    });
        }

        private void done(dev.gantry.core.model.ModelId served, Encoded encoded) {
            // read before the write: a pooled body is given back once it is sent
            int bytesOut = encoded.response().body().length();
            write(ctx, encoded, served.version());
            usage.completed(ctx, served, rows(decoded.request()), bytesIn, bytesOut, /* tokens= */ 0,
                    context.computeNanos());
        }

        private void fail(Throwable e) {
            usage.failed(ctx);
            ErrorMapper.send(ctx, e);
        }
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

    private Encoded encodeNow(dev.gantry.core.inference.InferenceResponse response, DecodedRequest request,
                              java.util.Optional<ContentCoding.Coding> coding, SharedMemoryRef.Access regions) {
        EncodedResponse encoded = codec.encodeResponse(response, request.outputEncoding(),
                request.sharedMemoryOutputs(), regions, ResponseBodies.POOLED);
        if (coding.isPresent() && ContentCoding.worthCompressing(encoded.body().length())) {
            try {
                return new Encoded(new EncodedResponse(ContentCoding.encode(coding.get(), encoded.body()),
                        encoded.headerLength()), coding);
            } finally {
                encoded.release();
            }
        }
        return new Encoded(encoded, java.util.Optional.empty());
    }

    /** An encoded response and the content coding its body is in (empty: as encoded). */
    private record Encoded(EncodedResponse response, java.util.Optional<ContentCoding.Coding> coding) {
    }

    /** Sends the answer, or drops it when the response is already over; either way its body is released. */
    private static void write(RoutingContext ctx, Encoded answer, long version) {
        EncodedResponse encoded = answer.response();
        if (!encoded.pooled()) {
            send(ctx, answer, version);
            return;
        }
        try {
            send(ctx, answer, version).onComplete(ar -> encoded.release());
        } catch (RuntimeException | Error e) {
            encoded.release();
            throw e;
        }
    }

    /** The write's outcome: done when the connection has taken the whole body, or at once when nothing is sent. */
    private static io.vertx.core.Future<Void> send(RoutingContext ctx, Encoded answer, long version) {
        EncodedResponse encoded = answer.response();
        HttpServerResponse response = ctx.response();
        if (answer.coding().isPresent()) {
            response.putHeader("Content-Encoding", answer.coding().get().token());
        }
        // Added, not put: a cross-origin answer already varies by Origin (BrowserGuard), and putting Vary here
        // replaced that. Nothing before this sets the other three, and putHeader searched for each to replace it.
        io.vertx.core.MultiMap headers = response.headers();
        headers.add(VARY, ACCEPT_ENCODING);
        if (response.closed() || response.ended()) {
            return io.vertx.core.Future.succeededFuture();
        }
        headers.add(MODEL_VERSION, VersionText.header(version));
        if (encoded.headerLength().isPresent()) {
            headers.add(CONTENT_TYPE, OCTET_STREAM)
                    .add(HEADER_LENGTH, Long.toString(encoded.headerLength().getAsLong()));
        } else {
            headers.add(CONTENT_TYPE, JSON);
        }
        return response.end(encoded.body());
    }


    static void checkContentType(String contentType, boolean binary) {
        if (contentType == null || contentType.equalsIgnoreCase("application/json")) {
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
