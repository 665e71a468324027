package dev.gantry.http.auth;

import dev.gantry.core.access.Role;
import java.util.EnumSet;
import java.util.Set;

/** The groups of routes that access rules are written for; the README's access table lists the same. */
public enum RouteGroup {
    /** POST .../infer */
    INFERENCE(EnumSet.of(Role.INVOKE, Role.ADMIN), true),
    /** GET /v2/models/{m}[...] metadata and readiness */
    METADATA(EnumSet.of(Role.INVOKE, Role.DEPLOY, Role.APPROVE, Role.ADMIN), true),
    /** GET /v2, /v2/health/* */
    HEALTH(EnumSet.allOf(Role.class), false),
    /** GET /metrics */
    METRICS(EnumSet.allOf(Role.class), false),
    /** Reading deployments, traffic, history, catalogue and audit under /admin/v1 */
    ADMIN_READ(EnumSet.of(Role.INVOKE, Role.DEPLOY, Role.APPROVE, Role.ADMIN), true),
    /** Changing deployments under /admin/v1: upload, load, unload, traffic, rollback */
    DEPLOY(EnumSet.of(Role.DEPLOY, Role.ADMIN), false),
    /** Approval decisions under /admin/v1 */
    APPROVAL(EnumSet.of(Role.APPROVE, Role.ADMIN), false),
    /** /admin/v1/keys */
    KEYS(EnumSet.of(Role.ADMIN), false);

    private final Set<Role> allowed;
    private final boolean invokeScoped;

    RouteGroup(Set<Role> allowed, boolean invokeScoped) {
        this.allowed = allowed;
        this.invokeScoped = invokeScoped;
    }

    public Set<Role> allowed() {
        return allowed;
    }

    /** Whether a key that holds only {@code invoke} is limited here to its listed models. */
    public boolean invokeScoped() {
        return invokeScoped;
    }
}
