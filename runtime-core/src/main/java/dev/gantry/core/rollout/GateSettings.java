package dev.gantry.core.rollout;

import java.time.Duration;

/**
 * The thresholds of a rollout's analysis gates.
 *
 * @param minSample requests each side (candidate and baseline) needs before a gate decides anything
 * @param interimZ during a step, the error gate fails when the one-sided two-proportion z reaches this
 * @param finalZ when the step's time is up, the error gate fails when z reaches this
 * @param maxP99Ratio the latency gate fails when candidate p99 > ratio * baseline p99 + slack
 * @param maxP50Ratio the latency gate fails when candidate p50 > ratio * baseline p50 + slack
 * @param latencySlack absolute latency allowed on top of the ratio (histogram resolution, scheduling noise)
 * @param minAgreement the agreement gate fails when the Wilson upper bound of shadow agreement is below this
 * @param minThroughputRatio the throughput gate fails when the candidate's answered/offered ratio is below this
 *     times the baseline's (and the shortfall is significant at the look's z)
 */
public record GateSettings(long minSample, double interimZ, double finalZ, double maxP99Ratio, double maxP50Ratio,
                           Duration latencySlack, double minAgreement, double minThroughputRatio) {
    public static final GateSettings DEFAULTS = new GateSettings(100, 3.0, 1.96, 2.0, 1.5, Duration.ofMillis(10),
            0.99, 0.5);

    public GateSettings {
        if (minSample < 1 || minSample > 100_000_000) {
            throw new IllegalArgumentException("gates.min_sample must be in 1..100000000, was " + minSample);
        }
        if (!(interimZ > 0 && interimZ <= 10)) {
            throw new IllegalArgumentException("gates.interim_z must be in (0, 10], was " + interimZ);
        }
        if (!(finalZ > 0 && finalZ <= interimZ)) {
            throw new IllegalArgumentException("gates.final_z must be in (0, interim_z], was " + finalZ);
        }
        if (!(maxP99Ratio >= 1 && maxP99Ratio <= 1000)) {
            throw new IllegalArgumentException("gates.max_p99_ratio must be in 1..1000, was " + maxP99Ratio);
        }
        if (!(maxP50Ratio >= 1 && maxP50Ratio <= 1000)) {
            throw new IllegalArgumentException("gates.max_p50_ratio must be in 1..1000, was " + maxP50Ratio);
        }
        if (latencySlack.isNegative() || latencySlack.compareTo(Duration.ofMinutes(1)) > 0) {
            throw new IllegalArgumentException("gates.latency_slack must be between 0 and 1 min, was " + latencySlack);
        }
        if (!(minAgreement >= 0 && minAgreement <= 1)) {
            throw new IllegalArgumentException("gates.min_agreement must be in 0..1, was " + minAgreement);
        }
        if (!(minThroughputRatio >= 0 && minThroughputRatio <= 1)) {
            throw new IllegalArgumentException("gates.min_throughput_ratio must be in 0..1, was "
                    + minThroughputRatio);
        }
    }
}
