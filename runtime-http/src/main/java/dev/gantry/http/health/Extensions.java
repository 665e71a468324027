package dev.gantry.http.health;

import java.util.List;

/** The protocol extensions Gantry serves, as {@code GET /v2} lists them (Triton's names), in one place. */
public final class Extensions {
    /** Each name here is served in full; add one only with its routes. binary_tensor_data stays first. */
    public static final List<String> SERVED = List.of(
            "binary_tensor_data",
            "classification",
            "model_configuration",
            "model_repository",
            "statistics",
            "system_shared_memory");

    private Extensions() {
    }
}
