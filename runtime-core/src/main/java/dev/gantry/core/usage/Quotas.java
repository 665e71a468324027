package dev.gantry.core.usage;

import java.util.Map;

/**
 * Which quota each key has: by key id or key name (the id wins when both are listed), else the default
 * ({@link Quota#UNLIMITED} unless set).
 */
public record Quotas(Map<String, Quota> byKey, Quota defaultQuota) {
    public static final Quotas NONE = new Quotas(Map.of(), Quota.UNLIMITED);

    public Quotas {
        byKey = Map.copyOf(byKey);
    }

    public Quota of(String keyId, String keyName) {
        Quota q = byKey.get(keyId);
        if (q == null) {
            q = byKey.get(keyName);
        }
        return q == null ? defaultQuota : q;
    }

    /** Whether any key can be limited at all. */
    public boolean isEmpty() {
        return defaultQuota.isUnlimited() && byKey.values().stream().allMatch(Quota::isUnlimited);
    }
}
