package dev.gantry.http.inference;

import com.fasterxml.jackson.core.JsonParser;
import dev.gantry.core.error.GantryException;

import java.io.IOException;

/**
 * An input or output carried in a registered shared-memory region instead of the body (Triton's system shared
 * memory extension): {@code parameters.shared_memory_region}, {@code shared_memory_byte_size} and
 * {@code shared_memory_offset}.
 */
public record SharedMemoryRef(String region, long byteSize, long offset) {
    /** Collects the three parameters as they are read; any one present makes the other required ones so. */
    static final class Builder {
        private String region;
        private Long byteSize;
        private long offset;
        private boolean any;

        /** Reads the current value if {@code key} is one of the three parameters; answers whether it was. */
        boolean read(JsonParser p, String key, String label) throws IOException {
            switch (key) {
                case "shared_memory_region" -> region = JsonValues.string(p, label + " parameter '" + key + "'");
                case "shared_memory_byte_size" ->
                        byteSize = JsonValues.nonNegativeLong(p, label + " parameter '" + key + "'");
                case "shared_memory_offset" -> offset = JsonValues.nonNegativeLong(p, label + " parameter '" + key + "'");
                default -> {
                    return false;
                }
            }
            any = true;
            return true;
        }

        boolean isPresent() {
            return any;
        }

        SharedMemoryRef forTensor(String label) {
            if (region == null || byteSize == null) {
                throw GantryException.invalid(label + " uses shared memory and needs both shared_memory_region"
                        + " and shared_memory_byte_size");
            }
            return new SharedMemoryRef(region, byteSize, offset);
        }
    }

    /** Resolves a region window to bytes: the caller's own regions only. */
    @FunctionalInterface
    public interface Access {
        /** A view of {@code byteSize} bytes at {@code offset} of {@code region}; throws GantryException if refused. */
        java.nio.ByteBuffer view(String region, long offset, long byteSize);

        /** For callers without shared memory: every use is refused. */
        Access NONE = (region, offset, size) -> {
            throw GantryException.invalid("shared memory region '" + region + "' cannot be used here");
        };
    }
}
