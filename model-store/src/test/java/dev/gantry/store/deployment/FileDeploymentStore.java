package dev.gantry.store.deployment;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/** A {@link DeploymentStore} of one JSON file per model, each replaced atomically. */
final class FileDeploymentStore implements DeploymentStore {
    /*
     * Writing: the record goes to a temp file in the same directory (".<model>.json.<nanos>.tmp"), which is
     * forced to disk, then moved over "<model>.json" with ATOMIC_MOVE (rename(2): readers see the old or the
     * new file, never a mix), then the directory is forced so the rename itself survives a power cut. A crash
     * before the move leaves only a stray temp file, which load ignores and loadAll deletes. A main file that
     * does not parse is reported, never silently replaced by a fresh record: it holds an operator's history.
     */
    private static final Logger log = LoggerFactory.getLogger(FileDeploymentStore.class);
    private static final Pattern MODEL_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,127}");
    private static final String SUFFIX = ".json";
    private static final String TEMP_SUFFIX = ".tmp";

    private final Path dir;

    FileDeploymentStore(Path dir) {
        this.dir = dir;
    }

    @Override
    public Optional<DeploymentRecord> load(String model) {
        Path file = fileOf(model);
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new DeploymentStoreException("cannot read deployment file " + file + ": " + e, e);
        }
        DeploymentRecord record;
        try {
            record = DeploymentJson.read(bytes);
        } catch (IllegalArgumentException e) {
            throw new DeploymentStoreException("deployment file " + file + " is corrupt: " + e.getMessage()
                    + "; fix or remove it (its policy history is not reset automatically)", e);
        }
        if (!record.model().equals(model)) {
            throw new DeploymentStoreException("deployment file " + file + " is for model '" + record.model()
                    + "', not '" + model + "'");
        }
        return Optional.of(record);
    }

    @Override
    public void save(DeploymentRecord record, String actorRole) {
        Path file = fileOf(record.model());
        byte[] bytes = DeploymentJson.write(record);
        Path temp = dir.resolve("." + record.model() + SUFFIX + "." + System.nanoTime() + TEMP_SUFFIX);
        try {
            Files.createDirectories(dir);
            try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ByteBuffer b = ByteBuffer.wrap(bytes);
                while (b.hasRemaining()) {
                    ch.write(b);
                }
                ch.force(/* metaData= */ true);
            }
            try {
                Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException("the file system of " + dir + " cannot replace files atomically", e);
            }
            forceDirectory();
        } catch (IOException e) {
            try {
                Files.deleteIfExists(temp);
            } catch (IOException ignored) {
                // left for loadAll to clean up
            }
            throw new DeploymentStoreException("cannot write deployment file " + file + ": " + e, e);
        }
    }

    @Override
    public List<DeploymentRecord> loadAll() {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.sorted().toList();
        } catch (IOException e) {
            throw new DeploymentStoreException("cannot list deployment directory " + dir + ": " + e, e);
        }
        List<DeploymentRecord> out = new ArrayList<>();
        for (Path f : files) {
            String name = f.getFileName().toString();
            if (name.endsWith(TEMP_SUFFIX)) {
                log.warn("removing {}: left by an interrupted write", f);
                try {
                    Files.deleteIfExists(f);
                } catch (IOException e) {
                    log.warn("cannot remove {}: {}", f, e.toString());
                }
                continue;
            }
            if (!name.endsWith(SUFFIX) || name.startsWith(".")) {
                continue;
            }
            String model = name.substring(0, name.length() - SUFFIX.length());
            if (MODEL_NAME.matcher(model).matches()) {
                load(model).ifPresent(out::add);
            }
        }
        return List.copyOf(out);
    }

    private Path fileOf(String model) {
        if (!MODEL_NAME.matcher(model).matches()) {
            throw new IllegalArgumentException("model name must match " + MODEL_NAME + ", was '" + model + "'");
        }
        return dir.resolve(model + SUFFIX);
    }

    private void forceDirectory() {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(/* metaData= */ true);
        } catch (IOException e) {
            // Some platforms cannot open a directory for fsync; the rename is still atomic there.
            log.debug("cannot force directory {}: {}", dir, e.toString());
        }
    }
}
