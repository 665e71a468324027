package dev.gantry.core.journal;

import dev.gantry.core.inference.Tensor;
import dev.gantry.core.model.ModelId;
import dev.gantry.core.model.ModelSignature;
import dev.gantry.core.scheduling.ExecutionPhases;
import dev.gantry.core.scheduling.ModelExecutor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** The crash journal in a memory-mapped file. */
final class MappedCrashJournal implements CrashJournal {
    /*
     * Layout (little-endian):
     *   0   int magic, int layout version
     *   8   long pid of the process that owns the journal
     *   64  SLOTS longs: slot i belongs to one executing thread; 0 while it is not in a model, else the index
     *       of the version it is executing, plus one
     *   NAMES_AT  NAMES entries of ENTRY bytes: [byte length][model name, at most 128 ASCII bytes][long version]
     *
     * The cost on the hot path is two plain 8-byte stores into the mapping per execution. Stores into a shared
     * mapping are in the kernel's page cache as soon as they are made, so they survive the death of the process
     * by any signal without msync (not a power cut, which is not what this is for). A version's name is written
     * once, when it is first watched. Slots are claimed by threads on their first execution and handed to
     * another thread once their owner has died (schedulers start and stop their threads with the versions).
     */
    private static final Logger log = LoggerFactory.getLogger(MappedCrashJournal.class);
    private static final int MAGIC = 0x4e524a47; // "GJRN"
    private static final int LAYOUT = 1;
    private static final int SLOTS = 1024;
    private static final int SLOTS_AT = 64;
    private static final int NAMES = 4096;
    private static final int NAMES_AT = SLOTS_AT + SLOTS * 8;
    private static final int ENTRY = 144;
    private static final int VERSION_AT = 136;
    private static final int SIZE = NAMES_AT + NAMES * ENTRY;

    private final MappedByteBuffer map;
    private final List<ExecutingAtExit> previous;
    private final Map<ModelId, Integer> indexes = new HashMap<>();
    private final Thread[] owners = new Thread[SLOTS];
    private final ThreadLocal<Integer> slot = new ThreadLocal<>();
    private boolean warnedFull;

    private MappedCrashJournal(MappedByteBuffer map, List<ExecutingAtExit> previous) {
        this.map = map;
        this.previous = previous;
    }

    static MappedCrashJournal open(Path dataDir) {
        Path file = dataDir.resolve("crash-journal");
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE)) {
            boolean existed = ch.size() >= SIZE;
            MappedByteBuffer map = ch.map(FileChannel.MapMode.READ_WRITE, 0, SIZE);
            map.order(ByteOrder.LITTLE_ENDIAN);
            List<ExecutingAtExit> previous = existed ? readPrevious(map, dataDir) : List.of();
            for (int i = 0; i < NAMES_AT; i += 8) {
                map.putLong(i, 0);
            }
            map.putInt(0, MAGIC);
            map.putInt(4, LAYOUT);
            map.putLong(8, ProcessHandle.current().pid());
            map.force();
            return new MappedCrashJournal(map, List.copyOf(previous));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open the crash journal " + file + ": " + e.getMessage(), e);
        }
    }

    private static List<ExecutingAtExit> readPrevious(MappedByteBuffer map, Path dataDir) {
        if (map.getInt(0) != MAGIC || map.getInt(4) != LAYOUT) {
            return List.of();
        }
        long pid = map.getLong(8);
        List<ModelId> executing = new ArrayList<>();
        for (int i = 0; i < SLOTS; i++) {
            long v = map.getLong(SLOTS_AT + i * 8);
            if (v > 0 && v <= NAMES) {
                name(map, (int) v - 1).ifPresent(executing::add);
            }
        }
        if (executing.isEmpty()) {
            return List.of();
        }
        Optional<CrashReports.Fatal> report = CrashReports.find(dataDir, pid).map(CrashReports::read);
        return executing.stream().distinct().map(id -> new ExecutingAtExit(id, pid, report)).toList();
    }

    private static Optional<ModelId> name(MappedByteBuffer map, int index) {
        int at = NAMES_AT + index * ENTRY;
        int length = Byte.toUnsignedInt(map.get(at));
        long version = map.getLong(at + VERSION_AT);
        if (length == 0 || length > VERSION_AT - 1 || version < 1) {
            return Optional.empty();
        }
        byte[] name = new byte[length];
        map.get(at + 1, name);
        return Optional.of(new ModelId(new String(name, StandardCharsets.US_ASCII), version));
    }

    @Override
    public List<ExecutingAtExit> previousRun() {
        return previous;
    }

    @Override
    public ModelExecutor watch(ModelId version, ModelExecutor executor) {
        long value = register(version) + 1L;
        return new ModelExecutor() {
            @Override
            public ModelSignature signature() {
                return executor.signature();
            }

            @Override
            public List<Tensor> run(List<Tensor> inputs, Set<String> outputs) {
                return run(inputs, outputs, new ExecutionPhases());
            }

            @Override
            public List<Tensor> run(List<Tensor> inputs, Set<String> outputs, ExecutionPhases phases) {
                int s = slot();
                if (value <= 0 || s < 0) {
                    return executor.run(inputs, outputs, phases);
                }
                map.putLong(SLOTS_AT + s * 8, value);
                try {
                    return executor.run(inputs, outputs, phases);
                } finally {
                    map.putLong(SLOTS_AT + s * 8, 0);
                }
            }

            @Override
            public void attachThread() {
                slot();
                executor.attachThread();
            }

            @Override
            public void close() {
                executor.close();
            }
        };
    }

    /** The version's index in the name table, writing its entry the first time; -1 if the table is full. */
    private synchronized int register(ModelId version) {
        Integer known = indexes.get(version);
        if (known != null) {
            return known;
        }
        byte[] name = version.name().getBytes(StandardCharsets.US_ASCII);
        int index = indexes.size();
        if (index >= NAMES || name.length > VERSION_AT - 1) {
            if (!warnedFull) {
                warnedFull = true;
                log.warn("crash journal: cannot record {} (name table full or name too long); a crash while it"
                        + " executes will not be attributed to it", version);
            }
            return -1;
        }
        int at = NAMES_AT + index * ENTRY;
        map.put(at + 1, name);
        map.putLong(at + VERSION_AT, version.version());
        map.put(at, (byte) name.length);
        indexes.put(version, index);
        return index;
    }

    /** This thread's slot, claimed on first use; -1 when every slot belongs to a live thread. */
    private int slot() {
        Integer s = slot.get();
        if (s != null) {
            return s;
        }
        int claimed = claim(Thread.currentThread());
        slot.set(claimed);
        return claimed;
    }

    private synchronized int claim(Thread thread) {
        for (int i = 0; i < SLOTS; i++) {
            if (owners[i] == null || !owners[i].isAlive()) {
                owners[i] = thread;
                return i;
            }
        }
        return -1;
    }

    @Override
    public void close() {
        for (int i = 0; i < SLOTS; i++) {
            map.putLong(SLOTS_AT + i * 8, 0);
        }
        map.force();
    }
}
