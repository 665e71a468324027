package dev.gantry.http.auth;

import dev.gantry.core.access.Actor;
import dev.gantry.core.audit.AuditTrail;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;

/**
 * Audits key changes made with {@code gantry keys} (another process editing the key file) when the server
 * rereads the file: creations, rotations and revocations, by the local operator.
 */
public final class KeyFileAuditor {
    private static final Logger log = LoggerFactory.getLogger(KeyFileAuditor.class);

    private KeyFileAuditor() {
    }

    /** Audits every change {@code keys} reads from its file from now on. */
    public static void watch(KeyStore keys, AuditTrail audit) {
        keys.onFileChange((before, after) -> record(audit, before, after));
    }

    static void record(AuditTrail audit, Map<String, ApiKey> before, Map<String, ApiKey> after) {
        for (ApiKey k : after.values()) {
            ApiKey old = before.get(k.id());
            AuditTrail.Entry e = null;
            if (old == null) {
                e = new AuditTrail.Entry("key.create", "key:" + k.id(), "", k.name() + " " + k.roles());
            } else if (old.revoked().isEmpty() && k.revoked().isPresent()) {
                e = new AuditTrail.Entry("key.revoke", "key:" + k.id(), "active", "revoked");
            } else if (!old.secretSha256().equals(k.secretSha256())) {
                e = new AuditTrail.Entry("key.rotate", "key:" + k.id(), "", "new secret");
            }
            if (e == null) {
                continue;
            }
            try {
                audit.record(Actor.LOCAL_OPERATOR, e);
            } catch (RuntimeException failure) {
                // The change was made by another process and is in force; all that can be done is say so loudly.
                log.error("could not audit {} {} made with 'gantry keys'", e.action(), e.target(), failure);
            }
        }
    }
}
