package dev.gantry.core.rollout;

/**
 * The statistical rule of the error gate: a one-sided two-proportion z-test of "the candidate's error rate is
 * higher than the baseline's", with a Haybittle-Peto boundary for looking while the step runs.
 */
public final class ErrorRule {
    /*
     * z = (pc - pb) / sqrt(p (1 - p) (1/nc + 1/nb)), p the pooled error rate. The gate is looked at on every
     * tick, so a plain 5% test would fail good candidates far more than 5% of the time (every look is another
     * chance). Instead, while the step runs, the candidate fails only on overwhelming evidence (z >= interimZ,
     * 3.0 by default: 0.13% one-sided per look); once, when the step's time is up and it has its minimum
     * requests, the nominal boundary applies (z >= finalZ, 1.96: 2.5%). The overall false-rollback rate of a
     * candidate equal to the baseline stays near the nominal one, and a clearly bad candidate is still stopped
     * as soon as the evidence is there. Neither side decides below minSample requests. Measured rates are in
     * docs/rollouts.md and checked by ErrorRuleTest.
     */
    private ErrorRule() {
    }

    /** The z statistic of candidate errors {@code ec}/{@code nc} against baseline {@code eb}/{@code nb}. */
    public static double z(long ec, long nc, long eb, long nb) {
        if (nc <= 0 || nb <= 0) {
            return 0;
        }
        double pc = (double) ec / nc;
        double pb = (double) eb / nb;
        double p = (double) (ec + eb) / (nc + nb);
        double var = p * (1 - p) * (1.0 / nc + 1.0 / nb);
        if (var <= 0) {
            return 0;
        }
        return (pc - pb) / Math.sqrt(var);
    }

    /** Whether the candidate fails: below the minimum sample never; else z against the look's boundary. */
    public static boolean fails(long ec, long nc, long eb, long nb, GateSettings g, boolean finalLook) {
        if (nc < g.minSample() || nb < g.minSample()) {
            return false;
        }
        return z(ec, nc, eb, nb) >= (finalLook ? g.finalZ() : g.interimZ());
    }

    /** The Wilson score interval's upper bound for {@code k} successes in {@code n}, at {@code z}. */
    public static double wilsonUpper(long k, long n, double z) {
        if (n <= 0) {
            return 1;
        }
        double p = (double) k / n;
        double z2 = z * z;
        double centre = p + z2 / (2 * n);
        double margin = z * Math.sqrt(p * (1 - p) / n + z2 / (4.0 * n * n));
        return Math.min(1, (centre + margin) / (1 + z2 / n));
    }
}
