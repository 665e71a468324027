package dev.gantry.http.auth;

import dev.gantry.core.access.Actor;
import dev.gantry.core.audit.AuditTrail;
import dev.gantry.http.auth.AuditedKeyState.Known;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Audits key changes the server did not make itself: those made with {@code gantry keys} (another process
 * editing the key file) while it runs, when it rereads the file, and those made while it was stopped, found at
 * start by comparing the key file with the state it last audited ({@code keys.audited.json}). Creations,
 * rotations, revocations, removals and edits, by the local operator.
 */
public final class KeyFileAuditor {
    /*
     * keys.audited.json is written after each audited change: after the start-up diff, after each change read
     * from the file, and for changes made through the API (audited by their handler) once the key set has been
     * the same on two ticks of a one-second timer, which is long after their audit entry committed. A crash in
     * that second re-audits the change at the next start (a duplicate, never a gap). A state that could not be
     * audited is not written, so the next start tries again.
     */
    private static final Logger log = LoggerFactory.getLogger(KeyFileAuditor.class);

    private final KeyStore keys;
    private final AuditTrail audit;
    private final Path dataDir;
    /** The state in keys.audited.json; null until that file exists, so the first save always writes it. */
    private Map<String, Known> written;
    private Map<String, Known> seen;

    private KeyFileAuditor(KeyStore keys, AuditTrail audit, Path dataDir, Map<String, Known> written) {
        this.keys = keys;
        this.audit = audit;
        this.dataDir = dataDir;
        this.written = written;
        this.seen = written;
    }

    /** Audits every change {@code keys} reads from its file from now on (no offline diff; tests). */
    public static void watch(KeyStore keys, AuditTrail audit) {
        keys.onFileChange((before, after) -> record(audit, AuditedKeyState.of(before.values()),
                AuditedKeyState.of(after.values()), ""));
    }

    /**
     * Audits the changes made to the key file since the server last audited it (while it was stopped), then
     * every change read from the file (reread every 250 ms) from now on, and keeps {@code <dataDir>/keys.audited.json}
     * current.
     * Call before serving.
     */
    public static void watch(KeyStore keys, AuditTrail audit, Path dataDir, ScheduledExecutorService timers) {
        if (keys.isShared()) {
            return; // no key file: every change to a shared catalogue's keys is audited in its own transaction
        }
        timers.scheduleWithFixedDelay(keys::refreshIfChanged, 250, 250, java.util.concurrent.TimeUnit.MILLISECONDS);
        Map<String, Known> last;
        boolean existed;
        try {
            var read = AuditedKeyState.read(dataDir);
            existed = read.isPresent();
            last = read.orElse(Map.of());
        } catch (IOException | RuntimeException e) {
            log.error("cannot read {} ({}); every key is audited as found at start", AuditedKeyState.FILE,
                    e.toString());
            existed = false;
            last = Map.of();
        }
        KeyFileAuditor auditor = new KeyFileAuditor(keys, audit, dataDir, existed ? last : null);
        Map<String, Known> now = AuditedKeyState.of(keys.list());
        if (record(audit, last, now, "made while the server was stopped")) {
            auditor.save(now);
        }
        keys.onFileChange((before, after) -> {
            Map<String, Known> next = AuditedKeyState.of(after.values());
            if (record(audit, AuditedKeyState.of(before.values()), next, "")) {
                auditor.save(next);
            }
        });
        timers.scheduleWithFixedDelay(auditor::saveWhenSettled, 1, 1, TimeUnit.SECONDS);
    }

    private synchronized void save(Map<String, Known> state) {
        if (state.equals(written)) {
            return;
        }
        try {
            AuditedKeyState.write(dataDir, state);
            written = state;
        } catch (IOException | RuntimeException e) {
            log.error("cannot write {}: {}", dataDir.resolve(AuditedKeyState.FILE), e.toString());
        }
    }

    private synchronized void saveWhenSettled() {
        Map<String, Known> now = AuditedKeyState.of(keys.list());
        if (now.equals(seen)) {
            save(now);
        }
        seen = now;
    }

    /** Audits the differences; true when every entry was written. */
    static boolean record(AuditTrail audit, Map<String, Known> before, Map<String, Known> after, String note) {
        List<AuditTrail.Entry> entries = new ArrayList<>();
        String suffix = note.isEmpty() ? "" : " (" + note + ")";
        for (Known k : after.values()) {
            Known old = before.get(k.id());
            String target = "key:" + k.id();
            if (old == null) {
                entries.add(new AuditTrail.Entry("key.create", target, "", k.name() + " " + k.roles()
                        + (k.revoked() ? " revoked" : "") + suffix));
                continue;
            }
            if (!old.revoked() && k.revoked()) {
                entries.add(new AuditTrail.Entry("key.revoke", target, "active", "revoked" + suffix));
            }
            if (!old.secret().equals(k.secret())) {
                entries.add(new AuditTrail.Entry("key.rotate", target, "", "new secret" + suffix));
            }
            if (!old.name().equals(k.name()) || !old.roles().equals(k.roles()) || !old.models().equals(k.models())
                    || (old.revoked() && !k.revoked())) {
                entries.add(new AuditTrail.Entry("key.update", target, describe(old), describe(k) + suffix));
            }
        }
        for (String id : new TreeSet<>(before.keySet())) {
            if (!after.containsKey(id)) {
                entries.add(new AuditTrail.Entry("key.remove", "key:" + id, describe(before.get(id)),
                        "removed from the key file" + suffix));
            }
        }
        boolean all = true;
        for (AuditTrail.Entry e : entries) {
            try {
                audit.record(Actor.LOCAL_OPERATOR, e);
            } catch (RuntimeException failure) {
                // The change was made by another process and is in force; all that can be done is say so loudly.
                log.error("could not audit {} {} made with 'gantry keys'", e.action(), e.target(), failure);
                all = false;
            }
        }
        return all;
    }

    private static String describe(Known k) {
        return k.name() + " " + k.roles() + (k.models().equals("[]") ? "" : " models " + k.models())
                + (k.revoked() ? " revoked" : "");
    }
}
