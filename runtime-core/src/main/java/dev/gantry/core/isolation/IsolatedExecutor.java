package dev.gantry.core.isolation;

import dev.gantry.core.engine.ExecutionSettings;
import dev.gantry.core.error.ErrorCode;
import dev.gantry.core.error.GantryException;
import dev.gantry.core.inference.Tensor;
import dev.gantry.core.journal.CrashReports;
import dev.gantry.core.model.ModelId;
import dev.gantry.core.model.ModelSignature;
import dev.gantry.core.scheduling.ModelExecutor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;

/** A model version executing in a worker process, restarted after it crashes. */
final class IsolatedExecutor implements ModelExecutor {
    /*
     * One worker process and one connection per version; runs are serialized on it (the worker runs one request
     * at a time), so instance_group counts above one add queue threads, not parallelism. When the connection
     * breaks mid-run the worker has died: the run fails WORKER_CRASHED (503) with the worker's signal from its JVM
     * report, and the next run starts a fresh worker. CRASH_LIMIT crashes within CRASH_WINDOW are reported once
     * to onRepeatedCrashes, which suspends the version. Socket files live in the temporary directory, because a
     * Unix socket path must be short (108 bytes on Linux) and data directories need not be.
     */
    static final int CRASH_LIMIT = 3;
    static final Duration CRASH_WINDOW = Duration.ofSeconds(60);
    private static final Logger log = LoggerFactory.getLogger(IsolatedExecutor.class);
    private static final AtomicInteger SOCKETS = new AtomicInteger();
    private static final Duration START_TIMEOUT = Duration.ofSeconds(120);

    private final ModelId id;
    private final Path versionDir;
    private final String fileName;
    private final ExecutionSettings settings;
    private final ModelSignature signature;
    private final Path dataDir;
    private final BiConsumer<ModelId, String> onRepeatedCrashes;
    private final ArrayDeque<Long> crashes = new ArrayDeque<>();
    private boolean reported;
    private Process worker;
    private SocketChannel channel;
    private DataInputStream in;
    private DataOutputStream out;
    private boolean closed;

    private IsolatedExecutor(ModelId id, Path versionDir, String fileName, ExecutionSettings settings,
                             ModelSignature signature, Path dataDir, BiConsumer<ModelId, String> onRepeatedCrashes) {
        this.id = id;
        this.versionDir = versionDir;
        this.fileName = fileName;
        this.settings = settings;
        this.signature = signature;
        this.dataDir = dataDir;
        this.onRepeatedCrashes = onRepeatedCrashes;
    }

    static IsolatedExecutor start(ModelId id, Path versionDir, String fileName, ExecutionSettings settings,
                                  ModelSignature signature, Path dataDir,
                                  BiConsumer<ModelId, String> onRepeatedCrashes) {
        IsolatedExecutor e = new IsolatedExecutor(id, versionDir, fileName, settings, signature, dataDir,
                onRepeatedCrashes);
        synchronized (e) {
            e.ensureWorker();
        }
        return e;
    }

    @Override
    public ModelSignature signature() {
        return signature;
    }

    @Override
    public synchronized List<Tensor> run(List<Tensor> inputs, Set<String> outputs) {
        if (closed) {
            throw new GantryException(ErrorCode.UNAVAILABLE, "model '" + id.name() + "' version " + id.version()
                    + " is unloaded");
        }
        ensureWorker();
        try {
            TensorFrames.writeRequest(out, inputs, outputs);
            return TensorFrames.readResult(in);
        } catch (IOException e) {
            throw crashed();
        }
    }

    private GantryException crashed() {
        Process dead = worker;
        disconnect();
        try {
            dead.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        String how = CrashReports.find(dataDir, dead.pid()).map(CrashReports::read)
                .map(f -> f.describe() + "; crash report " + f.report())
                .orElse(dead.isAlive() ? "its connection broke" : "exit status " + dead.exitValue());
        dead.destroyForcibly();
        String reason = "the worker process of model '" + id.name() + "' version " + id.version()
                + " crashed while running this request (" + how + "); it restarts for the next request";
        log.error("{}: worker process {} crashed ({})", id, dead.pid(), how);
        long now = System.nanoTime();
        crashes.addLast(now);
        while (!crashes.isEmpty() && now - crashes.peekFirst() > CRASH_WINDOW.toNanos()) {
            crashes.removeFirst();
        }
        if (crashes.size() >= CRASH_LIMIT && !reported) {
            reported = true;
            onRepeatedCrashes.accept(id, "its worker process crashed " + crashes.size() + " times within "
                    + CRASH_WINDOW.toSeconds() + " s, last with " + how);
        }
        return new GantryException(ErrorCode.WORKER_CRASHED, reason);
    }

    private void ensureWorker() {
        if (channel != null && worker != null && worker.isAlive()) {
            return;
        }
        disconnect();
        Path socket = Path.of(System.getProperty("java.io.tmpdir"), "gantry-w" + ProcessHandle.current().pid() + "-"
                + SOCKETS.incrementAndGet() + ".sock");
        try {
            Files.createDirectories(CrashReports.directory(dataDir));
            Path logs = dataDir.resolve("workers");
            Files.createDirectories(logs);
            Files.deleteIfExists(socket);
            worker = new ProcessBuilder(command(socket)).redirectErrorStream(true)
                    .redirectOutput(logs.resolve(id.name() + "-" + id.version() + ".log").toFile()).start();
            long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
            while (true) {
                if (!worker.isAlive()) {
                    throw new GantryException(ErrorCode.UNAVAILABLE, "the worker process of model '" + id.name()
                            + "' version " + id.version() + " exited with status " + worker.exitValue()
                            + " before it was ready; its output is in " + logs);
                }
                if (Files.exists(socket)) {
                    try {
                        channel = SocketChannel.open(StandardProtocolFamily.UNIX);
                        channel.connect(UnixDomainSocketAddress.of(socket));
                        break;
                    } catch (IOException e) {
                        channel.close();
                        channel = null;
                    }
                }
                if (System.nanoTime() > deadline) {
                    worker.destroyForcibly();
                    throw new GantryException(ErrorCode.UNAVAILABLE, "the worker process of model '" + id.name()
                            + "' version " + id.version() + " was not ready within " + START_TIMEOUT.toSeconds()
                            + " s");
                }
                Thread.sleep(20);
            }
            in = new DataInputStream(new BufferedInputStream(Channels.newInputStream(channel)));
            out = new DataOutputStream(new BufferedOutputStream(Channels.newOutputStream(channel)));
            log.info("{}: worker process {} ready", id, worker.pid());
        } catch (IOException e) {
            throw new GantryException(ErrorCode.UNAVAILABLE, "cannot start the worker process of model '" + id.name()
                    + "' version " + id.version() + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new GantryException(ErrorCode.UNAVAILABLE, "interrupted while starting a worker process");
        }
    }

    private List<String> command(Path socket) {
        List<String> c = CrashReports.childJvm(dataDir);
        c.add(WorkerMain.class.getName());
        c.add(socket.toString());
        c.add(versionDir.toAbsolutePath().toString());
        c.add(fileName);
        c.add(Integer.toString(settings.intraOpThreads()));
        c.add(Integer.toString(settings.interOpThreads()));
        c.add(Boolean.toString(settings.allowSpinning()));
        c.add(settings.gpuDevice().isPresent() ? Integer.toString(settings.gpuDevice().getAsInt()) : "-1");
        c.add(settings.memory().label());
        return c;
    }

    private void disconnect() {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // the worker is gone or going; nothing to flush
            }
        }
        channel = null;
        in = null;
        out = null;
    }

    @Override
    public synchronized void close() {
        closed = true;
        disconnect();
        if (worker != null) {
            worker.destroy();
            try {
                if (!worker.waitFor(10, TimeUnit.SECONDS)) {
                    worker.destroyForcibly();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                worker.destroyForcibly();
            }
        }
    }
}
