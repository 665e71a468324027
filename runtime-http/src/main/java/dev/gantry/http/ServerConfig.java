package dev.gantry.http;

import dev.gantry.core.engine.ExecutionSettings;
import dev.gantry.core.lifecycle.LifecycleSettings;
import dev.gantry.http.inference.CodecLimits;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.OptionalInt;

/**
 * Everything the server is started with, validated once by {@link ServerConfigParser}.
 *
 * @param host address to bind
 * @param port port to bind; 0 picks a free one
 * @param modelsDir the model repository
 * @param dataDir where the server keeps its state
 * @param eventLoops Vert.x event loops (one HTTP verticle instance each)
 * @param workerThreads threads of the named worker pool for blocking work (metrics scrape, large bodies)
 * @param maxBodyBytes largest request body accepted; larger gets 413
 * @param codecLimits element-count and nesting limits for inference requests
 * @param execution ORT threading defaults for models that do not set their own
 * @param batching false turns dynamic batching off for every model
 * @param defaultQueueSize queue bound for models that do not set max_queue_size
 * @param drainTimeout how long shutdown and unloads wait for admitted requests
 * @param idleTimeout a connection idle this long (including one that stalls mid-request) is closed
 */
public record ServerConfig(String host, int port, Path modelsDir, Path dataDir, int eventLoops, int workerThreads,
                           long maxBodyBytes, CodecLimits codecLimits, ExecutionSettings execution, boolean batching,
                           int defaultQueueSize, Duration drainTimeout, Duration idleTimeout) {
    public ServerConfig {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(modelsDir, "modelsDir");
        Objects.requireNonNull(dataDir, "dataDir");
    }

    public static ServerConfig defaults() {
        return new ServerConfig("127.0.0.1", 8080, Path.of("models"), Path.of("data"), 1, 2, 64L << 20,
                CodecLimits.defaults(), ExecutionSettings.cpuDefaults(), true, 1024, Duration.ofSeconds(30),
                Duration.ofSeconds(60));
    }

    public LifecycleSettings lifecycleSettings() {
        return new LifecycleSettings(execution, defaultQueueSize, drainTimeout, batching);
    }

    public ServerConfig withPort(int newPort) {
        return new ServerConfig(host, newPort, modelsDir, dataDir, eventLoops, workerThreads, maxBodyBytes,
                codecLimits, execution, batching, defaultQueueSize, drainTimeout, idleTimeout);
    }

    public ServerConfig withModels(Path dir) {
        return new ServerConfig(host, port, dir, dataDir, eventLoops, workerThreads, maxBodyBytes,
                codecLimits, execution, batching, defaultQueueSize, drainTimeout, idleTimeout);
    }

    public ServerConfig withDataDir(Path dir) {
        return new ServerConfig(host, port, modelsDir, dir, eventLoops, workerThreads, maxBodyBytes,
                codecLimits, execution, batching, defaultQueueSize, drainTimeout, idleTimeout);
    }

    public ServerConfig withBatching(boolean on) {
        return new ServerConfig(host, port, modelsDir, dataDir, eventLoops, workerThreads, maxBodyBytes,
                codecLimits, execution, on, defaultQueueSize, drainTimeout, idleTimeout);
    }

    public ServerConfig withMaxBodyBytes(long max) {
        return new ServerConfig(host, port, modelsDir, dataDir, eventLoops, workerThreads, max,
                codecLimits, execution, batching, defaultQueueSize, drainTimeout, idleTimeout);
    }

    static ExecutionSettings cpu(int intra, int inter, boolean spinning) {
        return new ExecutionSettings(intra, inter, spinning, OptionalInt.empty());
    }
}
