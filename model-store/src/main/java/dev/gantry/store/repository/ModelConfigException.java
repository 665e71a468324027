package dev.gantry.store.repository;

/** A model configuration that cannot be read or is invalid; the message names the file, the field and the bad value. */
public final class ModelConfigException extends Exception {
    private static final long serialVersionUID = 1L;

    public ModelConfigException(String message) {
        super(message);
    }

    public ModelConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
