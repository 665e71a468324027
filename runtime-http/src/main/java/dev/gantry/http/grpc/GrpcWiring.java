package dev.gantry.http.grpc;

import dev.gantry.core.runtime.ServingRuntime;
import dev.gantry.http.inference.CodecLimits;
import dev.gantry.http.admin.RepositoryActions;
import dev.gantry.http.inference.DeprecationHeaders;
import dev.gantry.http.inference.MetadataHandler;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.WorkerExecutor;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;

/** Builds the gRPC service over the same core, access control and drain state as the HTTP handlers. */
public final class GrpcWiring {
    private GrpcWiring() {
    }

    /** Starts the endpoint on {@code port} unless it is {@link GrpcEndpoint#DISABLED}; logs where it listens. */
    public static io.vertx.core.Future<java.util.Optional<GrpcEndpoint>> start(io.vertx.core.Vertx vertx,
                                                                            GrpcEndpoint.Settings settings, int port,
                                                                            GrpcInferenceService service) {
        if (port == GrpcEndpoint.DISABLED) {
            return io.vertx.core.Future.succeededFuture(java.util.Optional.empty());
        }
        return GrpcEndpoint.start(vertx, settings, port, service)
                .recover(e -> io.vertx.core.Future.failedFuture("gRPC port " + port + ": " + e.getMessage()))
                .map(g -> {
                    org.slf4j.LoggerFactory.getLogger(GrpcWiring.class).info(
                            "gRPC (inference.GRPCInferenceService) listening on {}:{}", settings.host(), g.port());
                    return java.util.Optional.of(g);
                });
    }

    public static GrpcInferenceService service(CodecLimits codec, ServingRuntime core, MetadataHandler metadata,
                                               dev.gantry.http.auth.AccessControl access, BooleanSupplier admitting,
                                               AtomicInteger inflight, AtomicLong lastRequestNanos,
                                               BooleanSupplier ready, MeterRegistry registry, WorkerExecutor workers,
                                               String version, long maxMessageBytes,
                                               dev.gantry.http.inference.BodyMemory bodyMemory) {
        DeprecationHeaders deprecation = new DeprecationHeaders(core.releases());
        return new GrpcInferenceService(new GrpcInferenceService.Dependencies(core.router(), core.repository(),
                metadata, new RepositoryActions(core.repository(), core.deployments()), access,
                new GrpcTensors(codec), workers, admitting, ready, inflight, lastRequestNanos,
                deprecation::headers, core.releases()::lastServed, registry, version, maxMessageBytes, bodyMemory));
    }
}
