package dev.gantry.bench.load;

/** One measurement of one arm on one workload. */
public record ArmResult(String arm, Workload workload, Measurement measurement) {
}
