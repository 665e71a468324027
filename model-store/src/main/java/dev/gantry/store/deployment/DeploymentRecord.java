package dev.gantry.store.deployment;

import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * What survives a restart of one model's deployment: its policy history (oldest first), which revision is
 * current, and the versions kept loaded as warm standby (most recently served first).
 */
public record DeploymentRecord(String model, List<PolicyRevision> history, long currentRevision,
                               List<Long> standby) {
    public DeploymentRecord {
        Objects.requireNonNull(model, "model");
        history = List.copyOf(history);
        standby = List.copyOf(standby);
        if (history.isEmpty()) {
            throw new IllegalArgumentException("history of model '" + model + "' must not be empty");
        }
        for (int i = 1; i < history.size(); i++) {
            if (history.get(i).revision() <= history.get(i - 1).revision()) {
                throw new IllegalArgumentException("history[" + i + "].revision must be greater than "
                        + history.get(i - 1).revision() + ", was " + history.get(i).revision());
            }
        }
        long cur = currentRevision;
        if (history.stream().noneMatch(r -> r.revision() == cur)) {
            throw new IllegalArgumentException("currentRevision " + currentRevision + " is not in the history of model '"
                    + model + "'");
        }
        Set<Long> seen = new HashSet<>();
        for (Long v : standby) {
            if (v == null || v < 1 || !seen.add(v)) {
                throw new IllegalArgumentException("standby must hold distinct versions >= 1, was " + standby);
            }
        }
    }

    /** The current revision. */
    public PolicyRevision current() {
        return history.stream().filter(r -> r.revision() == currentRevision).findFirst().orElseThrow();
    }

    /** The highest revision number in the history (the next change gets one more). */
    public long latestRevision() {
        return history.get(history.size() - 1).revision();
    }
}
