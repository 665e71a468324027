package dev.gantry.http;

import dev.gantry.core.engine.ExecutionSettings;
import dev.gantry.core.lifecycle.LifecycleSettings;
import dev.gantry.http.inference.CodecLimits;
import dev.gantry.http.tracing.Observability;
import dev.gantry.store.catalog.CatalogLocation;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Everything the server is started with, validated once by {@link ServerConfigParser}.
 *
 * @param host address to bind
 * @param port port to bind; 0 picks a free one
 * @param modelsDir the model repository
 * @param dataDir where the server keeps its state (keys, deployments)
 * @param eventLoops Vert.x event loops (one HTTP verticle instance each)
 * @param workerThreads threads of the named worker pool for blocking work (metrics scrape, large bodies)
 * @param execution ORT threading defaults for models that do not set their own
 * @param batching false turns dynamic batching off for every model
 * @param defaultQueueSize queue bound for models that do not set max_queue_size
 * @param drainTimeout how long shutdown and unloads wait for admitted requests
 * @param standbyCount previous primary versions kept loaded per model for instant rollback
 * @param shadowQueueSize shadow requests that may wait; more are dropped (and counted)
 * @param limits request size and time limits
 * @param security keys, TLS, access log, rate limits
 * @param crossSite what web pages of other origins may do
 * @param observability traces and usage accounting
 * @param grpcPort port of the KServe v2 / Triton gRPC endpoint; 0 picks a free one, -1 turns it off
 * @param strictModelConfig no config auto-completion: a model directory without a config keeps Triton's defaults
 * @param faults how native faults in models are contained
 * @param fallback retry a failed unversioned request once on a fallback version, with circuit breakers
 * @param sharedArtifacts the S3 bucket uploaded artifacts are kept in, shared by replicas ({@code modelsDir} is then
 *     this replica's cache); empty: the models directory alone
 */
public record ServerConfig(String host, int port, Path modelsDir, Path dataDir, int eventLoops, int workerThreads,
                           ExecutionSettings execution, boolean batching, int defaultQueueSize, Duration drainTimeout,
                           int standbyCount, int shadowQueueSize, Limits limits, Security security,
                           CrossSite crossSite, Observability observability, int grpcPort, boolean strictModelConfig, Faults faults, boolean fallback,
                           Optional<dev.gantry.store.artifact.S3Settings> sharedArtifacts,
                           dev.gantry.http.sizing.NetworkTransport transport) {
    /** A configuration on the transport {@code auto} gives on this machine. */
    public ServerConfig(String host, int port, Path modelsDir, Path dataDir, int eventLoops, int workerThreads,
                        ExecutionSettings execution, boolean batching, int defaultQueueSize, Duration drainTimeout,
                        int standbyCount, int shadowQueueSize, Limits limits, Security security,
                        CrossSite crossSite, Observability observability, int grpcPort, boolean strictModelConfig,
                        Faults faults, boolean fallback,
                        Optional<dev.gantry.store.artifact.S3Settings> sharedArtifacts) {
        this(host, port, modelsDir, dataDir, eventLoops, workerThreads, execution, batching, defaultQueueSize,
                drainTimeout, standbyCount, shadowQueueSize, limits, security, crossSite, observability, grpcPort,
                strictModelConfig, faults, fallback, sharedArtifacts, dev.gantry.http.sizing.NetworkTransport.derived());
    }

    public ServerConfig {
        Objects.requireNonNull(transport, "transport");
        Objects.requireNonNull(sharedArtifacts, "sharedArtifacts");
        Objects.requireNonNull(crossSite, "crossSite");
        Objects.requireNonNull(observability, "observability");
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(modelsDir, "modelsDir");
        Objects.requireNonNull(dataDir, "dataDir");
        Objects.requireNonNull(limits, "limits");
        Objects.requireNonNull(security, "security");
    }

    /**
     * Request limits.
     *
     * @param maxBodyBytes largest request body accepted; larger gets 413
     * @param codec element-count and nesting limits for inference requests
     * @param maxHeaderBytes largest request head (line and headers); larger gets 431
     * @param headerTimeout a connection must deliver a complete request head within this long of opening or of
     *     its previous response, else it is closed (slow clients, idle keep-alive)
     * @param bodyTimeout a request body must arrive in full within this long, else 408 and the connection closes
     * @param requestTimeout a request admitted for inference is answered within this long: it is the queue
     *     timeout when neither the request nor the model sets one, and the limit on one execution
     * @param idleTimeout a connection with no traffic at all for this long is closed
     * @param uploads artifact uploads: how many at once (503 above), how long one may stall (408), how much disk
     *     stays free (507)
     */
    public record Limits(long maxBodyBytes, CodecLimits codec, int maxHeaderBytes, Duration headerTimeout,
                         Duration bodyTimeout, Duration requestTimeout, Duration idleTimeout,
                         dev.gantry.store.artifact.UploadLimits uploads, long maxBodyMemory) {
        /**
         * The largest --max-body-bytes: a body is held in one heap array (and decompressed into one), and no JVM
         * allocates an array longer than this. Above it the buffer's length would overflow an int.
         */
        public static final long MAX_BODY_BYTES = Integer.MAX_VALUE - 8;

        public Limits(long maxBodyBytes, CodecLimits codec, int maxHeaderBytes, Duration headerTimeout,
                      Duration bodyTimeout, Duration requestTimeout, Duration idleTimeout) {
            this(maxBodyBytes, codec, maxHeaderBytes, headerTimeout, bodyTimeout, requestTimeout, idleTimeout,
                    dev.gantry.store.artifact.UploadLimits.defaults());
        }

        /** Limits whose body memory budget is derived from the heap (--max-body-memory 0). */
        public Limits(long maxBodyBytes, CodecLimits codec, int maxHeaderBytes, Duration headerTimeout,
                      Duration bodyTimeout, Duration requestTimeout, Duration idleTimeout,
                      dev.gantry.store.artifact.UploadLimits uploads) {
            this(maxBodyBytes, codec, maxHeaderBytes, headerTimeout, bodyTimeout, requestTimeout, idleTimeout,
                    uploads, 0);
        }

        /** The body memory budget: {@code maxBodyMemory}, or a third of the heap when it is 0. */
        public dev.gantry.http.inference.BodyMemory bodyMemory() {
            return maxBodyMemory > 0 ? new dev.gantry.http.inference.BodyMemory(maxBodyMemory)
                    : dev.gantry.http.inference.BodyMemory.ofHeap();
        }

        public Limits withMaxBodyMemory(long n) {
            return new Limits(maxBodyBytes, codec, maxHeaderBytes, headerTimeout, bodyTimeout, requestTimeout,
                    idleTimeout, uploads, n);
        }

        public static Limits defaults() {
            return new Limits(64L << 20, CodecLimits.defaults(), 16 * 1024, Duration.ofSeconds(10),
                    Duration.ofSeconds(30), Duration.ofSeconds(60), Duration.ofSeconds(60));
        }

        public Limits withMaxBodyBytes(long n) {
            return new Limits(n, codec, maxHeaderBytes, headerTimeout, bodyTimeout, requestTimeout, idleTimeout,
                    uploads, maxBodyMemory);
        }

        public Limits withTimeouts(Duration header, Duration body, Duration request) {
            return new Limits(maxBodyBytes, codec, maxHeaderBytes, header, body, request, idleTimeout, uploads,
                    maxBodyMemory);
        }

        public Limits withUploads(dev.gantry.store.artifact.UploadLimits u) {
            return new Limits(maxBodyBytes, codec, maxHeaderBytes, headerTimeout, bodyTimeout, requestTimeout,
                    idleTimeout, u, maxBodyMemory);
        }
    }

    /**
     * Who may connect and how.
     *
     * @param insecure allow a non-loopback address with no API keys
     * @param openHealth health and readiness need no key
     * @param openMetrics /metrics needs no key; empty means open on loopback only
     * @param accessLog "stdout", "off" or a file path
     * @param tlsCert PEM certificate (chain) for HTTPS
     * @param tlsKey PEM private key for HTTPS
     * @param adminPort when set, /admin routes are served on this port only
     * @param rateLimit requests per second per key by default; 0 for none
     * @param rateBurst how many requests a key may send at once above its rate
     * @param auditKeyFile the HMAC key of the audit chain; empty for {@code <data>/audit.key}
     * @param catalog the catalogue database: embedded H2 under the data directory, or a shared PostgreSQL (with
     *     its credentials, which is why it is here)
     */
    public record Security(boolean insecure, boolean openHealth, Optional<Boolean> openMetrics, String accessLog,
                           Optional<Path> tlsCert, Optional<Path> tlsKey, OptionalInt adminPort, double rateLimit,
                           double rateBurst, Optional<Path> auditKeyFile, CatalogLocation catalog) {
        public Security(boolean insecure, boolean openHealth, Optional<Boolean> openMetrics, String accessLog,
                        Optional<Path> tlsCert, Optional<Path> tlsKey, OptionalInt adminPort, double rateLimit,
                        double rateBurst) {
            this(insecure, openHealth, openMetrics, accessLog, tlsCert, tlsKey, adminPort, rateLimit, rateBurst,
                    Optional.empty(), CatalogLocation.embedded());
        }

        public Security {
            Objects.requireNonNull(auditKeyFile, "auditKeyFile");
            Objects.requireNonNull(catalog, "catalog");
        }

        public Security withAuditKeyFile(Path file) {
            return new Security(insecure, openHealth, openMetrics, accessLog, tlsCert, tlsKey, adminPort, rateLimit,
                    rateBurst, Optional.of(file), catalog);
        }

        public Security withCatalog(CatalogLocation location) {
            return new Security(insecure, openHealth, openMetrics, accessLog, tlsCert, tlsKey, adminPort, rateLimit,
                    rateBurst, auditKeyFile, location);
        }

        public static Security defaults() {
            return new Security(false, true, Optional.empty(), "off", Optional.empty(), Optional.empty(),
                    OptionalInt.empty(), 0, 50);
        }

        public Security withAccessLog(String destination) {
            return new Security(insecure, openHealth, openMetrics, destination, tlsCert, tlsKey, adminPort, rateLimit,
                    rateBurst, auditKeyFile, catalog);
        }

        public Security withTls(Path cert, Path key) {
            return new Security(insecure, openHealth, openMetrics, accessLog, Optional.of(cert), Optional.of(key),
                    adminPort, rateLimit, rateBurst, auditKeyFile, catalog);
        }

        public Security withAdminPort(int port) {
            return new Security(insecure, openHealth, openMetrics, accessLog, tlsCert, tlsKey, OptionalInt.of(port),
                    rateLimit, rateBurst, auditKeyFile, catalog);
        }

        public Security withRateLimit(double rate, double burst) {
            return new Security(insecure, openHealth, openMetrics, accessLog, tlsCert, tlsKey, adminPort, rate, burst,
                    auditKeyFile, catalog);
        }

        public Security withOpenMetrics(boolean open) {
            return new Security(insecure, openHealth, Optional.of(open), accessLog, tlsCert, tlsKey, adminPort,
                    rateLimit, rateBurst, auditKeyFile, catalog);
        }
    }

    /**
     * What browsers may do: web pages of {@code allowedOrigins} may send requests that change state (everything
     * cross-site else gets 403, preflights included), and a server without keys answers only requests whose
     * {@code Host} is a loopback name or one of {@code allowedHosts} (against DNS rebinding).
     *
     * @param allowedOrigins origins like {@code https://app.example.com:8443}; empty: none
     * @param allowedHosts host names, with or without a port, besides the loopback names
     */
    public record CrossSite(java.util.List<String> allowedOrigins, java.util.List<String> allowedHosts) {
        public CrossSite {
            allowedOrigins = java.util.List.copyOf(allowedOrigins);
            allowedHosts = java.util.List.copyOf(allowedHosts);
        }

        public static CrossSite defaults() {
            return new CrossSite(java.util.List.of(), java.util.List.of());
        }
    }

    public ServerConfig withObservability(Observability o) {
        return new ServerConfig(host, port, modelsDir, dataDir, eventLoops, workerThreads, execution, batching,
                defaultQueueSize, drainTimeout, standbyCount, shadowQueueSize, limits, security, crossSite, o, grpcPort, strictModelConfig, faults, fallback, sharedArtifacts, transport);
    }

    /**
     * Fault containment.
     *
     * @param sandbox run each ONNX artifact's first execution in a sandbox process (on unless turned off)
     * @param sandboxVerdicts where the sandbox remembers its verdicts; empty for {@code <data>/sandbox}
     */
    public record Faults(boolean sandbox, Optional<Path> sandboxVerdicts) {
        public static Faults defaults() {
            return new Faults(true, Optional.empty());
        }
    }

    public static ServerConfig defaults() {
        return new ServerConfig("127.0.0.1", 8080, Path.of("models"), Path.of("data"), 1, 2,
                ExecutionSettings.cpuDefaults(), true, 1024, Duration.ofSeconds(30), 1, 256, Limits.defaults(),
                Security.defaults(), CrossSite.defaults(), Observability.defaults(), 8001, false, Faults.defaults(), false, Optional.empty());
    }

    /** The same configuration with the gRPC endpoint on {@code p} (0: a free one; -1: off). */
    public ServerConfig withGrpcPort(int p) {
        return new ServerConfig(host, port, modelsDir, dataDir, eventLoops, workerThreads, execution, batching,
                defaultQueueSize, drainTimeout, standbyCount, shadowQueueSize, limits, security, crossSite, observability,
                p, strictModelConfig, faults, fallback, sharedArtifacts, transport);
    }

    public ServerConfig withStrictModelConfig(boolean v) {
        return new ServerConfig(host, this.port, modelsDir, dataDir, eventLoops, workerThreads, execution, batching, defaultQueueSize, drainTimeout, standbyCount, shadowQueueSize, limits, security, crossSite, observability, grpcPort, v, faults, fallback, sharedArtifacts, transport);
    }

    public ServerConfig withFaults(Faults v) {
        return new ServerConfig(host, this.port, modelsDir, dataDir, eventLoops, workerThreads, execution, batching, defaultQueueSize, drainTimeout, standbyCount, shadowQueueSize, limits, security, crossSite, observability, grpcPort, strictModelConfig, v, fallback, sharedArtifacts, transport);
    }

    public ServerConfig withFallback(boolean v) {
        return new ServerConfig(host, this.port, modelsDir, dataDir, eventLoops, workerThreads, execution, batching, defaultQueueSize, drainTimeout, standbyCount, shadowQueueSize, limits, security, crossSite, observability, grpcPort, strictModelConfig, faults, v, sharedArtifacts, transport);
    }

    public ServerConfig withSharedArtifacts(Optional<dev.gantry.store.artifact.S3Settings> v) {
        return new ServerConfig(host, this.port, modelsDir, dataDir, eventLoops, workerThreads, execution, batching, defaultQueueSize, drainTimeout, standbyCount, shadowQueueSize, limits, security, crossSite, observability, grpcPort, strictModelConfig, faults, fallback, v, transport);
    }

    public ServerConfig withShadowQueueSize(int n) {
        return new ServerConfig(host, port, modelsDir, dataDir, eventLoops, workerThreads, execution, batching,
                defaultQueueSize, drainTimeout, standbyCount, n, limits, security, crossSite, observability, grpcPort, strictModelConfig, faults, fallback, sharedArtifacts, transport);
    }

    public ServerConfig withCrossSite(CrossSite c) {
        return new ServerConfig(host, port, modelsDir, dataDir, eventLoops, workerThreads, execution, batching,
                defaultQueueSize, drainTimeout, standbyCount, shadowQueueSize, limits, security, c, observability, grpcPort, strictModelConfig, faults, fallback, sharedArtifacts, transport);
    }

    /** What the core runtime is built from, with the card policy read from the data directory. */
    public dev.gantry.core.runtime.RuntimeSettings runtimeSettings(dev.gantry.core.governance.CardPolicy cardPolicy) {
        return new dev.gantry.core.runtime.RuntimeSettings(modelsDir, dataDir, lifecycleSettings(), standbyCount,
                shadowQueueSize, cardPolicy, Duration.ofDays(30), security.auditKeyFile(), faults.sandbox(),
                faults.sandboxVerdicts(), fallback ? dev.gantry.core.routing.FallbackSettings.DEFAULTS
                : dev.gantry.core.routing.FallbackSettings.OFF, limits.uploads(), security.catalog(),
                sharedArtifacts);
    }

    /** The pools in use next to the values derived for this machine (start-up log, GET /admin/v1/server). */
    public dev.gantry.http.sizing.ServerSizing sizing() {
        return dev.gantry.http.sizing.ServerSizing.of(eventLoops, workerThreads, execution.intraOpThreads(),
                execution.interOpThreads(), execution.memory(), transport);
    }

    /** https with --tls-cert, else http. */
    public String scheme() {
        return security.tlsCert().isPresent() ? "https" : "http";
    }

    /** What the gRPC endpoint listens with: the same host, event loops, limits and TLS as HTTP. */
    public dev.gantry.http.grpc.GrpcEndpoint.Settings grpcSettings() {
        return new dev.gantry.http.grpc.GrpcEndpoint.Settings(host, eventLoops, limits.maxBodyBytes(),
                limits.idleTimeout(), limits.maxHeaderBytes(), security.tlsCert(), security.tlsKey());
    }

    public LifecycleSettings lifecycleSettings() {
        return new LifecycleSettings(execution, defaultQueueSize, drainTimeout, batching, limits.requestTimeout(),
                strictModelConfig);
    }

    /** Whether {@link #host} is a loopback address (127.0.0.0/8, ::1, localhost). */
    public boolean isLoopback() {
        try {
            for (InetAddress a : InetAddress.getAllByName(host)) {
                if (!a.isLoopbackAddress()) {
                    return false;
                }
            }
            return true;
        } catch (UnknownHostException e) {
            return false;
        }
    }

    public boolean metricsOpen() {
        return security.openMetrics().orElse(isLoopback());
    }

    public ServerConfig withPort(int newPort) {
        return new ServerConfig(host, newPort, modelsDir, dataDir, eventLoops, workerThreads, execution, batching,
                defaultQueueSize, drainTimeout, standbyCount, shadowQueueSize, limits, security, crossSite, observability, grpcPort, strictModelConfig, faults, fallback, sharedArtifacts, transport);
    }

    public ServerConfig withHost(String newHost) {
        return new ServerConfig(newHost, port, modelsDir, dataDir, eventLoops, workerThreads, execution, batching,
                defaultQueueSize, drainTimeout, standbyCount, shadowQueueSize, limits, security, crossSite, observability, grpcPort, strictModelConfig, faults, fallback, sharedArtifacts, transport);
    }

    public ServerConfig withModels(Path dir) {
        return new ServerConfig(host, port, dir, dataDir, eventLoops, workerThreads, execution, batching,
                defaultQueueSize, drainTimeout, standbyCount, shadowQueueSize, limits, security, crossSite, observability, grpcPort, strictModelConfig, faults, fallback, sharedArtifacts, transport);
    }

    public ServerConfig withDataDir(Path dir) {
        return new ServerConfig(host, port, modelsDir, dir, eventLoops, workerThreads, execution, batching,
                defaultQueueSize, drainTimeout, standbyCount, shadowQueueSize, limits, security, crossSite, observability, grpcPort, strictModelConfig, faults, fallback, sharedArtifacts, transport);
    }

    public ServerConfig withBatching(boolean on) {
        return new ServerConfig(host, port, modelsDir, dataDir, eventLoops, workerThreads, execution, on,
                defaultQueueSize, drainTimeout, standbyCount, shadowQueueSize, limits, security, crossSite, observability, grpcPort, strictModelConfig, faults, fallback, sharedArtifacts, transport);
    }

    public ServerConfig withDrainTimeout(Duration d) {
        return new ServerConfig(host, port, modelsDir, dataDir, eventLoops, workerThreads, execution, batching,
                defaultQueueSize, d, standbyCount, shadowQueueSize, limits, security, crossSite, observability, grpcPort, strictModelConfig, faults, fallback, sharedArtifacts, transport);
    }

    public ServerConfig withMaxBodyBytes(long max) {
        return withLimits(limits.withMaxBodyBytes(max));
    }

    public ServerConfig withLimits(Limits l) {
        return new ServerConfig(host, port, modelsDir, dataDir, eventLoops, workerThreads, execution, batching,
                defaultQueueSize, drainTimeout, standbyCount, shadowQueueSize, l, security, crossSite, observability, grpcPort, strictModelConfig, faults, fallback, sharedArtifacts, transport);
    }

    public ServerConfig withSecurity(Security s) {
        return new ServerConfig(host, port, modelsDir, dataDir, eventLoops, workerThreads, execution, batching,
                defaultQueueSize, drainTimeout, standbyCount, shadowQueueSize, limits, s, crossSite, observability, grpcPort, strictModelConfig, faults, fallback, sharedArtifacts, transport);
    }

    static ExecutionSettings cpu(int intra, int inter, boolean spinning) {
        return new ExecutionSettings(intra, inter, spinning, OptionalInt.empty());
    }

    static ExecutionSettings cpu(int intra, int inter, boolean spinning, dev.gantry.core.engine.OrtMemory memory) {
        return new ExecutionSettings(intra, inter, spinning, OptionalInt.empty(), memory);
    }
}
