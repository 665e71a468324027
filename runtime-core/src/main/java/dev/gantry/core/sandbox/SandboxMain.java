package dev.gantry.core.sandbox;

import dev.gantry.core.engine.ExecutionSettings;
import dev.gantry.core.inference.InferenceRequest;
import dev.gantry.core.inference.Tensor;
import dev.gantry.core.lifecycle.ExecutorFactory;
import dev.gantry.core.lifecycle.LifecycleSettings;
import dev.gantry.core.lifecycle.ModelLifecycle;
import dev.gantry.core.lifecycle.ModelVersionState;
import dev.gantry.core.lifecycle.WarmupInputs;
import dev.gantry.store.repository.ModelEntry;
import dev.gantry.store.repository.ModelRepository;
import dev.gantry.store.repository.ModelVersionEntry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The sandbox process: loads one model version exactly as the server would (load, warm-up, batch-invariance
 * check), then sends it one smoke inference through its scheduler, reporting each phase to the result file.
 *
 * <p>Arguments: {@code resultFile repositoryRoot model version intraOpThreads interOpThreads allowSpinning
 * batchingEnabled gpuDevice(-1 for none)}. Exits 0 after writing a {@code state} line; any other end is a crash.
 */
public final class SandboxMain {
    private SandboxMain() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 9) {
            System.err.println("usage: SandboxMain resultFile repositoryRoot model version intraOpThreads"
                    + " interOpThreads allowSpinning batchingEnabled gpuDevice");
            System.exit(2);
        }
        try (PrintStream result = new PrintStream(new FileOutputStream(args[0], /* append= */ true),
                /* autoFlush= */ true, StandardCharsets.UTF_8)) {
            String state;
            try {
                state = check(args, phase -> result.println("phase " + phase));
            } catch (RuntimeException e) {
                state = "ERROR " + e;
            }
            result.println("state " + state.replace('\n', ' '));
        }
        System.exit(0);
    }

    private static String check(String[] args, java.util.function.Consumer<String> phases) {
        Path root = Path.of(args[1]);
        String model = args[2];
        long version = Long.parseLong(args[3]);
        int gpu = Integer.parseInt(args[8]);
        ExecutionSettings execution = new ExecutionSettings(Integer.parseInt(args[4]), Integer.parseInt(args[5]),
                Boolean.parseBoolean(args[6]), gpu < 0 ? OptionalInt.empty() : OptionalInt.of(gpu));
        LifecycleSettings settings = new LifecycleSettings(execution, 16, Duration.ofSeconds(5),
                Boolean.parseBoolean(args[7]), Duration.ofMinutes(5));
        phases.accept("start-up");
        ModelEntry entry = ModelRepository.onDisk(root).find(model).orElseThrow(
                () -> new IllegalArgumentException("no model '" + model + "' in " + root));
        ModelVersionEntry v = entry.versions().stream().filter(e -> e.version() == version).findFirst().orElseThrow(
                () -> new IllegalArgumentException("no version " + version + " of model '" + model + "'"));
        ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor(
                r -> Thread.ofPlatform().daemon(true).name("sandbox-timers").unstarted(r));
        try (ModelLifecycle lifecycle = new ModelLifecycle(settings, new SimpleMeterRegistry(),
                ExecutorFactory.onnxRuntime(), Runnable::run, timers)) {
            ModelVersionState state = lifecycle.load(entry, v, phases).join();
            if (!state.isReady()) {
                return "UNAVAILABLE " + state.reason().orElse("");
            }
            Optional<List<Tensor>> smoke = WarmupInputs.smoke(entry, state.signature().orElseThrow());
            if (smoke.isEmpty()) {
                return "READY (no smoke inference: an input Gantry cannot make up)";
            }
            phases.accept("smoke inference");
            try {
                state.scheduler().orElseThrow().enqueue(InferenceRequest.of(smoke.get())).get(5, TimeUnit.MINUTES);
                return "READY";
            } catch (Exception e) {
                return "READY (smoke inference failed: " + e.getMessage() + ")";
            }
        } finally {
            timers.shutdownNow();
        }
    }
}
