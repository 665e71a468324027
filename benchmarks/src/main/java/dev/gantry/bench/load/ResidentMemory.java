package dev.gantry.bench.load;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalLong;

/**
 * Resident memory (VmRSS of {@code /proc/<pid>/status}) of each arm's server process, read once after its JVM
 * warm-up and once after its last workload, before it is stopped.
 */
final class ResidentMemory {
    private final Map<String, Long> afterWarmup = new LinkedHashMap<>();
    private final Map<String, Long> afterRun = new LinkedHashMap<>();

    /** Records {@code pid}'s resident memory as {@code arm}'s after warm-up, unless one is recorded already. */
    void afterWarmup(String arm, long pid) {
        rssKib(pid).ifPresent(k -> afterWarmup.putIfAbsent(arm, k));
    }

    void afterRun(String arm, long pid) {
        rssKib(pid).ifPresent(k -> afterRun.put(arm, k));
    }

    /** Records readings taken elsewhere (tests, reports rebuilt from a CSV). */
    void record(String arm, long afterWarmupKib, long afterRunKib) {
        afterWarmup.put(arm, afterWarmupKib);
        afterRun.put(arm, afterRunKib);
    }

    OptionalLong afterWarmupKib(String arm) {
        Long k = afterWarmup.get(arm);
        return k == null ? OptionalLong.empty() : OptionalLong.of(k);
    }

    OptionalLong afterRunKib(String arm) {
        Long k = afterRun.get(arm);
        return k == null ? OptionalLong.empty() : OptionalLong.of(k);
    }

    /** "812" (MB), or "" when not measured. */
    String afterWarmupMb(String arm) {
        return mb(afterWarmupKib(arm));
    }

    String afterRunMb(String arm) {
        return mb(afterRunKib(arm));
    }

    private static String mb(OptionalLong kib) {
        return kib.isPresent() ? Long.toString(Math.round(kib.getAsLong() / 1024.0)) : "";
    }

    /** VmRSS of {@code pid} in KiB, or empty where /proc is missing or the process is gone. */
    static OptionalLong rssKib(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith("VmRSS:")) {
                    return OptionalLong.of(Long.parseLong(line.substring(6).trim().split("\\s+")[0]));
                }
            }
        } catch (IOException | RuntimeException e) {
            return OptionalLong.empty();
        }
        return OptionalLong.empty();
    }
}
