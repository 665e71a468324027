package dev.gantry.bench.load;

/**
 * One measurement of one arm on one workload.
 *
 * @param phase empty for the usual sweeps; for the hot-swap arm's open-loop windows {@code steady} or
 *     {@code swap}
 */
public record ArmResult(String arm, Workload workload, Measurement measurement, String phase) {
    public ArmResult(String arm, Workload workload, Measurement measurement) {
        this(arm, workload, measurement, "");
    }
}
