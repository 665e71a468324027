package dev.gantry.http.sizing;

import com.sun.management.HotSpotDiagnosticMXBean;

import java.lang.management.ManagementFactory;
import java.util.OptionalLong;

/**
 * Whether this JVM gives the C heap's free memory back to the kernel periodically
 * ({@code -XX:TrimNativeHeapInterval}, which {@link MachineDefaults#nativeTrimOptions(int)} explains).
 *
 * @param intervalMillis the JVM's trim interval, 0 when it does not trim; empty when this JVM has no such option
 */
public record NativeTrim(OptionalLong intervalMillis) {
    private static final String OPTION = "TrimNativeHeapInterval";

    /** What this JVM runs with. */
    public static NativeTrim current() {
        try {
            HotSpotDiagnosticMXBean hotspot = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
            return new NativeTrim(OptionalLong.of(Long.parseLong(hotspot.getVMOption(OPTION).getValue())));
        } catch (IllegalArgumentException | NullPointerException e) {
            // no such option (JDK 21 before its backport, or not HotSpot)
            return new NativeTrim(OptionalLong.empty());
        }
    }

    /** The interval the launcher sets, in ms. */
    static long derivedMillis() {
        return Long.parseLong(MachineDefaults.NATIVE_TRIM.substring(MachineDefaults.NATIVE_TRIM.indexOf('=') + 1));
    }

    /** Whether the JVM trims at another interval than the launcher's (or not at all). */
    public boolean overridden() {
        return intervalMillis.isEmpty() || intervalMillis.getAsLong() != derivedMillis();
    }

    /** For the start-up line: how often the C heap is trimmed, and when not as the launcher does, how to. */
    public String describe() {
        if (intervalMillis.isEmpty()) {
            return "C heap not trimmed periodically (this JVM has no -XX:" + OPTION + "; JDK 22 or later has)";
        }
        long ms = intervalMillis.getAsLong();
        if (ms == 0) {
            return "C heap not trimmed periodically (" + MachineDefaults.NATIVE_TRIM + " would, as ./gantry does)";
        }
        return "C heap trimmed every " + ms + " ms" + (overridden() ? " (set; the launcher's is " + derivedMillis()
                + " ms)" : "");
    }
}
