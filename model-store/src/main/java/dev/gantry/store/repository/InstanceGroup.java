package dev.gantry.store.repository;

import java.util.List;
import java.util.Objects;

/**
 * Triton's {@code instance_group}: how many copies of the model to run, and on which kind of device.
 *
 * @param count number of instances, at least 1 (per listed GPU when {@code gpus} is not empty)
 * @param kind  the device kind
 * @param gpus  the GPU ordinals to place instances on; empty means all or none, depending on kind
 */
public record InstanceGroup(int count, Kind kind, List<Integer> gpus) {

    /** Triton's device kinds that an ONNX Runtime model can use. */
    public enum Kind { KIND_CPU, KIND_GPU, KIND_AUTO }

    public InstanceGroup {
        Checks.atLeast("count", count, 1);
        Objects.requireNonNull(kind, "kind");
        for (Integer gpu : gpus) {
            Checks.atLeast("gpus", gpu, 0);
        }
        gpus = List.copyOf(gpus);
    }

    /** Triton's default when a config has no {@code instance_group}: one instance on the CPU. */
    public static InstanceGroup defaults() {
        return new InstanceGroup(1, Kind.KIND_CPU, List.of());
    }
}
