package dev.gantry.http.sizing;

import dev.gantry.core.engine.ExecutionSettings;
import dev.gantry.core.engine.OrtMemory;

import java.util.Locale;

/**
 * The thread pools and heap Gantry derives from the machine when no flag sets them: one pure function from the
 * core count and memory, so the README's table for other machines is computed by the same code (a test checks it).
 *
 * @param cores the cores the values were derived for
 * @param memoryBytes the memory the values were derived for
 * @param eventLoops Vert.x event loops serving HTTP and gRPC ({@code --event-loops})
 * @param workerThreads the named worker pool for blocking work: large bodies, metrics scrape, admin writes
 *     ({@code --worker-threads})
 * @param intraOpThreads ORT intra-op threads per model instance ({@code --intra-op-threads})
 * @param interOpThreads ORT inter-op threads per model instance ({@code --inter-op-threads})
 * @param heapBytes the maximum heap the launcher and the Docker image give the JVM ({@code -Xmx})
 */
public record MachineDefaults(int cores, long memoryBytes, int eventLoops, int workerThreads, int intraOpThreads,
                              int interOpThreads, long heapBytes) {
    /*
     * Why these shares (measured on the 2-core development machine; README "Performance", tuning notes):
     * - Event loops: half the cores. Each request costs the event loop far more than a small model's execution
     *   (JFR: 90% event loop, under 9% ORT on the MLP), but the other half must stay free for the scheduler
     *   threads and ORT. One on 1-3 cores, where the second core belongs to the model.
     * - Worker threads: half the cores, at least 2. Bodies over 256 KB are parsed there, so on a large host they
     *   scale with the event loops that hand them over.
     * - Intra-op threads: a quarter of the cores, 1 to 8. They are per model instance: several models (or
     *   instances) each get a pool, and with dynamic batching one execution at a time per instance keeps them
     *   busy. On 2 cores more threads fought the event loop and made the batched MLP slower; above 8, ORT's
     *   parallel speed-up on typical serving models flattens while every thread adds to the oversubscription.
     * - Inter-op threads: 1 on every machine. They only run independent graph nodes in parallel, which needs
     *   ORT's parallel execution mode; Gantry runs graphs sequentially, where a second inter-op pool adds nothing.
     * - Heap: 256 MB plus 128 MB per core, never more than 4 GB or a quarter of the memory, never less than 256 MB.
     *   The live set is small (model weights live in ORT's native memory, not the heap); what grows with load is
     *   garbage from request bodies, which scales with the cores serving them. Left to itself, G1 grows the heap
     *   toward a quarter of the machine under load (1.7-1.9 GB resident on the development machine against
     *   0.8 GB for the direct-call yardstick).
     */
    static final long MB = 1L << 20;
    static final long HEAP_BASE = 256 * MB;
    static final long HEAP_PER_CORE = 128 * MB;
    static final long HEAP_CEILING = 4096 * MB;
    static final long HEAP_FLOOR = 256 * MB;

    public MachineDefaults {
        if (cores < 1) {
            throw new IllegalArgumentException("cores must be >= 1, was " + cores);
        }
    }

    /** The defaults for a machine with {@code cores} cores and {@code memoryBytes} of memory. */
    public static MachineDefaults derive(int cores, long memoryBytes) {
        if (cores < 1) {
            throw new IllegalArgumentException("cores must be >= 1, was " + cores);
        }
        int eventLoops = Math.max(1, cores / 2);
        int workers = Math.max(2, cores / 2);
        int intraOp = Math.clamp(cores / 4, 1, 8);
        long heap = Math.max(HEAP_FLOOR, Math.min(Math.min(HEAP_BASE + HEAP_PER_CORE * cores, HEAP_CEILING),
                memoryBytes / 4));
        return new MachineDefaults(cores, memoryBytes, eventLoops, workers, intraOp, 1, heap);
    }

    /**
     * How ORT keeps tensor memory between runs ({@code --ort-memory}): the same on every machine,
     * {@link ExecutionSettings#DEFAULT_MEMORY} (measured in benchmarks/results/memory-20261130.md).
     */
    public OrtMemory ortMemory() {
        return ExecutionSettings.DEFAULT_MEMORY;
    }

    /** The defaults for {@code machine}. */
    public static MachineDefaults of(Machine machine) {
        return derive(machine.cores(), machine.memoryBytes());
    }

    public long heapMegabytes() {
        return heapBytes / MB;
    }

    /**
     * JIT options the launcher, the Docker image and the load benchmark give the server's JVM on every machine.
     *
     * <p>{@code -XX:InlineSmallCode=1000} (the JDK's default before JDK 14): an already compiled method is inlined
     * only when its code is under 1,000 bytes instead of 2,500. HotSpot throws a compiled method away when a
     * request takes a path its profile never saw (an admin call after minutes of inference only, the first
     * requests of a version that just got traffic), and recompiles it. With the larger limit the request path is a
     * few giant compiled methods (DynamicBatchScheduler.run 65-75 kB, a Vert.x completion 47 kB; JFR), each
     * 0.5-1.3 s of C2 time that, on a one-core server, is taken from serving. Measured on the classifier,
     * server pinned to one core, 2-s windows after the first admin call (benchmarks/results/jit-inlining-20261130.txt):
     * 0.52x and 0.35x of steady throughput at 2,500, 0.76x and 0.52x at 1,000; steady throughput unchanged
     * (classifier 0.98x, MLP 1.04x, alternating windows, within noise). GANTRY_JAVA_OPTS / JAVA_OPTS come later
     * on the command line and override it.
     */
    public static final java.util.List<String> JIT_OPTIONS = java.util.List.of("-XX:InlineSmallCode=1000");

    /** The JVM option that lets Netty read and write its buffers through {@code sun.misc.Unsafe}. */
    public static final String UNSAFE_MEMORY_ACCESS = "--sun-misc-unsafe-memory-access=allow";

    /**
     * The memory-access option the launcher and the load benchmark give the server's JVM on a JDK of feature
     * release {@code javaFeature}: {@link #UNSAFE_MEMORY_ACCESS} on JDK 23 and later (the release that added the
     * option; JDK 21 and 22 refuse it as unknown and need nothing), none before. The launcher asks the JVM itself
     * whether it accepts the option, so a JDK that one day drops it still starts.
     *
     * <p>Why: on JDK 24 and later Netty stops using {@code sun.misc.Unsafe} unless the JVM allows it explicitly
     * (JDK 24 warns on its first use), and then reads every socket buffer through the JDK's checked
     * {@code ByteBuffer} accessors. JFR under MLP load on JDK 25 put 6-7% of the event loop's samples in those
     * accessors (the HTTP decoder's byte-by-byte search for line ends, the scoped-memory check behind each read).
     * Allowing it, same build, alternating windows, server on one core: 1.047x the requests at 16 connections at
     * 0.957x the server's CPU per request (benchmarks/results/unsafe-memory-access-20261201.txt). JEP 471 plans
     * later JDKs to deny the access by default, then to remove the methods; {@code -Dio.netty.noUnsafe=true} or
     * {@code --sun-misc-unsafe-memory-access=warn} later on the command line (GANTRY_JAVA_OPTS) turns it off, and the
     * start-up line and {@code GET /admin/v1/server} say which access Netty uses ({@link BufferAccess}).
     */
    public static java.util.List<String> memoryAccessOptions(int javaFeature) {
        return javaFeature >= 23 ? java.util.List.of(UNSAFE_MEMORY_ACCESS) : java.util.List.of();
    }

    /** The JVM option that has the JVM give the C heap's free memory back to the kernel every 30 s. */
    public static final String NATIVE_TRIM = "-XX:TrimNativeHeapInterval=30000";

    /**
     * The C-heap option the launcher, the Docker image and the load benchmark give the server's JVM on a JDK of
     * feature release {@code javaFeature}: {@link #NATIVE_TRIM} on JDK 22 and later, where it is a product option
     * (some JDK 21 updates have it as well; the launcher and the image ask the JVM itself whether it accepts it).
     *
     * <p>Why: ONNX Runtime, Netty's direct buffers and the answer-body pool allocate with glibc's malloc, and glibc
     * keeps what they free in its heaps instead of returning it. Large blocks coming and going also raise its mmap
     * threshold, so later blocks of several MB come from those heaps too. After the standard run's workloads (the
     * gantry-batching arm alone, closed loop, same build) the server kept 871, 923 and 981 MB resident without the
     * option, 755, 797 and 813 MB trimming every 5 s, 788 MB every 30 s; the direct-call yardstick 671 MB without, 635
     * MB with 5 s. Each trim is the JVM's own {@code malloc_trim} on a thread of its own, 2-25 ms (the unload log's
     * figures).
     *
     * <p>Why 30 s: trimming every 5 s cost nothing measurable at 16 and 64 connections (MLP 1.061x, MiniLM s16 1.035x,
     * 600 KB JSON 1.024x and 1.027x, alternating windows), but at one connection read 0.935-0.948x (MLP, two pairs) and
     * 0.942x (MiniLM s16) at 3-7% more CPU per request, a cost or noise this machine could not tell apart. Every 30 s
     * does a sixth of the trims (its one-connection pair was too noisy to read) and ended its run at 788 MB. Fixing
     * glibc's mmap threshold at 128 KB instead ({@code MALLOC_MMAP_THRESHOLD_=131072}) kept 731-749 MB but ran the 600
     * KB JSON workload at 0.94-0.97x at 1.04-1.07x the CPU per request. Figures:
     * benchmarks/results/native-trim-20261202.txt. A later {@code -XX:TrimNativeHeapInterval=0} in GANTRY_JAVA_OPTS /
     * JAVA_OPTS turns it off; the start-up line and {@code GET /admin/v1/server} say whether the server trims ({@link
     * NativeTrim}).
     */
    public static java.util.List<String> nativeTrimOptions(int javaFeature) {
        return javaFeature >= 22 ? java.util.List.of(NATIVE_TRIM) : java.util.List.of();
    }

    /**
     * The options {@code ./gantry jvm-options} prints for a JDK of feature release {@code javaFeature}: native
     * access for ORT's and Netty's libraries, {@link #JIT_OPTIONS}, {@link #memoryAccessOptions},
     * {@link #nativeTrimOptions}. The launcher and the load benchmark give them to every server JVM, before the heap
     * and GANTRY_JAVA_OPTS.
     */
    public static java.util.List<String> launcherOptions(int javaFeature) {
        java.util.List<String> options = new java.util.ArrayList<>();
        options.add("--enable-native-access=ALL-UNNAMED");
        options.addAll(JIT_OPTIONS);
        options.addAll(memoryAccessOptions(javaFeature));
        options.addAll(nativeTrimOptions(javaFeature));
        return java.util.List.copyOf(options);
    }

    /** The JVM option that sets the derived heap, e.g. {@code -Xmx512m}. */
    public String heapOption() {
        return "-Xmx" + heapMegabytes() + "m";
    }

    /**
     * Prints the derived heap option for this machine ({@code -Xmx512m}), for the launcher and the Docker image
     * to pass to the server's JVM. Needs nothing but the JDK.
     */
    public static void main(String[] args) {
        System.out.println(of(Machine.current()).heapOption());
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "event loops %d, worker threads %d, ORT intra-op threads %d, inter-op "
                + "threads %d, heap %d MB, ORT memory %s", eventLoops, workerThreads, intraOpThreads, interOpThreads,
                heapMegabytes(), ortMemory().label());
    }
}
