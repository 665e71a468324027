package dev.gantry.core.model;

/** Where a model version is in its life: the states Triton reports, with the same meaning. */
public enum ModelReadyState {
    UNKNOWN,
    LOADING,
    READY,
    UNLOADING,
    UNAVAILABLE
}
