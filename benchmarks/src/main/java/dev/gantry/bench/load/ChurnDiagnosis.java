package dev.gantry.bench.load;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * What {@code ChurnBenchmark --diagnose} records about the server to tell Java heap, JVM-native and other
 * native memory apart: {@code jcmd} outputs (heap after a full GC, Native Memory Tracking when the server runs
 * with {@code -XX:NativeMemoryTracking=summary}), thread count, and the resident memory of glibc's main heap
 * ({@code [heap]}) and of the other anonymous mappings, before and after {@code System.trim_native_heap}
 * (glibc {@code malloc_trim}).
 */
final class ChurnDiagnosis {
    private ChurnDiagnosis() {
    }

    /** A labelled section: thread count, mapping summary, heap after GC and NMT summary. */
    static String snapshot(long pid, String label) throws IOException, InterruptedException {
        StringBuilder sb = new StringBuilder("===== " + label + " =====\n");
        sb.append(status(pid, "VmRSS")).append(status(pid, "Threads")).append(mappings(pid));
        sb.append(jcmd(pid, "GC.run")).append(jcmd(pid, "GC.heap_info"));
        sb.append(String.format(Locale.ROOT, "VmRSS after a full GC: %s%n", status(pid, "VmRSS").trim()));
        String nmt = jcmd(pid, "VM.native_memory", "summary");
        if (!nmt.contains("not enabled")) {
            sb.append(nmt);
        }
        return sb.append('\n').toString();
    }

    /** RSS and the mapping summary before and after {@code jcmd System.trim_native_heap}. */
    static String trim(long pid) throws IOException, InterruptedException {
        StringBuilder sb = new StringBuilder("===== malloc_trim after the last cycle =====\nbefore: ");
        sb.append(status(pid, "VmRSS")).append(mappings(pid));
        sb.append(jcmd(pid, "System.trim_native_heap"));
        sb.append("after: ").append(status(pid, "VmRSS")).append(mappings(pid));
        return sb.append('\n').toString();
    }

    private static String status(long pid, String key) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
            if (line.startsWith(key + ":")) {
                return line.replaceAll("\\s+", " ") + "\n";
            }
        }
        return key + ": ?\n";
    }

    /** Resident KiB of [heap] (glibc's main arena), of anonymous mappings, and of everything else. */
    private static String mappings(long pid) throws IOException {
        long heap = 0;
        long anon = 0;
        long other = 0;
        int anonCount = 0;
        String name = null;
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "smaps"))) {
            String[] f = line.trim().split("\\s+");
            if (f.length >= 5 && f[0].matches("[0-9a-f]+-[0-9a-f]+")) {
                name = f.length >= 6 ? f[5] : "";
                if (name.isEmpty()) {
                    anonCount++;
                }
            } else if (line.startsWith("Rss:") && name != null) {
                long kib = Long.parseLong(f[1]);
                if (name.equals("[heap]")) {
                    heap += kib;
                } else if (name.isEmpty()) {
                    anon += kib;
                } else {
                    other += kib;
                }
            }
        }
        return String.format(Locale.ROOT, "resident: [heap] %d MiB, anonymous %d MiB in %d mappings (Java heap"
                + " included), file-backed and other %d MiB%n", heap / 1024, anon / 1024, anonCount, other / 1024);
    }

    private static String jcmd(long pid, String... command) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
                Long.toString(pid)));
        cmd.addAll(List.of(command));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        p.waitFor(60, TimeUnit.SECONDS);
        return "$ jcmd " + String.join(" ", command) + "\n" + new String(out, StandardCharsets.UTF_8);
    }
}
