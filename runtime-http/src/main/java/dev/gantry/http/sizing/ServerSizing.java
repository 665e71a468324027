package dev.gantry.http.sizing;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gantry.core.engine.OrtMemory;
import dev.gantry.http.json.Json;

import java.util.Locale;

/**
 * The pools and heap this server runs with next to what {@link MachineDefaults} derives for its machine: logged
 * in one line at start and answered read-only by {@code GET /admin/v1/server}.
 *
 * @param machine the cores and memory the values were derived from
 * @param derived what the machine gives when no flag is set
 * @param eventLoops the event loops in use
 * @param workerThreads the worker threads in use
 * @param intraOpThreads the server-wide ORT intra-op default in use (a model's config may set its own)
 * @param interOpThreads the server-wide ORT inter-op default in use
 * @param heapMaxBytes the JVM's maximum heap ({@link Runtime#maxMemory()})
 * @param ortMemory how ORT keeps tensor memory between runs ({@code --ort-memory})
 * @param transport the event loops' socket transport in use ({@code --transport})
 * @param buffers how Netty reads and writes socket buffers in this JVM (a JVM option, not a flag)
 * @param trim whether this JVM trims the C heap periodically (a JVM option, not a flag)
 */
public record ServerSizing(Machine machine, MachineDefaults derived, int eventLoops, int workerThreads,
                           int intraOpThreads, int interOpThreads, long heapMaxBytes, OrtMemory ortMemory,
                           NetworkTransport transport, BufferAccess buffers, NativeTrim trim) {

    /** As the canonical constructor, with this JVM's C heap trimming. */
    public ServerSizing(Machine machine, MachineDefaults derived, int eventLoops, int workerThreads,
                        int intraOpThreads, int interOpThreads, long heapMaxBytes, OrtMemory ortMemory,
                        NetworkTransport transport, BufferAccess buffers) {
        this(machine, derived, eventLoops, workerThreads, intraOpThreads, interOpThreads, heapMaxBytes, ortMemory,
                transport, buffers, NativeTrim.current());
    }

    /** The sizing of this JVM on this machine, with the given values in use. */
    public static ServerSizing of(int eventLoops, int workerThreads, int intraOpThreads, int interOpThreads,
                                  OrtMemory ortMemory, NetworkTransport transport) {
        Machine m = Machine.current();
        return new ServerSizing(m, MachineDefaults.of(m), eventLoops, workerThreads, intraOpThreads, interOpThreads,
                Runtime.getRuntime().maxMemory(), ortMemory, transport, BufferAccess.current(), NativeTrim.current());
    }

    /** One line for the start-up log; values set by a flag (or JVM option) say what they replaced. */
    public String describe() {
        return String.format(Locale.ROOT, "sizing for %s: event loops %s, worker threads %s, ORT intra-op threads "
                        + "%s, inter-op threads %s, max heap %s, ORT memory %s, transport %s (derived defaults; flags "
                        + "override: --event-loops, --worker-threads, --intra-op-threads, --inter-op-threads, -Xmx in "
                        + "GANTRY_JAVA_OPTS, --ort-memory, --transport); %s; %s",
                machine.describe(), value(eventLoops, derived.eventLoops()),
                value(workerThreads, derived.workerThreads()), value(intraOpThreads, derived.intraOpThreads()),
                value(interOpThreads, derived.interOpThreads()), heap(),
                ortMemory == derived.ortMemory() ? ortMemory.label()
                        : ortMemory.label() + " (set; derived " + derived.ortMemory().label() + ")",
                transport == NetworkTransport.derived() ? transport.label()
                        : transport.label() + " (set; derived " + NetworkTransport.derived().label() + ")",
                buffers.describe(), trim.describe());
    }

    private static String value(int used, int derived) {
        return used == derived ? Integer.toString(used) : used + " (set; derived " + derived + ")";
    }

    private String heap() {
        long used = heapMaxBytes / MachineDefaults.MB;
        long derivedMb = derived.heapMegabytes();
        /* The JVM reports a little less than -Xmx (one survivor space is not counted), so compare within 5%. */
        return Math.abs(used - derivedMb) <= derivedMb / 20 ? used + " MB"
                : used + " MB (set by JVM options; derived " + derivedMb + " MB)";
    }

    /** The JSON answered by {@code GET /admin/v1/server}. */
    public ObjectNode json() {
        ObjectNode root = Json.object();
        ObjectNode m = root.putObject("machine");
        m.put("cores", machine.cores());
        if (machine.cpuQuota().isPresent()) {
            m.put("cpu_quota", machine.cpuQuota().get());
        } else {
            m.putNull("cpu_quota");
        }
        m.put("memory_bytes", machine.memoryBytes());
        ObjectNode s = root.putObject("sizing");
        entry(s, "event_loops", eventLoops, derived.eventLoops());
        entry(s, "worker_threads", workerThreads, derived.workerThreads());
        entry(s, "intra_op_threads", intraOpThreads, derived.intraOpThreads());
        entry(s, "inter_op_threads", interOpThreads, derived.interOpThreads());
        ObjectNode memory = s.putObject("ort_memory");
        memory.put("value", ortMemory.label());
        memory.put("derived", derived.ortMemory().label());
        memory.put("overridden", ortMemory != derived.ortMemory());
        ObjectNode net = s.putObject("transport");
        net.put("value", transport.label());
        net.put("derived", NetworkTransport.derived().label());
        net.put("overridden", transport != NetworkTransport.derived());
        ObjectNode access = s.putObject("buffer_access");
        access.put("unsafe", buffers.unsafe());
        if (buffers.reason() == null) {
            access.putNull("reason");
        } else {
            access.put("reason", buffers.reason());
        }
        ObjectNode trimmed = s.putObject("native_trim_interval_ms");
        if (trim.intervalMillis().isPresent()) {
            trimmed.put("value", trim.intervalMillis().getAsLong());
        } else {
            trimmed.putNull("value");
        }
        trimmed.put("derived", NativeTrim.derivedMillis());
        trimmed.put("overridden", trim.overridden());
        ObjectNode heap = s.putObject("heap_max_bytes");
        heap.put("value", heapMaxBytes);
        heap.put("derived", derived.heapBytes());
        return root;
    }

    private static void entry(ObjectNode parent, String name, int value, int derived) {
        ObjectNode e = parent.putObject(name);
        e.put("value", value);
        e.put("derived", derived);
        e.put("overridden", value != derived);
    }
}
