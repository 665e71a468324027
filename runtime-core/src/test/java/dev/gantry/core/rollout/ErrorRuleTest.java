package dev.gantry.core.rollout;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The error gate's statistical rule on its own, across many simulated steps (seeded): a candidate as good as
 * the baseline is rarely rolled back, one with twice the error rate is caught. The documented sample size: a
 * step of 2,000 candidate and 2,000 baseline requests, baseline error rate 2%, the gate looked at every 100
 * candidate requests (20 looks), default thresholds. Targets (docs/rollouts.md): false rollback <= 5%,
 * detection >= 90%.
 */
class ErrorRuleTest {
    static final int RUNS = 4000;
    static final int STEP_REQUESTS = 2000;
    static final int LOOK_EVERY = 100;
    static final double BASELINE_RATE = 0.02;

    /** The share of simulated steps in which the gate fails the candidate. */
    static double rollbackRate(double candidateRate, long seed) {
        Random random = new Random(seed);
        GateSettings g = GateSettings.DEFAULTS;
        int rolledBack = 0;
        for (int run = 0; run < RUNS; run++) {
            long ec = 0;
            long eb = 0;
            for (int n = 1; n <= STEP_REQUESTS; n++) {
                ec += random.nextDouble() < candidateRate ? 1 : 0;
                eb += random.nextDouble() < BASELINE_RATE ? 1 : 0;
                if (n % LOOK_EVERY == 0 && ErrorRule.fails(ec, n, eb, n, g, /* finalLook= */ n == STEP_REQUESTS)) {
                    rolledBack++;
                    break;
                }
            }
        }
        return (double) rolledBack / RUNS;
    }

    @Test
    void candidateEqualToBaseline_isRolledBackAtMostFivePercentOfTheTime() {
        double falseRollback = rollbackRate(BASELINE_RATE, 42);
        System.out.printf("ErrorRuleTest: false rollback %.2f%% (%d runs, 2%% vs 2%%, n=%d each, %d looks)%n",
                100 * falseRollback, RUNS, STEP_REQUESTS, STEP_REQUESTS / LOOK_EVERY);
        assertTrue(falseRollback <= 0.05, "false rollback rate " + falseRollback);
    }

    @Test
    void candidateWithTwiceTheErrorRate_isDetectedAtLeastNinetyPercentOfTheTime() {
        double detection = rollbackRate(2 * BASELINE_RATE, 43);
        System.out.printf("ErrorRuleTest: detection %.2f%% (%d runs, 4%% vs 2%%, n=%d each, %d looks)%n",
                100 * detection, RUNS, STEP_REQUESTS, STEP_REQUESTS / LOOK_EVERY);
        assertTrue(detection >= 0.90, "detection rate " + detection);
    }

    @Test
    void belowMinimumSample_neverFails() {
        assertFalse(ErrorRule.fails(50, 99, 0, 5000, GateSettings.DEFAULTS, true));
    }

    @Test
    void interimLook_needsStrongerEvidenceThanFinalLook() {
        // z is about 2.5 here: enough at the end of the step, not while it runs.
        double z = ErrorRule.z(30, 1000, 15, 1000);
        assertTrue(z > 1.96 && z < 3.0, "z " + z);
        assertFalse(ErrorRule.fails(30, 1000, 15, 1000, GateSettings.DEFAULTS, false));
        assertTrue(ErrorRule.fails(30, 1000, 15, 1000, GateSettings.DEFAULTS, true));
    }

    @Test
    void noErrorsOnEitherSide_isZeroZ() {
        assertEquals(0.0, ErrorRule.z(0, 500, 0, 500));
    }

    @Test
    void wilsonUpperBound_ofAllAgreeing_isOne() {
        assertEquals(1.0, ErrorRule.wilsonUpper(100, 100, 1.96), 1e-9);
        assertTrue(ErrorRule.wilsonUpper(0, 100, 1.96) < 0.04);
    }
}
