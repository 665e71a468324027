package dev.gantry.store.deployment;

/** A deployment record could not be read or written; the message names the file and what went wrong. */
public class DeploymentStoreException extends RuntimeException {
    public DeploymentStoreException(String message, Throwable cause) {
        super(message, cause);
    }

    public DeploymentStoreException(String message) {
        super(message);
    }
}
