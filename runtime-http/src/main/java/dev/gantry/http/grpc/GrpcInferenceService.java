package dev.gantry.http.grpc;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.Parser;
import dev.gantry.core.error.ErrorCode;
import dev.gantry.core.error.GantryException;
import dev.gantry.core.inference.InferenceRequest;
import dev.gantry.core.lifecycle.ModelLifecycle;
import dev.gantry.core.lifecycle.ModelVersionState;
import dev.gantry.core.model.ModelId;
import dev.gantry.core.model.TensorSpec;
import dev.gantry.core.repository.ModelRepositoryManager;
import dev.gantry.core.routing.ModelRouter;
import dev.gantry.http.admin.RepositoryActions;
import dev.gantry.http.auth.AccessControl;
import dev.gantry.http.auth.Caller;
import dev.gantry.http.auth.RouteGroup;
import dev.gantry.http.error.ErrorMapper;
import dev.gantry.http.error.GrpcStatusMapper;
import dev.gantry.http.grpc.proto.InferStatistics;
import dev.gantry.http.grpc.proto.ModelConfigRequest;
import dev.gantry.http.grpc.proto.ModelConfigResponse;
import dev.gantry.http.grpc.proto.ModelInferRequest;
import dev.gantry.http.grpc.proto.ModelInferResponse;
import dev.gantry.http.grpc.proto.ModelMetadataRequest;
import dev.gantry.http.grpc.proto.ModelMetadataResponse;
import dev.gantry.http.grpc.proto.ModelReadyRequest;
import dev.gantry.http.grpc.proto.ModelReadyResponse;
import dev.gantry.http.grpc.proto.ModelStatisticsRequest;
import dev.gantry.http.grpc.proto.ModelStatisticsResponse;
import dev.gantry.http.grpc.proto.ModelStreamInferResponse;
import dev.gantry.http.grpc.proto.RepositoryIndexRequest;
import dev.gantry.http.grpc.proto.RepositoryIndexResponse;
import dev.gantry.http.grpc.proto.RepositoryModelLoadRequest;
import dev.gantry.http.grpc.proto.RepositoryModelLoadResponse;
import dev.gantry.http.grpc.proto.RepositoryModelUnloadRequest;
import dev.gantry.http.grpc.proto.RepositoryModelUnloadResponse;
import dev.gantry.http.grpc.proto.ServerLiveRequest;
import dev.gantry.http.grpc.proto.ServerLiveResponse;
import dev.gantry.http.grpc.proto.ServerMetadataRequest;
import dev.gantry.http.grpc.proto.ServerMetadataResponse;
import dev.gantry.http.grpc.proto.ServerReadyRequest;
import dev.gantry.http.grpc.proto.ServerReadyResponse;
import dev.gantry.http.grpc.proto.StatisticDuration;
import dev.gantry.http.inference.MetadataHandler;
import dev.gantry.http.params.PathParams;
import dev.gantry.core.metrics.ModelStatistics;
import dev.gantry.http.grpc.proto.InferBatchStatistics;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.grpc.common.GrpcMessageDecoder;
import io.vertx.grpc.common.GrpcMessageEncoder;
import io.vertx.grpc.common.InvalidMessageException;
import io.vertx.grpc.common.MessageSizeOverflowException;
import io.vertx.grpc.common.ServiceMethod;
import io.vertx.grpc.common.ServiceName;
import io.vertx.grpc.server.GrpcServer;
import io.vertx.grpc.server.GrpcServerRequest;
import io.vertx.grpc.server.StatusException;

import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.Function;

/**
 * {@code inference.GRPCInferenceService} (KServe v2 / Triton): an adapter over the same core calls as the REST
 * handlers. Routing, batching, limits and validation are the core's and {@link GrpcTensors}' (whose checks are
 * the HTTP codec's); access is {@link AccessControl#decide} with the bearer key from the {@code authorization}
 * metadata; failures are {@link GrpcStatusMapper}'s status with the core's message.
 */
public final class GrpcInferenceService {
    /*
     * Threads. Every call starts on the event loop of its connection. Messages up to OFFLOAD_BYTES are parsed
     * and decoded there (microseconds); larger ones, and large answers, go to the named worker pool, as over
     * HTTP. Inference runs on the model's scheduler threads; its result comes back to the call's context, so a
     * call's state is only ever touched on one thread.
     *
     * Deadlines. A call's grpc-timeout is its request timeout: it bounds the time in the model's queue (a
     * request still queued at the deadline is dropped, never run) and a timer answers DEADLINE_EXCEEDED if the
     * answer is not ready by then.
     *
     * Draining. Once the server drains, every new call except ServerLive and ServerReady (which answer live
     * and not ready, as over HTTP) gets UNAVAILABLE, and so does each further message of an open stream.
     *
     * Streams. ModelStreamInfer admits each message as it arrives (so they batch with each other and with
     * other callers) and writes the answers in the order the requests arrived; a failed request is answered
     * with error_message (and its id) and the stream goes on. At most MAX_STREAM_PENDING requests of one stream
     * are outstanding; the stream is paused above that.
     */
    public static final ServiceName SERVICE = ServiceName.create("inference", "GRPCInferenceService");
    /** The metadata key carrying the sticky-routing key, as the Gantry-Route-Key header does over HTTP. */
    public static final String ROUTE_KEY_METADATA = "gantry-route-key";
    /** The extensions served over gRPC, as ServerMetadata lists them. */
    public static final List<String> EXTENSIONS = List.of("model_repository", "model_configuration", "statistics");
    static final int OFFLOAD_BYTES = 256 * 1024;
    static final int MAX_STREAM_PENDING = 64;
    /**
     * What an inference message holds in the body memory budget per byte: while it waits in a queue, the parsed
     * request (protobuf copies the message's bytes) and the tensors decoded from it, about twice the message.
     */
    static final long HELD_PER_BYTE = 2;
    /** The unary method whose message is held in the body memory budget. */
    private static final String CHARGED = "ModelInfer";

    /** What the service calls; built once by the server. */
    public record Dependencies(ModelRouter router, ModelRepositoryManager repository, MetadataHandler metadata,
                               RepositoryActions repositoryActions, AccessControl access, GrpcTensors tensors,
                               WorkerExecutor workers, BooleanSupplier admitting, BooleanSupplier ready,
                               AtomicInteger inflight, AtomicLong lastRequestNanos,
                               Function<ModelId, Map<String, String>> servedBy,
                               Function<ModelId, Optional<Instant>> lastServed, MeterRegistry registry,
                               String serverVersion, long maxMessageBytes,
                               dev.gantry.http.inference.BodyMemory bodyMemory) {
    }

    private final Dependencies d;
    private final ModelLifecycle lifecycle;

    public GrpcInferenceService(Dependencies dependencies) {
        this.d = dependencies;
        this.lifecycle = dependencies.repository().lifecycle();
    }

    /** Registers every method of the service on {@code server}. */
    public void bind(GrpcServer server) {
        unary(server, "ServerLive", ServerLiveRequest.parser(), RouteGroup.HEALTH, r -> null, false,
                (r, call) -> Future.succeededFuture(ServerLiveResponse.newBuilder().setLive(true).build()));
        unary(server, "ServerReady", ServerReadyRequest.parser(), RouteGroup.HEALTH, r -> null, false,
                (r, call) -> Future.succeededFuture(ServerReadyResponse.newBuilder()
                        .setReady(d.ready().getAsBoolean()).build()));
        unary(server, "ServerMetadata", ServerMetadataRequest.parser(), RouteGroup.HEALTH, r -> null, true,
                (r, call) -> Future.succeededFuture(ServerMetadataResponse.newBuilder().setName("gantry")
                        .setVersion(d.serverVersion()).addAllExtensions(EXTENSIONS).build()));
        unary(server, "ModelReady", ModelReadyRequest.parser(), RouteGroup.METADATA, ModelReadyRequest::getName,
                true, (r, call) -> Future.succeededFuture(ModelReadyResponse.newBuilder()
                        .setReady(d.metadata().isReady(model(r.getName()), version(r.getVersion()))).build()));
        unary(server, "ModelMetadata", ModelMetadataRequest.parser(), RouteGroup.METADATA,
                ModelMetadataRequest::getName, true, (r, call) -> Future.succeededFuture(metadata(r)));
        unary(server, "ModelConfig", ModelConfigRequest.parser(), RouteGroup.METADATA, ModelConfigRequest::getName,
                true, (r, call) -> Future.succeededFuture(config(r)));
        unary(server, "ModelStatistics", ModelStatisticsRequest.parser(), RouteGroup.METADATA,
                r -> r.getName().isEmpty() ? null : r.getName(), true, this::statistics);
        unary(server, "ModelInfer", ModelInferRequest.parser(), RouteGroup.INFERENCE,
                ModelInferRequest::getModelName, true, (r, call) -> infer(r, call, true));
        unary(server, "RepositoryIndex", RepositoryIndexRequest.parser(), RouteGroup.ADMIN_READ, r -> null, true,
                (r, call) -> Future.succeededFuture(index(r, call.caller)));
        unary(server, "RepositoryModelLoad", RepositoryModelLoadRequest.parser(), RouteGroup.DEPLOY,
                r -> null, true, (r, call) -> {
                    String model = model(r.getModelName());
                    java.util.Map<String, String> parameters = new java.util.LinkedHashMap<>();
                    r.getParametersMap().forEach((k, v) -> parameters.put(k, v.hasStringParam() ? v.getStringParam()
                            : v.toString()));
                    return blocking(call, () -> d.repositoryActions().load(model, call.caller, parameters))
                            .map(v -> RepositoryModelLoadResponse.getDefaultInstance());
                });
        unary(server, "RepositoryModelUnload", RepositoryModelUnloadRequest.parser(), RouteGroup.DEPLOY,
                r -> null, true, (r, call) -> {
                    String model = model(r.getModelName());
                    refuseParameters("RepositoryModelUnload", r.getParametersMap().keySet());
                    return blocking(call, () -> d.repositoryActions().unload(model, call.caller))
                            .map(v -> RepositoryModelUnloadResponse.getDefaultInstance());
                });
        server.callHandler(ServiceMethod.server(SERVICE, "ModelStreamInfer",
                GrpcMessageEncoder.<ModelStreamInferResponse>encoder(), GrpcMessageDecoder.IDENTITY), this::stream);
    }

    // ---- one unary call ----

    /** The body of one RPC: from the parsed request to its answer. */
    @FunctionalInterface
    private interface Body<Q, A> {
        Future<A> apply(Q request, Call call) throws GantryException;
    }

    /** The state of one call, touched only on its context. */
    private final class Call {
        final GrpcServerRequest<Buffer, ?> request;
        final Context context;
        /** System.nanoTime() of the call's deadline, or 0 without one. */
        final long deadlineNanos;
        Caller caller = Caller.ANONYMOUS;

        Call(GrpcServerRequest<Buffer, ?> request, Context context) {
            this.request = request;
            this.context = context;
            long timeout = request.timeout();
            this.deadlineNanos = timeout > 0 ? System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeout) : 0;
        }

        String authorization() {
            return request.headers().get("authorization");
        }

        /** Adds response metadata (before the answer is written). */
        void header(String name, String value) {
            request.response().headers().set(name.toLowerCase(Locale.ROOT), value);
        }
    }

    private <Q extends Message, A extends Message> void unary(GrpcServer server, String method, Parser<Q> parser,
                                                              RouteGroup group, Function<Q, String> modelOf,
                                                              boolean refuseWhileDraining, Body<Q, A> body) {
        ServiceMethod<Buffer, A> m = ServiceMethod.server(SERVICE, method, GrpcMessageEncoder.encoder(),
                GrpcMessageDecoder.IDENTITY);
        server.callHandler(m, request -> {
            Call call = new Call(request, Vertx.currentContext());
            d.lastRequestNanos().set(System.nanoTime());
            boolean[] answered = new boolean[1];
            long timer = call.deadlineNanos == 0 ? -1 : call.context.owner().setTimer(
                    Math.max(1, request.timeout()), id -> {
                        if (!answered[0]) {
                            answered[0] = true;
                            fail(request, new GantryException(ErrorCode.DEADLINE_EXCEEDED, "the call's deadline ("
                                    + request.timeout() + " ms) passed before its answer was ready"));
                        }
                    });
            Buffer[] message = new Buffer[1];
            int[] messages = new int[1];
            Promise<Buffer> received = Promise.promise();
            // An inference's message is held in the server's body memory budget, as an HTTP body is, until the
            // model has answered (even when the deadline answered first). Other methods' messages are small and
            // not charged, so health and metadata calls are never refused for the budget.
            dev.gantry.http.inference.BodyMemory.Lease held = CHARGED.equals(method) ? d.bodyMemory().lease() : null;
            request.handler(each -> {
                if (messages[0]++ == 0) {
                    message[0] = each;
                    if (held != null && !held.grow(HELD_PER_BYTE * each.length())) {
                        message[0] = null;
                        received.tryFail(held.refused());
                    }
                }
            });
            // Answered as soon as the length prefix arrives (the rest of the message is skipped, never buffered),
            // after the caller's key: the limit is told only to a caller who may use the method.
            request.invalidMessageHandler(invalid -> {
                AccessControl.Decision caller = d.access().decide(group, call.authorization(), null);
                received.tryFail(caller.failure() != null ? caller.failure() : invalidMessage(invalid));
            });
            request.exceptionHandler(received::tryFail);
            request.endHandler(v -> {
                if (messages[0] == 1) {
                    received.tryComplete(message[0]);
                } else {
                    received.tryFail(GantryException.invalid(method + " is a unary call: it takes one request"
                            + " message, this call sent " + messages[0]));
                }
            });
            received.future().compose(bytes -> {
                Q parsed = parse(parser, bytes, method);
                if (refuseWhileDraining && !d.admitting().getAsBoolean()) {
                    throw draining();
                }
                call.caller = authorize(group, call.authorization(), modelOf.apply(parsed));
                return body.apply(parsed, call);
            }).onComplete(ar -> {
                if (held != null) {
                    held.close();
                }
                if (answered[0]) {
                    return;
                }
                answered[0] = true;
                if (timer >= 0) {
                    call.context.owner().cancelTimer(timer);
                }
                if (ar.succeeded()) {
                    try {
                        request.response().end(ar.result());
                    } catch (RuntimeException e) {
                        // the client went away: nothing to answer
                    }
                } else {
                    fail(request, ar.cause());
                }
            });
        });
    }

    /** A message the transport refused: over --max-body-bytes (its length prefix says so), or unreadable. */
    private GantryException invalidMessage(InvalidMessageException invalid) {
        if (invalid instanceof MessageSizeOverflowException over) {
            return new GantryException(ErrorCode.PAYLOAD_TOO_LARGE, "a message of " + over.messageSize()
                    + " bytes is over the largest this server accepts, " + d.maxMessageBytes()
                    + " bytes (--max-body-bytes)");
        }
        return GantryException.invalid("the call's message could not be read: " + invalid.getMessage());
    }

    private static void fail(GrpcServerRequest<?, ?> request, Throwable failure) {
        StatusException s = GrpcStatusMapper.toStatus(failure);
        try {
            request.response().status(s.status()).statusMessage(s.message()).end();
        } catch (RuntimeException e) {
            // the client went away: nothing to answer
        }
    }

    private static <Q> Q parse(Parser<Q> parser, Buffer message, String method) {
        try {
            return parser.parseFrom(message.getBytes());
        } catch (InvalidProtocolBufferException e) {
            throw GantryException.invalid(method + " request is not a valid protobuf message: " + e.getMessage());
        }
    }

    private Caller authorize(RouteGroup group, String authorization, String model) {
        AccessControl.Decision decision = d.access().decide(group, authorization, model);
        if (decision.failure() != null) {
            throw decision.failure();
        }
        return decision.caller();
    }

    private static GantryException draining() {
        return new GantryException(ErrorCode.UNAVAILABLE, "server is shutting down and admits no new requests");
    }

    private static String model(String name) {
        if (name.isEmpty()) {
            throw GantryException.invalid("model name is empty");
        }
        return name;
    }

    private static OptionalLong version(String version) {
        return PathParams.version(version.isEmpty() ? null : version);
    }

    private static void refuseParameters(String method, java.util.Set<String> names) {
        if (!names.isEmpty()) {
            throw GantryException.invalid(method + " parameters are not supported over gRPC; got "
                    + names.stream().sorted().toList() + ". Change the repository's config.pbtxt instead");
        }
    }

    /** Runs {@code work} on the named worker pool and completes on the call's context. */
    private <T> Future<T> blocking(Call call, Callable<java.util.concurrent.CompletableFuture<T>> work) {
        return d.workers().executeBlocking(work, /* ordered= */ false)
                .compose(cf -> Future.fromCompletionStage(cf, call.context));
    }

    // ---- inference ----

    /**
     * One inference, unary or one message of a stream: decode, route and run through the core, encode.
     *
     * @param headers whether to put the serving version (and its deprecation) in the call's response metadata
     */
    private Future<ModelInferResponse> infer(ModelInferRequest r, Call call, boolean headers) {
        String model = model(r.getModelName());
        OptionalLong version = version(r.getModelVersion());
        d.inflight().incrementAndGet();
        Future<ModelInferResponse> answer = offload(r.getSerializedSize(), () -> d.tensors().decode(r))
                .compose(decoded -> {
                    InferenceRequest request = withDeadline(decoded.request(), call.deadlineNanos);
                    String header = call.request.headers().get(ROUTE_KEY_METADATA);
                    Optional<String> key = header != null && !header.isBlank() ? Optional.of(header)
                            : decoded.routingKey();
                    return Future.fromCompletionStage(d.router().infer(model, version, key, request,
                                    call.caller.pinnedAccess(), dev.gantry.core.inference.RequestContext.untraced()),
                                    call.context)
                            .compose(routed -> {
                                ModelId served = routed.response().model();
                                Map<String, String> extra = d.servedBy().apply(served);
                                if (headers) {
                                    call.header("gantry-model-version", Long.toString(served.version()));
                                    extra.forEach(call::header);
                                }
                                long bytes = routed.response().outputs().stream().mapToLong(t -> t.byteSize()).sum();
                                return offload(bytes * 4, () -> d.tensors().encode(routed.response(),
                                        decoded.rawOutputs()));
                            });
                });
        return answer.andThen(ar -> d.inflight().decrementAndGet());
    }

    /** Runs small work here and large work (by the size it handles) on the worker pool. */
    private <T> Future<T> offload(long bytes, Callable<T> work) {
        if (bytes <= OFFLOAD_BYTES) {
            try {
                return Future.succeededFuture(work.call());
            } catch (Exception e) {
                return Future.failedFuture(e);
            }
        }
        return d.workers().executeBlocking(work, /* ordered= */ false);
    }

    /** The request with its queue timeout bounded by the call's deadline. */
    private static InferenceRequest withDeadline(InferenceRequest request, long deadlineNanos) {
        if (deadlineNanos == 0) {
            return request;
        }
        long remainingMicros = TimeUnit.NANOSECONDS.toMicros(deadlineNanos - System.nanoTime());
        if (remainingMicros <= 0) {
            throw new GantryException(ErrorCode.DEADLINE_EXCEEDED, "the call's deadline passed before the request"
                    + " was admitted");
        }
        long timeout = Math.min(request.timeoutMicros().orElse(Long.MAX_VALUE), remainingMicros);
        return new InferenceRequest(request.id(), request.inputs(), request.requestedOutputs(),
                Optional.of(Math.max(1, timeout)), request.parameters());
    }

    private void stream(GrpcServerRequest<Buffer, ModelStreamInferResponse> request) {
        Call call = new Call(request, Vertx.currentContext());
        d.lastRequestNanos().set(System.nanoTime());
        try {
            if (!d.admitting().getAsBoolean()) {
                throw draining();
            }
            call.caller = authorize(RouteGroup.INFERENCE, call.authorization(), null);
        } catch (GantryException e) {
            fail(request, e);
            return;
        }
        StreamState state = new StreamState(request, call);
        request.handler(state::onMessage);
        request.invalidMessageHandler(invalid -> state.refuse(invalidMessage(invalid)));
        request.endHandler(v -> state.onEnd());
        request.exceptionHandler(e -> state.closed = true);
        if (call.deadlineNanos != 0) {
            call.context.owner().setTimer(Math.max(1, request.timeout()), id -> state.expire());
        }
    }

    /** One ModelStreamInfer call: answers written in arrival order, each after its predecessor's. */
    private final class StreamState {
        final GrpcServerRequest<Buffer, ModelStreamInferResponse> request;
        final Call call;
        Future<Void> tail = Future.succeededFuture();
        int pending;
        boolean closed;
        /** A message was refused: later ones are not answered, and the call ends after the earlier answers. */
        boolean refused;

        StreamState(GrpcServerRequest<Buffer, ModelStreamInferResponse> request, Call call) {
            this.request = request;
            this.call = call;
        }

        void onMessage(Buffer message) {
            if (closed || refused) {
                return;
            }
            if (++pending >= MAX_STREAM_PENDING) {
                request.pause();
            }
            Future<ModelStreamInferResponse> answer = answer(message);
            tail = tail.transform(v -> answer.compose(response -> {
                if (closed) {
                    return Future.succeededFuture();
                }
                if (--pending < MAX_STREAM_PENDING) {
                    request.resume();
                }
                try {
                    return request.response().write(response).otherwiseEmpty();
                } catch (RuntimeException e) {
                    closed = true;
                    return Future.succeededFuture();
                }
            }));
        }

        /**
         * The answer to one message; never a failed future: a failure is the message's error_message. The message
         * is held in the server's body memory budget until its inference is done.
         */
        Future<ModelStreamInferResponse> answer(Buffer message) {
            dev.gantry.http.inference.BodyMemory.Lease held = d.bodyMemory().lease();
            if (!held.grow(HELD_PER_BYTE * message.length())) {
                return Future.succeededFuture(error(ModelInferRequest.getDefaultInstance(), held.refused()));
            }
            ModelInferRequest parsed;
            try {
                parsed = parse(ModelInferRequest.parser(), message, "ModelStreamInfer");
            } catch (GantryException e) {
                held.close();
                return Future.succeededFuture(error(ModelInferRequest.getDefaultInstance(), e));
            }
            Future<ModelInferResponse> inferred;
            try {
                if (!d.admitting().getAsBoolean()) {
                    throw draining();
                }
                authorize(RouteGroup.INFERENCE, call.authorization(), parsed.getModelName());
                inferred = infer(parsed, call, /* headers= */ false);
            } catch (RuntimeException e) {
                inferred = Future.failedFuture(e);
            }
            inferred = inferred.andThen(ar -> held.close());
            return inferred.transform(ar -> Future.succeededFuture(ar.succeeded()
                    ? ModelStreamInferResponse.newBuilder().setInferResponse(ar.result()).build()
                    : error(parsed, ar.cause())));
        }

        ModelStreamInferResponse error(ModelInferRequest r, Throwable failure) {
            GantryException e = ErrorMapper.toGantry(failure);
            return ModelStreamInferResponse.newBuilder().setErrorMessage(e.getMessage())
                    .setInferResponse(ModelInferResponse.newBuilder().setModelName(r.getModelName())
                            .setModelVersion(r.getModelVersion()).setId(r.getId()))
                    .build();
        }

        void onEnd() {
            tail.onComplete(ar -> {
                if (!closed) {
                    closed = true;
                    try {
                        request.response().end();
                    } catch (RuntimeException e) {
                        // the client went away
                    }
                }
            });
        }

        /** Ends the call with {@code failure} once the answers to the messages before are written. */
        void refuse(GantryException failure) {
            if (refused) {
                return;
            }
            refused = true;
            tail.onComplete(ar -> {
                if (!closed) {
                    closed = true;
                    fail(request, failure);
                }
            });
        }

        void expire() {
            if (!closed) {
                closed = true;
                fail(request, new GantryException(ErrorCode.DEADLINE_EXCEEDED, "the stream's deadline ("
                        + request.timeout() + " ms) passed"));
            }
        }
    }

    // ---- metadata, configuration, statistics, repository ----

    private ModelMetadataResponse metadata(ModelMetadataRequest r) {
        String model = model(r.getName());
        Optional<ModelVersionState> shown = d.metadata().describedVersion(model, version(r.getVersion()));
        ModelMetadataResponse.Builder b = ModelMetadataResponse.newBuilder().setName(model)
                .setPlatform(ModelConfigs.PLATFORM);
        lifecycle.versions(model).forEach(v -> b.addVersions(Long.toString(v.id().version())));
        shown.flatMap(ModelVersionState::signature).ifPresent(s -> {
            s.inputs().forEach(t -> b.addInputs(tensor(t)));
            s.outputs().forEach(t -> b.addOutputs(tensor(t)));
        });
        return b.build();
    }

    private static ModelMetadataResponse.TensorMetadata tensor(TensorSpec t) {
        ModelMetadataResponse.TensorMetadata.Builder b = ModelMetadataResponse.TensorMetadata.newBuilder()
                .setName(t.name()).setDatatype(t.datatypeName());
        for (long dim : t.shape()) {
            b.addShape(dim);
        }
        return b.build();
    }

    private ModelConfigResponse config(ModelConfigRequest r) {
        String model = model(r.getName());
        ModelVersionState shown = d.metadata().describedVersion(model, version(r.getVersion()))
                .orElseThrow(() -> GantryException.unavailable("model '" + model + "' has no version loaded"));
        return ModelConfigResponse.newBuilder()
                .setConfig(ModelConfigs.of(model, shown, d.repository().model(model))).build();
    }

    private Future<ModelStatisticsResponse> statistics(ModelStatisticsRequest r, Call call) {
        List<ModelVersionState> versions;
        if (r.getName().isEmpty()) {
            if (!r.getVersion().isEmpty()) {
                throw GantryException.invalid("a version needs a model name");
            }
            versions = lifecycle.snapshot().values().stream()
                    .filter(v -> call.caller.key().map(k -> k.models().isEmpty()
                            || k.models().contains(v.id().name()) || !onlyInvoke(k)).orElse(true))
                    .sorted(java.util.Comparator.comparing((ModelVersionState v) -> v.id().name())
                            .thenComparingLong(v -> v.id().version()))
                    .toList();
        } else {
            d.metadata().describedVersion(r.getName(), version(r.getVersion()));
            OptionalLong only = version(r.getVersion());
            versions = lifecycle.versions(r.getName()).stream()
                    .filter(v -> only.isEmpty() || v.id().version() == only.getAsLong()).toList();
        }
        ModelStatisticsResponse.Builder b = ModelStatisticsResponse.newBuilder();
        for (ModelVersionState v : versions) {
            Optional<ModelStatistics> read = lifecycle.statistics(v.id());
            if (read.isEmpty()) {
                if (!r.getVersion().isEmpty()) {
                    throw GantryException.unavailable("model '" + v.id().name() + "' version " + v.id().version()
                            + " is not loaded (" + v.state() + ")");
                }
                continue;
            }
            ModelStatistics s = read.get();
            dev.gantry.http.grpc.proto.ModelStatistics.Builder m = b.addModelStatsBuilder()
                    .setName(v.id().name())
                    .setVersion(Long.toString(v.id().version()))
                    .setLastInference(s.lastInferenceMillis())
                    .setInferenceCount(s.inferenceCount())
                    .setExecutionCount(s.executionCount())
                    .setInferenceStats(InferStatistics.newBuilder()
                            .setSuccess(duration(s.success()))
                            .setFail(duration(s.fail()))
                            .setQueue(duration(s.queue()))
                            .setComputeInput(duration(s.computeInput()))
                            .setComputeInfer(duration(s.computeInfer()))
                            .setComputeOutput(duration(s.computeOutput()))
                            .setCacheHit(duration(ModelStatistics.Duration.ZERO))
                            .setCacheMiss(duration(ModelStatistics.Duration.ZERO)));
            for (ModelStatistics.BatchSize batch : s.batches()) {
                m.addBatchStats(InferBatchStatistics.newBuilder()
                        .setBatchSize(batch.batchSize())
                        .setComputeInput(duration(batch.computeInput()))
                        .setComputeInfer(duration(batch.computeInfer()))
                        .setComputeOutput(duration(batch.computeOutput())));
            }
        }
        return Future.succeededFuture(b.build());
    }

    private static boolean onlyInvoke(dev.gantry.http.auth.ApiKey key) {
        return key.roles().stream().allMatch(role -> role == dev.gantry.core.access.Role.INVOKE);
    }

    private static StatisticDuration duration(ModelStatistics.Duration d) {
        return StatisticDuration.newBuilder().setCount(d.count()).setNs(d.ns()).build();
    }

    private RepositoryIndexResponse index(RepositoryIndexRequest r, Caller caller) {
        RepositoryIndexResponse.Builder b = RepositoryIndexResponse.newBuilder();
        for (RepositoryActions.IndexEntry e : d.repositoryActions().index(caller)) {
            if (r.getReady() && !e.state().equals("READY")) {
                continue;
            }
            RepositoryIndexResponse.ModelIndex.Builder m = b.addModelsBuilder().setName(e.name()).setState(e.state());
            e.version().ifPresent(v -> m.setVersion(Long.toString(v)));
            e.reason().ifPresent(m::setReason);
        }
        return b.build();
    }
}
