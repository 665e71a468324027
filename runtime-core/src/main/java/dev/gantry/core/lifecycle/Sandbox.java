package dev.gantry.core.lifecycle;

import dev.gantry.store.repository.ModelEntry;
import dev.gantry.store.repository.ModelVersionEntry;

import java.util.Optional;

/**
 * Runs an artifact's first execution (load, warm-up, smoke inference, invariance check) where a crash is harmless; the
 * child-process implementation is {@code dev.gantry.core.sandbox.Sandboxes#childProcess}.
 */
public interface Sandbox {

    /**
     * Empty when the version's artifact has run safely in the sandbox, now or at an earlier start; otherwise why
     * it must not run in this process ("crashed the validation process: SIGFPE during warm-up ...").
     */
    Optional<String> firstRun(ModelEntry entry, ModelVersionEntry version);

    /** No sandbox: every artifact runs in this process from the start. */
    static Sandbox off() {
        return (entry, version) -> Optional.empty();
    }
}
