package dev.gantry.core.replica;

import java.net.InetAddress;
import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * The name of one server process among those sharing a catalogue: its host name and a random part, so two
 * processes on one host (or one host restarted) never share it. Stable for the process's life.
 */
public final class ReplicaId {
    private static final int MAX_HOST = 100;

    private ReplicaId() {
    }

    /** A new id, {@code <host>-<12 hex digits>}; the host from $HOSTNAME (set in containers), else the system's. */
    public static String create() {
        byte[] random = new byte[6];
        new SecureRandom().nextBytes(random);
        return host() + "-" + HexFormat.of().formatHex(random);
    }

    private static String host() {
        String h = System.getenv("HOSTNAME");
        if (h == null || h.isBlank()) {
            try {
                h = InetAddress.getLocalHost().getHostName();
            } catch (java.io.IOException | RuntimeException e) {
                h = "gantry";
            }
        }
        String clean = h.replaceAll("[^A-Za-z0-9._-]", "_");
        return clean.isEmpty() ? "gantry" : clean.substring(0, Math.min(MAX_HOST, clean.length()));
    }
}
