package dev.gantry.core.routing;

/**
 * How deployments keep versions and history.
 *
 * @param standbyCount versions that left all routes to keep loaded as warm standby, most recent first
 * @param historyLimit policy revisions kept per model (older ones cannot be rolled back to)
 */
public record DeploymentSettings(int standbyCount, int historyLimit) {
    public DeploymentSettings {
        if (standbyCount < 0) {
            throw new IllegalArgumentException("standbyCount must be >= 0, was " + standbyCount);
        }
        if (historyLimit < 2) {
            throw new IllegalArgumentException("historyLimit must be >= 2, was " + historyLimit);
        }
    }

    public static DeploymentSettings defaults() {
        return new DeploymentSettings(1, 100);
    }
}
