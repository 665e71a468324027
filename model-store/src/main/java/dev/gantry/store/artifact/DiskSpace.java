package dev.gantry.store.artifact;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** Whether a directory's file system can take more bytes while keeping a floor free. */
@FunctionalInterface
public interface DiskSpace {
    /** Bytes this process may still write on the file system holding {@code dir}. */
    long usableBytes(Path dir) throws IOException;

    /** The file system's own figure ({@link java.nio.file.FileStore#getUsableSpace()}). */
    static DiskSpace system() {
        return dir -> Files.getFileStore(dir).getUsableSpace();
    }

    /**
     * Empty when {@code dir} can take {@code incomingBytes} more and still keep {@code floorBytes} free; else
     * a message for the client naming what is free and what was asked. Call it before an upload with the
     * declared length (0 when unknown) and again as bytes arrive, with the bytes still expected.
     */
    default Optional<String> shortfall(Path dir, long incomingBytes, long floorBytes) {
        long usable;
        try {
            usable = usableBytes(dir);
        } catch (IOException e) {
            return Optional.of("cannot tell how much disk space is free for uploads: " + e.getMessage());
        }
        if (usable - incomingBytes >= floorBytes) {
            return Optional.empty();
        }
        return Optional.of("not enough disk space for this upload: " + mib(usable) + " free, the upload needs "
                + mib(incomingBytes) + " and the server keeps " + mib(floorBytes) + " free; free some space or"
                + " retire old versions, then retry");
    }

    private static String mib(long bytes) {
        return bytes < (1 << 20) ? bytes + " bytes" : (bytes >> 20) + " MiB";
    }
}
