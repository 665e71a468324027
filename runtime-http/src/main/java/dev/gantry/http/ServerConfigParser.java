package dev.gantry.http;

import dev.gantry.http.tracing.Observability;
import dev.gantry.http.inference.CodecLimits;
import dev.gantry.http.sizing.Machine;
import dev.gantry.http.sizing.MachineDefaults;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.function.Function;

/**
 * Reads {@link ServerConfig} from command-line flags and environment variables (flags win). A bad value fails
 * with a message naming the setting and the value.
 */
public final class ServerConfigParser {
    /** One setting: its flag, its environment variable, and what it means. */
    public record Setting(String flag, String env, String defaultValue, String help) {
    }

    public static final List<Setting> SETTINGS = List.of(
            new Setting("--host", "GANTRY_HOST", "127.0.0.1", "address to bind"),
            new Setting("--port", "GANTRY_PORT", "8080", "port to bind (0 picks a free port)"),
            new Setting("--grpc-port", "GANTRY_GRPC_PORT", "8001",
                    "port of the KServe v2 / Triton gRPC endpoint (0 picks a free port, -1 turns it off)"),
            new Setting("--models", "GANTRY_MODELS", "models", "model repository directory"),
            new Setting("--data", "GANTRY_DATA", "data", "directory for server state (created if missing)"),
            new Setting("--artifacts", "GANTRY_ARTIFACTS", "local",
                    "where uploaded artifacts are kept: local (the models directory) or s3://bucket/prefix, shared by"
                            + " replicas (the models directory is then this replica's cache)"),
            new Setting("--s3-endpoint", "GANTRY_S3_ENDPOINT", "",
                    "S3-compatible endpoint for --artifacts s3://... (MinIO, Ceph, s3proxy); empty for AWS"),
            new Setting("--s3-region", "GANTRY_S3_REGION", "us-east-1", "signing region of the S3 bucket"),
            new Setting("--s3-path-style", "GANTRY_S3_PATH_STYLE", "false",
                    "address the bucket as endpoint/bucket (most S3-compatible servers) rather than bucket.endpoint"),
            new Setting("--s3-credentials-file", "GANTRY_S3_CREDENTIALS_FILE", "",
                    "properties file with access_key_id and secret_access_key; else AWS_ACCESS_KEY_ID and"
                            + " AWS_SECRET_ACCESS_KEY, else the AWS default chain (never on the command line)"),
            new Setting("--event-loops", "GANTRY_EVENT_LOOPS", "auto",
                    "Vert.x event loops serving HTTP (auto: half the cores, at least 1)"),
            new Setting("--worker-threads", "GANTRY_WORKER_THREADS", "auto",
                    "threads for blocking work: metrics scrape, large bodies (auto: half the cores, at least 2)"),
            new Setting("--max-body-bytes", "GANTRY_MAX_BODY_BYTES", "67108864", "largest request body (413 above)"),
            new Setting("--max-body-memory", "GANTRY_MAX_BODY_MEMORY", "0",
                    "most bytes of request bodies held at once, all requests together (429 above; 0: a third of"
                            + " the heap)"),
            new Setting("--max-elements-per-tensor", "GANTRY_MAX_ELEMENTS_PER_TENSOR", "16777216",
                    "most elements in one input tensor"),
            new Setting("--max-elements-per-request", "GANTRY_MAX_ELEMENTS_PER_REQUEST", "67108864",
                    "most elements over all inputs of one request"),
            new Setting("--max-json-depth", "GANTRY_MAX_JSON_DEPTH", "64", "deepest JSON nesting accepted"),
            new Setting("--batching", "GANTRY_BATCHING", "true",
                    "dynamic batching for models that configure it (false: one request per execution)"),
            new Setting("--strict-model-config", "GANTRY_STRICT_MODEL_CONFIG", "false",
                    "no config auto-completion: a model without a config gets no batch dimension and no batching"),
            new Setting("--sandbox", "GANTRY_SANDBOX", "true",
                    "run each ONNX artifact's first execution in a sandbox process (a native crash there marks"
                            + " it UNAVAILABLE instead of killing the server)"),
            new Setting("--sandbox-verdicts", "GANTRY_SANDBOX_VERDICTS", "",
                    "where sandbox verdicts are remembered by artifact SHA-256 (default <data>/sandbox; servers"
                            + " of one host may share it)"),
            new Setting("--intra-op-threads", "GANTRY_INTRA_OP_THREADS", "auto",
                    "ONNX Runtime intra-op threads per model (auto: a quarter of the cores, 1 to 8; a model's config"
                            + " may override)"),
            new Setting("--inter-op-threads", "GANTRY_INTER_OP_THREADS", "auto",
                    "ONNX Runtime inter-op threads per model (auto: 1, sequential graph execution)"),
            new Setting("--ort-spinning", "GANTRY_ORT_SPINNING", "false", "let idle ORT threads spin-wait"),
            new Setting("--ort-memory", "GANTRY_ORT_MEMORY", "auto",
                    "how ONNX Runtime keeps tensor memory between runs: no-arena (freed after each run), "
                            + "arena-shrink (unused arena chunks freed after a run, at most every 200 ms) or arena "
                            + "(kept at the largest run's peak;"
                            + " ORT's default) (auto: " + dev.gantry.core.engine.ExecutionSettings.DEFAULT_MEMORY
                            + ")"),
            new Setting("--transport", "GANTRY_TRANSPORT", "auto",
                    "how the event loops reach sockets: io_uring or epoll (Netty's native transports, Linux "
                            + "x86-64) or nio (auto: io_uring where the kernel allows it, else epoll where it "
                            + "loads, else nio)"),
            new Setting("--queue-size", "GANTRY_QUEUE_SIZE", "1024",
                    "queue bound per model version without max_queue_size (429 when full)"),
            new Setting("--standby-versions", "GANTRY_STANDBY_VERSIONS", "1",
                    "previous primary versions kept loaded per model, so rollback loads nothing"),
            new Setting("--shadow-queue-size", "GANTRY_SHADOW_QUEUE_SIZE", "256",
                    "shadow requests that may wait; more are dropped and counted"),
            new Setting("--fallback", "GANTRY_FALLBACK", "false",
                    "retry a failed unversioned request once on a fallback version (retry budget, circuit breakers)"),
            new Setting("--drain-timeout-ms", "GANTRY_DRAIN_TIMEOUT_MS", "30000",
                    "how long shutdown and unloads wait for admitted requests"),
            new Setting("--idle-timeout-ms", "GANTRY_IDLE_TIMEOUT_MS", "60000",
                    "close connections with no traffic for this long"),
            new Setting("--max-header-bytes", "GANTRY_MAX_HEADER_BYTES", "16384",
                    "largest request line plus headers (431 above)"),
            new Setting("--header-timeout-ms", "GANTRY_HEADER_TIMEOUT_MS", "10000",
                    "a connection must send a complete request head within this long (slow clients are cut off)"),
            new Setting("--body-timeout-ms", "GANTRY_BODY_TIMEOUT_MS", "30000",
                    "a request body must arrive within this long (408 and close)"),
            new Setting("--request-timeout-ms", "GANTRY_REQUEST_TIMEOUT_MS", "60000",
                    "default queue timeout, and the longest one execution may take"),
            new Setting("--max-request-timeout-ms", "GANTRY_MAX_REQUEST_TIMEOUT_MS", "600000",
                    "longest queue timeout a client may ask for with parameters.timeout (400 above)"),
            new Setting("--upload-concurrency", "GANTRY_UPLOAD_CONCURRENCY", "2",
                    "artifact uploads that may run at once; one more gets 503 with Retry-After"),
            new Setting("--upload-idle-timeout-ms", "GANTRY_UPLOAD_IDLE_TIMEOUT_MS", "30000",
                    "an upload that sends nothing for this long is dropped (408) and its partial file deleted"),
            new Setting("--upload-min-free-bytes", "GANTRY_UPLOAD_MIN_FREE_BYTES", "1073741824",
                    "free disk an upload must leave in the repository's file system (507 otherwise)"),
            new Setting("--insecure", "GANTRY_INSECURE", "false",
                    "allow a non-loopback --host while no API key exists"),
            new Setting("--health-access", "GANTRY_HEALTH_ACCESS", "open",
                    "open: health and readiness need no key; key: they need one"),
            new Setting("--metrics-access", "GANTRY_METRICS_ACCESS", "auto",
                    "open, key, or auto (open when bound to loopback, else key)"),
            new Setting("--access-log", "GANTRY_ACCESS_LOG", "off",
                    "off, stdout, or a file to append JSON lines to (off by default: see README, Performance)"),
            new Setting("--tls-cert", "GANTRY_TLS_CERT", "", "PEM certificate chain: serve HTTPS"),
            new Setting("--tls-key", "GANTRY_TLS_KEY", "", "PEM private key for --tls-cert"),
            new Setting("--admin-port", "GANTRY_ADMIN_PORT", "", "serve /admin routes on this port only"),
            new Setting("--rate-limit", "GANTRY_RATE_LIMIT", "0",
                    "requests per second per API key (0: no limit; a key may set its own)"),
            new Setting("--rate-burst", "GANTRY_RATE_BURST", "50", "requests a key may send at once above its rate"),
            new Setting("--allowed-origins", "GANTRY_ALLOWED_ORIGINS", "",
                    "comma-separated origins (https://app.example:8443) whose web pages may change state; others get 403"),
            new Setting("--allowed-hosts", "GANTRY_ALLOWED_HOSTS", "",
                    "comma-separated Host names a server without keys answers besides loopback (DNS rebinding)"),
            new Setting("--otlp-endpoint", "GANTRY_OTLP_ENDPOINT", "",
                    "export traces over OTLP/HTTP to this collector (e.g. http://localhost:4318); the OTEL_* "
                            + "variables also turn traces on. Off by default"),
            new Setting("--audit-key-file", "GANTRY_AUDIT_KEY_FILE", "",
                    "HMAC key of the audit chain (default <data>/audit.key, created 0600 when absent)"),
            new Setting("--catalog", "GANTRY_CATALOG", "",
                    "catalogue database shared by replicas: jdbc:postgresql://host:port/db (default: embedded H2 "
                            + "in <data>/catalog); user from GANTRY_CATALOG_USER, never a password in the URL"),
            new Setting("--catalog-password-file", "GANTRY_CATALOG_PASSWORD_FILE", "",
                    "file whose first line is the PostgreSQL password (else GANTRY_CATALOG_PASSWORD)"));

    private ServerConfigParser() {
    }

    /** Thrown for a bad flag or value; the message is meant for the person starting the server. */
    public static final class ConfigException extends Exception {
        public ConfigException(String message) {
            super(message);
        }
    }

    public static ServerConfig parse(List<String> args, Map<String, String> env) throws ConfigException {
        return parse(args, env, MachineDefaults.of(Machine.current()));
    }

    /** As {@link #parse(List, Map)}, with "auto" settings taken from {@code machine}. */
    public static ServerConfig parse(List<String> args, Map<String, String> env, MachineDefaults machine)
            throws ConfigException {
        Map<String, String> values = new LinkedHashMap<>();
        Map<String, String> source = new LinkedHashMap<>();
        for (Setting s : SETTINGS) {
            values.put(s.flag(), s.defaultValue());
            source.put(s.flag(), "default");
            String e = env.get(s.env());
            if (e != null && !e.isBlank()) {
                values.put(s.flag(), e.trim());
                source.put(s.flag(), s.env());
            }
        }
        List<String> rest = new ArrayList<>(args);
        for (int i = 0; i < rest.size(); i++) {
            String a = rest.get(i);
            String flag = a;
            String value = null;
            int eq = a.indexOf('=');
            if (a.startsWith("--") && eq > 0) {
                flag = a.substring(0, eq);
                value = a.substring(eq + 1);
            }
            if (flag.equals("--no-batching")) {
                values.put("--batching", "false");
                source.put("--batching", "--no-batching");
                continue;
            }
            if (flag.equals("--strict-model-config") && value == null
                    && (i + 1 >= rest.size() || rest.get(i + 1).startsWith("--"))) {
                values.put("--strict-model-config", "true");
                source.put("--strict-model-config", "--strict-model-config");
                continue;
            }
            if (flag.equals("--insecure") && value == null
                    && (i + 1 >= rest.size() || rest.get(i + 1).startsWith("--"))) {
                values.put("--insecure", "true");
                source.put("--insecure", "--insecure");
                continue;
            }
            if (!values.containsKey(flag)) {
                throw new ConfigException("unknown option '" + a + "'; options are "
                        + SETTINGS.stream().map(Setting::flag).toList() + " and --no-batching");
            }
            if (value == null) {
                if (i + 1 >= rest.size()) {
                    throw new ConfigException("option " + flag + " needs a value");
                }
                value = rest.get(++i);
            }
            values.put(flag, value);
            source.put(flag, flag);
        }
        Reader r = new Reader(values, source);
        ServerConfig.Limits limits = new ServerConfig.Limits(
                r.longValue("--max-body-bytes", 1024, ServerConfig.Limits.MAX_BODY_BYTES),
                new CodecLimits(r.longValue("--max-elements-per-tensor", 1, Integer.MAX_VALUE),
                        r.longValue("--max-elements-per-request", 1, Long.MAX_VALUE),
                        r.integer("--max-json-depth", 4, 10_000), CodecLimits.DEFAULT_MAX_RANK,
                        Duration.ofMillis(r.longValue("--max-request-timeout-ms", 1, 86_400_000L))),
                r.integer("--max-header-bytes", 1024, 1 << 20),
                Duration.ofMillis(r.longValue("--header-timeout-ms", 100, 3_600_000L)),
                Duration.ofMillis(r.longValue("--body-timeout-ms", 100, 3_600_000L)),
                Duration.ofMillis(r.longValue("--request-timeout-ms", 1, 86_400_000L)),
                Duration.ofMillis(r.longValue("--idle-timeout-ms", 100, 86_400_000L)),
                new dev.gantry.store.artifact.UploadLimits(r.integer("--upload-concurrency", 1, 64),
                        Duration.ofMillis(r.longValue("--upload-idle-timeout-ms", 100, 3_600_000L)),
                        r.longValue("--upload-min-free-bytes", 0, Long.MAX_VALUE)),
                r.longValue("--max-body-memory", 0, Long.MAX_VALUE));
        String metrics = r.choice("--metrics-access", "open", "key", "auto");
        Optional<Path> cert = r.optionalPath("--tls-cert");
        Optional<Path> key = r.optionalPath("--tls-key");
        if (cert.isPresent() != key.isPresent()) {
            throw new ConfigException("--tls-cert and --tls-key go together; got only "
                    + (cert.isPresent() ? "--tls-cert" : "--tls-key"));
        }
        for (Optional<Path> p : List.of(cert, key)) {
            if (p.isPresent() && !java.nio.file.Files.isReadable(p.get())) {
                throw new ConfigException("TLS file " + p.get() + " does not exist or cannot be read");
            }
        }
        double rate = r.decimal("--rate-limit", 0, 1e9);
        ServerConfig.Security security = new ServerConfig.Security(
                r.bool("--insecure"),
                r.choice("--health-access", "open", "key").equals("open"),
                metrics.equals("auto") ? Optional.empty() : Optional.of(metrics.equals("open")),
                r.string("--access-log"),
                cert, key,
                values.get("--admin-port").isBlank() ? OptionalInt.empty()
                        : OptionalInt.of(r.integer("--admin-port", 0, 65535)),
                rate,
                r.decimal("--rate-burst", 1, 1e9),
                r.optionalPath("--audit-key-file"), CatalogFlags.location(values.get("--catalog"),
                        r.optionalPath("--catalog-password-file"), env));
        ServerConfig config = new ServerConfig(
                r.string("--host"),
                r.integer("--port", 0, 65535),
                r.path("--models"),
                r.path("--data"),
                r.sized("--event-loops", 1, 256, machine.eventLoops()),
                r.sized("--worker-threads", 1, 256, machine.workerThreads()),
                ServerConfig.cpu(r.sized("--intra-op-threads", 1, 256, machine.intraOpThreads()),
                        r.sized("--inter-op-threads", 1, 256, machine.interOpThreads()),
                        r.bool("--ort-spinning"), r.ortMemory("--ort-memory")),
                r.bool("--batching"),
                r.integer("--queue-size", 1, 10_000_000),
                Duration.ofMillis(r.longValue("--drain-timeout-ms", 0, 86_400_000L)),
                r.integer("--standby-versions", 0, 100),
                r.integer("--shadow-queue-size", 1, 1_000_000),
                limits,
                security,
                new ServerConfig.CrossSite(r.list("--allowed-origins", ServerConfigParser::origin),
                        r.list("--allowed-hosts", ServerConfigParser::hostName)),
                new Observability(
                        values.get("--otlp-endpoint").isBlank() ? Optional.empty()
                                : Optional.of(r.string("--otlp-endpoint")),
                        otelVariables(env), Optional.empty(), Duration.ofSeconds(5), java.time.Clock.systemUTC()),
                r.integer("--grpc-port", -1, 65535),
                r.bool("--strict-model-config"),
                new ServerConfig.Faults(r.bool("--sandbox"), values.get("--sandbox-verdicts").isBlank()
                        ? Optional.empty() : Optional.of(r.path("--sandbox-verdicts"))),
                r.bool("--fallback"),
                SharedArtifactsConfig.parse(values.get("--artifacts"), values.get("--s3-endpoint"),
                        r.string("--s3-region"), r.bool("--s3-path-style"), r.optionalPath("--s3-credentials-file"),
                        env),
                r.transport("--transport"));
        if (limits.codec().maxElementsPerRequest() < limits.codec().maxElementsPerTensor()) {
            throw new ConfigException("--max-elements-per-request (" + limits.codec().maxElementsPerRequest()
                    + ") must be >= --max-elements-per-tensor (" + limits.codec().maxElementsPerTensor() + ")");
        }
        if (security.adminPort().isPresent() && security.adminPort().getAsInt() == config.port()
                && config.port() != 0) {
            throw new ConfigException("--admin-port must differ from --port (" + config.port() + ")");
        }
        if (config.grpcPort() > 0 && (config.grpcPort() == config.port()
                || config.grpcPort() == security.adminPort().orElse(-1))) {
            throw new ConfigException("--grpc-port must differ from --port and --admin-port (" + config.grpcPort() + ")");
        }
        return config;
    }

    /** An origin as browsers send it: scheme://host[:port], lowercase, no path. */
    static String origin(String s) {
        String o = s.trim().toLowerCase(java.util.Locale.ROOT);
        if (!o.matches("https?://[a-z0-9.\\-]+(:\\d{1,5})?|https?://\\[[0-9a-f:]+\\](:\\d{1,5})?")) {
            throw new IllegalArgumentException("'" + s + "' is not an origin like https://app.example.com:8443");
        }
        return o;
    }

    /** A host name, optionally with a port, lowercase. */
    static String hostName(String s) {
        String h = s.trim().toLowerCase(java.util.Locale.ROOT);
        if (!h.matches("[a-z0-9.\\-]+(:\\d{1,5})?|\\[[0-9a-f:]+\\](:\\d{1,5})?")) {
            throw new IllegalArgumentException("'" + s + "' is not a host name like gantry.internal or gantry:8080");
        }
        return h;
    }

    /** The OTEL_* variables of {@code env}: what the OpenTelemetry SDK is configured from. */
    static Map<String, String> otelVariables(Map<String, String> env) {
        Map<String, String> out = new LinkedHashMap<>();
        env.forEach((k, v) -> {
            if (k.startsWith("OTEL_") && v != null && !v.isBlank()) {
                out.put(k, v.trim());
            }
        });
        return out;
    }

    private record Reader(Map<String, String> values, Map<String, String> source) {
        private List<String> list(String flag, java.util.function.UnaryOperator<String> check)
                throws ConfigException {
            String raw = values.get(flag);
            List<String> out = new java.util.ArrayList<>();
            if (raw == null || raw.isBlank()) {
                return out;
            }
            for (String part : raw.split(",")) {
                if (part.isBlank()) {
                    continue;
                }
                try {
                    out.add(check.apply(part));
                } catch (IllegalArgumentException e) {
                    throw new ConfigException(describe(flag) + ": " + e.getMessage());
                }
            }
            return out;
        }

        private String describe(String flag) {
            String s = source.get(flag);
            return s.equals(flag) || s.equals("default") ? flag : flag + " (from " + s + ")";
        }

        String string(String flag) throws ConfigException {
            String v = values.get(flag);
            if (v.isBlank()) {
                throw new ConfigException(describe(flag) + " must not be empty");
            }
            return v;
        }

        Path path(String flag) throws ConfigException {
            try {
                return Path.of(string(flag));
            } catch (java.nio.file.InvalidPathException e) {
                throw new ConfigException(describe(flag) + " is not a valid path: '" + values.get(flag) + "'");
            }
        }

        /** A whole number, or {@code derived} when the setting is "auto" (its default). */
        int sized(String flag, int min, int max, int derived) throws ConfigException {
            return values.get(flag).trim().equalsIgnoreCase("auto") ? derived : integer(flag, min, max);
        }

        int integer(String flag, int min, int max) throws ConfigException {
            return (int) longValue(flag, min, max);
        }

        long longValue(String flag, long min, long max) throws ConfigException {
            String v = values.get(flag);
            long n;
            try {
                n = Long.parseLong(v.trim());
            } catch (NumberFormatException e) {
                throw new ConfigException(describe(flag) + " must be a whole number, was '" + v + "'");
            }
            if (n < min || n > max) {
                throw new ConfigException(describe(flag) + " must be between " + min + " and " + max + ", was " + n);
            }
            return n;
        }

        Optional<Path> optionalPath(String flag) throws ConfigException {
            return values.get(flag).isBlank() ? Optional.empty() : Optional.of(path(flag));
        }

        String choice(String flag, String... allowed) throws ConfigException {
            String v = values.get(flag).trim().toLowerCase(Locale.ROOT);
            for (String a : allowed) {
                if (a.equals(v)) {
                    return a;
                }
            }
            throw new ConfigException(describe(flag) + " must be one of " + String.join(", ", allowed) + ", was '"
                    + values.get(flag) + "'");
        }

        dev.gantry.http.sizing.NetworkTransport transport(String flag) throws ConfigException {
            try {
                return dev.gantry.http.sizing.NetworkTransport.of(values.get(flag));
            } catch (IllegalArgumentException e) {
                throw new ConfigException(describe(flag) + " " + e.getMessage());
            }
        }

        dev.gantry.core.engine.OrtMemory ortMemory(String flag) throws ConfigException {
            String v = values.get(flag).trim().toLowerCase(Locale.ROOT);
            if (v.equals("auto")) {
                return dev.gantry.core.engine.ExecutionSettings.DEFAULT_MEMORY;
            }
            try {
                return dev.gantry.core.engine.OrtMemory.of(v);
            } catch (IllegalArgumentException e) {
                throw new ConfigException(describe(flag) + " must be one of auto, " + String.join(", ",
                        java.util.Arrays.stream(dev.gantry.core.engine.OrtMemory.values())
                                .map(dev.gantry.core.engine.OrtMemory::label).toList())
                        + ", was '" + values.get(flag) + "'");
            }
        }

        double decimal(String flag, double min, double max) throws ConfigException {
            String v = values.get(flag);
            double d;
            try {
                d = Double.parseDouble(v.trim());
            } catch (NumberFormatException e) {
                throw new ConfigException(describe(flag) + " must be a number, was '" + v + "'");
            }
            if (!(d >= min && d <= max)) {
                throw new ConfigException(describe(flag) + " must be between " + min + " and " + max + ", was " + v);
            }
            return d;
        }

        boolean bool(String flag) throws ConfigException {
            String v = values.get(flag).trim().toLowerCase(Locale.ROOT);
            return switch (v) {
                case "true", "yes", "on", "1" -> true;
                case "false", "no", "off", "0" -> false;
                default -> throw new ConfigException(describe(flag) + " must be true or false, was '"
                        + values.get(flag) + "'");
            };
        }
    }

    /** The usage text listing every flag, its environment variable and default. */
    public static String usage() {
        StringBuilder sb = new StringBuilder("Usage: gantry serve [options]\n\nOptions (flag / environment variable, default):\n");
        Function<Setting, String> line = s -> String.format(Locale.ROOT, "  %-28s %-32s %s (default %s)%n",
                s.flag(), s.env(), s.help(), s.defaultValue());
        SETTINGS.forEach(s -> sb.append(line.apply(s)));
        sb.append(String.format(Locale.ROOT, "  %-28s %-32s %s%n", "--no-batching", "", "same as --batching false"));
        sb.append(String.format(Locale.ROOT, "  %-28s %-32s %s%n", "--insecure", "", "same as --insecure true"));
        return sb.toString();
    }
}
