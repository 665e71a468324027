package dev.gantry.core.rollout;

import java.util.List;
import java.util.Objects;
import java.util.OptionalLong;

/**
 * What a rollout does: the candidate version, the baseline it is compared with (default: the current primary),
 * the steps in order, and the gate thresholds. A last step of weight 100 stands for the promotion.
 */
public record RolloutPlan(long candidate, OptionalLong baseline, List<Step> steps, GateSettings gates) {
    public RolloutPlan {
        Objects.requireNonNull(baseline, "baseline");
        Objects.requireNonNull(gates, "gates");
        if (candidate < 1) {
            throw new IllegalArgumentException("candidate must be a version >= 1, was " + candidate);
        }
        if (baseline.isPresent() && baseline.getAsLong() < 1) {
            throw new IllegalArgumentException("baseline must be a version >= 1, was " + baseline.getAsLong());
        }
        if (baseline.isPresent() && baseline.getAsLong() == candidate) {
            throw new IllegalArgumentException("baseline must differ from candidate, both were " + candidate);
        }
        if (steps == null || steps.isEmpty() || steps.size() > 50) {
            throw new IllegalArgumentException("steps must hold 1 to 50 steps, was "
                    + (steps == null ? "missing" : steps.size()));
        }
        steps = List.copyOf(steps);
        for (int i = 0; i < steps.size(); i++) {
            if (steps.get(i).isPromotion() && i != steps.size() - 1) {
                throw new IllegalArgumentException("steps[" + i + "].weight 100 may only be the last step "
                        + "(it is the promotion)");
            }
        }
        if (analysedSteps(steps).isEmpty()) {
            throw new IllegalArgumentException("steps must hold at least one step below weight 100");
        }
    }

    /** The steps that are analysed: every step but a final weight-100 one. */
    public List<Step> analysed() {
        return analysedSteps(steps);
    }

    private static List<Step> analysedSteps(List<Step> steps) {
        return steps.stream().filter(s -> !s.isPromotion()).toList();
    }
}
