package dev.gantry.store.catalog;

import java.nio.charset.StandardCharsets;
import java.time.Instant;

/** The audit hash chain: how an entry's hash is computed from the previous hash and its own fields. */
public final class AuditChain {
    /*
     * hash = hex(SHA-256(prevHash "\n" seq "\n" time "\n" then each of actor, role, action, target, before, after
     * as "<length>:<value>\n")). Length prefixes make the encoding unambiguous: no two different entries encode
     * to the same bytes however their fields are split. time is Instant.toString() of the stored value
     * (microsecond precision). The first entry's prevHash is GENESIS.
     *
     * Entries are keyed: from AuditKey.hmacFromSeq() on, the same text is hashed with HMAC-SHA256 under a key kept
     * outside the database, so whoever can edit the database cannot recompute the chain after an edit. Entries
     * before that seq (databases older than the key) keep their plain SHA-256.
     *
     * What the chain cannot show on its own: the newest entries being deleted (the chain that remains is
     * intact). Exporting the head hash elsewhere from time to time closes that gap.
     */
    public static final String GENESIS = "0".repeat(64);

    private AuditChain() {
    }

    public static String hash(String prevHash, long seq, Instant time, String actor, String role, String action,
                              String target, String before, String after) {
        return sha256(canonical(prevHash, seq, time, actor, role, action, target, before, after));
    }

    /** The text an entry's hash (plain or keyed) is computed over. */
    static String canonical(String prevHash, long seq, Instant time, String actor, String role, String action,
                            String target, String before, String after) {
        StringBuilder b = new StringBuilder(prevHash).append('\n').append(seq).append('\n').append(time).append('\n');
        for (String f : new String[] {actor, role, action, target, before, after}) {
            b.append(f.length()).append(':').append(f).append('\n');
        }
        return b.toString();
    }

    /** The entry's hash under {@code key}: HMAC-SHA256 from the key's first keyed seq on, plain SHA-256 before. */
    static String hash(AuditEntry e, AuditKey key) {
        return key.hash(e.prevHash(), e.seq(), e.time(), e.actor(), e.role(), e.action(), e.target(), e.before(),
                e.after());
    }

    static String hash(AuditEntry e) {
        return hash(e.prevHash(), e.seq(), e.time(), e.actor(), e.role(), e.action(), e.target(), e.before(),
                e.after());
    }

    public static String sha256(String text) {
        return dev.gantry.store.digest.Sha256.hex(text);
    }
}
