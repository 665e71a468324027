package dev.gantry.core.sharedmemory;

import dev.gantry.core.error.ErrorCode;
import dev.gantry.core.error.GantryException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * Triton's system shared memory extension: POSIX shared-memory regions registered by name, read as inputs and
 * written as outputs instead of carrying tensor data in the request. Thread-safe.
 */
public final class SharedMemoryRegistry {
    /*
     * A region is a window [offset, offset + byteSize) of the POSIX shared-memory object `key` (on Linux the file
     * /dev/shm/<key without its leading slash>). It is mapped once, when registered, and every use is checked
     * against the window: an input or output names a region, an offset inside it and a size, and a use that
     * would reach past the window is refused before any byte is read or written.
     *
     * Ownership. Regions belong to whoever registered them (the API key's id; "anonymous" while the server has no
     * keys): another caller cannot see, use or unregister them, and may register the same name for its own.
     *
     * Unregistering drops the mapping; the JVM unmaps it when the last tensor that views it is gone (an
     * execution in flight keeps its view valid).
     */
    /** A shared-memory key: an optional leading slash, then a name without slashes (as shm_open takes it). */
    private static final Pattern KEY = Pattern.compile("/?[A-Za-z0-9._@+-]{1,250}");
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._@+-]{1,128}");

    private final Path root;
    private final Map<String, Map<String, Region>> byOwner = new ConcurrentHashMap<>();

    /** One registered region, as the status route shows it. */
    public record Status(String name, String key, long offset, long byteSize) {
    }

    private record Region(Status status, MappedByteBuffer mapping) {
    }

    private SharedMemoryRegistry(Path root) {
        this.root = Objects.requireNonNull(root, "root");
    }

    /** Regions are POSIX shared-memory objects under {@code root} (/dev/shm on Linux). */
    public static SharedMemoryRegistry under(Path root) {
        return new SharedMemoryRegistry(root);
    }

    /** The registry of the host's POSIX shared memory, /dev/shm. */
    public static SharedMemoryRegistry system() {
        return under(Path.of("/dev/shm"));
    }

    /**
     * Maps and registers a region.
     *
     * @throws GantryException INVALID_ARG for a bad name, key, offset or size, a key that does not exist or a
     *     window past its end; ALREADY_EXISTS when the owner already has a region of that name
     */
    public Status register(String owner, String name, String key, long offset, long byteSize) {
        checkName(name);
        if (key == null || !KEY.matcher(key).matches() || key.equals("/.") || key.equals("/..")
                || key.equals(".") || key.equals("..")) {
            throw GantryException.invalid("shared memory key '" + key + "' must be a POSIX shared-memory name:"
                    + " an optional leading '/', then letters, digits and ._@+- only");
        }
        if (offset < 0 || byteSize <= 0) {
            throw GantryException.invalid("shared memory region '" + name + "': offset must be >= 0 and byte_size"
                    + " > 0, were " + offset + " and " + byteSize);
        }
        if (byteSize > Integer.MAX_VALUE - 16) {
            throw GantryException.invalid("shared memory region '" + name + "': byte_size " + byteSize
                    + " is larger than one region may be (2 GiB)");
        }
        Map<String, Region> regions = byOwner.computeIfAbsent(owner, o -> new ConcurrentHashMap<>());
        if (regions.containsKey(name)) {
            throw new GantryException(ErrorCode.ALREADY_EXISTS, "shared memory region '" + name
                    + "' is already registered; unregister it first");
        }
        Path file = root.resolve(key.startsWith("/") ? key.substring(1) : key);
        MappedByteBuffer mapping;
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            long size = channel.size();
            if (offset + byteSize > size) {
                throw GantryException.invalid("shared memory region '" + name + "': offset " + offset
                        + " + byte_size " + byteSize + " is past the end of '" + key + "' (" + size + " bytes)");
            }
            mapping = channel.map(FileChannel.MapMode.READ_WRITE, offset, byteSize);
        } catch (NoSuchFileException e) {
            throw GantryException.invalid("shared memory key '" + key + "' does not exist (create it with"
                    + " shm_open before registering)");
        } catch (IOException e) {
            throw GantryException.invalid("shared memory key '" + key + "' cannot be mapped: " + e.getMessage());
        }
        Status status = new Status(name, key, offset, byteSize);
        if (regions.putIfAbsent(name, new Region(status, mapping)) != null) {
            throw new GantryException(ErrorCode.ALREADY_EXISTS, "shared memory region '" + name
                    + "' is already registered; unregister it first");
        }
        return status;
    }

    /** The owner's regions, or only the named one (NOT_FOUND if it has none of that name). */
    public List<Status> status(String owner, Optional<String> name) {
        Map<String, Region> regions = byOwner.getOrDefault(owner, Map.of());
        if (name.isPresent()) {
            return List.of(region(owner, name.get()).status());
        }
        List<Status> all = new ArrayList<>();
        regions.values().forEach(r -> all.add(r.status()));
        all.sort((a, b) -> a.name().compareTo(b.name()));
        return all;
    }

    /** Unregisters the owner's named region (NOT_FOUND if none), or all of its regions. */
    public void unregister(String owner, Optional<String> name) {
        if (name.isPresent()) {
            region(owner, name.get());
            byOwner.getOrDefault(owner, Map.of()).remove(name.get());
        } else {
            byOwner.remove(owner);
        }
    }

    /**
     * A little-endian view of {@code byteSize} bytes at {@code offset} in the owner's region {@code name}: no copy.
     *
     * @throws GantryException NOT_FOUND for a region the owner has not registered; INVALID_ARG for a window that
     *     does not lie inside the region
     */
    public ByteBuffer view(String owner, String name, long offset, long byteSize) {
        Region r = region(owner, name);
        long size = r.status().byteSize();
        if (offset < 0 || byteSize < 0 || offset > size || byteSize > size - offset) {
            throw GantryException.invalid("shared memory region '" + name + "' has " + size + " bytes; offset "
                    + offset + " with byte size " + byteSize + " is out of its bounds");
        }
        return r.mapping().slice((int) offset, (int) byteSize).order(ByteOrder.LITTLE_ENDIAN);
    }

    private Region region(String owner, String name) {
        Region r = byOwner.getOrDefault(owner, Map.of()).get(name);
        if (r == null) {
            throw GantryException.notFound("no shared memory region '" + name + "' is registered by this caller");
        }
        return r;
    }

    private static void checkName(String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw GantryException.invalid("shared memory region name '" + name
                    + "' must be 1 to 128 letters, digits or ._@+-");
        }
    }
}
