package dev.gantry.http.sizing;

import io.netty.util.internal.PlatformDependent;

/**
 * How Netty reads and writes the socket buffers in this JVM: through {@code sun.misc.Unsafe}, or through the JDK's
 * checked {@code ByteBuffer} accessors, which cost the event loop more per request
 * ({@link MachineDefaults#memoryAccessOptions(int)} says how much, and when the launcher allows Unsafe).
 *
 * @param unsafe whether Netty uses {@code sun.misc.Unsafe}
 * @param reason why it does not, as Netty gives it; null when it does
 */
public record BufferAccess(boolean unsafe, String reason) {

    /** What Netty decided in this JVM. */
    public static BufferAccess current() {
        if (PlatformDependent.hasUnsafe()) {
            return new BufferAccess(true, null);
        }
        Throwable cause = PlatformDependent.getUnsafeUnavailabilityCause();
        return new BufferAccess(false, cause == null ? "unknown reason"
                : cause.getMessage() != null ? cause.getMessage() : cause.toString());
    }

    /** For the start-up line: which access, and when it is the slower one, why and how to change it. */
    public String describe() {
        if (unsafe) {
            return "Netty buffers through sun.misc.Unsafe";
        }
        return "Netty buffers through checked ByteBuffer access (" + reason + "; on JDK 23 or later "
                + MachineDefaults.UNSAFE_MEMORY_ACCESS + " allows Unsafe, as ./gantry does)";
    }
}
