package dev.gantry.core.engine;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.management.MBeanServer;
import javax.management.ObjectName;
import java.lang.management.ManagementFactory;
import java.util.Locale;

/** Gives the C heap's free memory back to the operating system after a model's native memory was freed. */
public final class NativeHeap {
    /*
     * Why: ONNX Runtime allocates a model's weights, prepacked kernels and arena chunks with malloc when a
     * session is created, and frees them when it closes. glibc keeps freed memory in its arenas (one per thread
     * that allocated, up to 8 x cores) instead of returning it, and a later load rarely reuses those holes
     * exactly, so resident memory crept up with every unload/load cycle: +12% to +24% after 60-100 cycles of
     * the MiniLM and the MLP, while the Java heap after GC, the JVM's own native memory (Native Memory
     * Tracking), the thread count and the loaded classes stayed flat, and one malloc_trim gave back ~100 MB
     * (benchmarks/results/churn-*.md). So after an unload the process trims the C heap, once: malloc_trim(0)
     * through the JVM's own diagnostic command (System.trim_native_heap, the same as `jcmd <pid>
     * System.trim_native_heap`), which needs no native code of ours. It is a no-op answering "not available"
     * where the C library has no malloc_trim (musl, macOS). It runs only on unload, never on a request path.
     */
    private static final Logger log = LoggerFactory.getLogger(NativeHeap.class);
    private static final String MBEAN = "com.sun.management:type=DiagnosticCommand";
    private static final String OPERATION = "systemTrimNativeHeap";

    private NativeHeap() {
    }

    /**
     * Trims the C heap (glibc {@code malloc_trim(0)}); returns the JVM's one-line account, e.g. {@code "Trim native
     * heap: RSS+Swap: 883M->785M (-100292K) in 4.1 ms"}, or why it could not.
     */
    public static String trim() {
        try {
            MBeanServer server = ManagementFactory.getPlatformMBeanServer();
            long start = System.nanoTime();
            Object answer = server.invoke(new ObjectName(MBEAN), OPERATION, new Object[] {new String[0]},
                    new String[] {String[].class.getName()});
            return String.format(Locale.ROOT, "%s in %.1f ms", String.valueOf(answer).trim(),
                    (System.nanoTime() - start) / 1e6);
        } catch (Exception | LinkageError e) {
            log.debug("could not trim the native heap", e);
            return "not trimmed: " + e;
        }
    }
}
