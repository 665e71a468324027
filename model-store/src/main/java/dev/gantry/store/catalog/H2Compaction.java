package dev.gantry.store.catalog;

import org.h2.mvstore.MVStoreTool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Gives back the space of an append-only H2 catalogue file (see {@link CatalogDialect#H2_FILE_SETTINGS}) at open,
 * before anything writes: the live data is copied into a new file, which replaces the old one by one atomic rename.
 */
final class H2Compaction {
    /*
     * Why a copy and not H2's own compaction: compaction in place (SHUTDOWN COMPACT, the background compactor)
     * rewrites chunks inside the file that recovery reads, and it is what lost acknowledged commits after kills
     * (CatalogDialect). Here the file is copied byte for byte to <name>.compacting and MVStoreTool.compact rewrites
     * that copy (it opens it read-only, so its recovery is the same one a normal open does, and writes every map's
     * live pages into a new file that replaces the copy); the result is forced to disk and only then renamed over
     * the old file, which nothing touched until that rename. A kill at any point leaves either the old file, whole, or the new one,
     * whole; a leftover .compacting file is deleted at the next open. It runs once per open, when the file is
     * larger than COMPACT_ABOVE_BYTES, so the cost (reading the live data once) is paid on restarts of a catalogue
     * that has grown, not on every start.
     */
    private static final Logger log = LoggerFactory.getLogger(H2Compaction.class);
    /** Files at most this large are left as they are. */
    static final long COMPACT_ABOVE_BYTES = 64L << 20;

    private H2Compaction() {
    }

    /**
     * Compacts {@code <base>.mv.db} when it is larger than {@code aboveBytes}; returns whether it did. The database
     * must not be open.
     *
     * @throws CatalogStoreException when the copy cannot be made (the old file is then left as it was)
     */
    static boolean compactIfLarger(Path base, long aboveBytes) {
        Path file = base.resolveSibling(base.getFileName() + ".mv.db");
        Path copy = base.resolveSibling(base.getFileName() + ".mv.db.compacting");
        Path copyTemp = base.resolveSibling(copy.getFileName() + ".tempFile");
        Path copyNew = base.resolveSibling(copy.getFileName() + ".newFile"); // MVStoreTool's fallback when it cannot replace atomically
        try {
            Files.deleteIfExists(copyTemp);
            Files.deleteIfExists(copyNew);
            Files.deleteIfExists(copy);
            if (!Files.isRegularFile(file) || Files.size(file) <= aboveBytes) {
                return false;
            }
            long before = Files.size(file);
            long started = System.nanoTime();
            Files.copy(file, copy);
            MVStoreTool.compact(copy.toString(), false); // rewrites the copy through its own .tempFile
            force(copy);
            Files.move(copy, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            force(file.getParent());
            log.info("catalogue file {} compacted from {} to {} bytes in {} ms", file, before, Files.size(file),
                    (System.nanoTime() - started) / 1_000_000);
            return true;
        } catch (IOException | RuntimeException e) {
            try {
                Files.deleteIfExists(copyTemp);
                Files.deleteIfExists(copy);
            } catch (IOException ignored) {
                // the next open deletes it
            }
            throw new CatalogStoreException("cannot compact the catalogue file " + file + ": " + e.getMessage(), e);
        }
    }

    private static void force(Path path) throws IOException {
        if (Files.isDirectory(path) && System.getProperty("os.name", "").startsWith("Windows")) {
            return; // directories cannot be opened for sync there
        }
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }
}
