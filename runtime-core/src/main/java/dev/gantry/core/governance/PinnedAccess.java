package dev.gantry.core.governance;

/** Which versions a caller may reach by pinning one: released ones only, or also those awaiting approval. */
public enum PinnedAccess {
    /** APPROVED versions, and DEPRECATED ones before their sunset: what a plain invoke key may call. */
    RELEASED_ONLY,
    /** Also VALIDATED and PENDING_APPROVAL versions, to test them before approval: deploy, approve and admin keys. */
    PRE_RELEASE
}
