package dev.gantry.store.artifact;

import dev.gantry.store.artifact.ArtifactException.Reason;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.apache.commons.compress.archivers.ArchiveEntry;
import org.apache.commons.compress.archivers.ArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.zip.ZipArchiveInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;

/**
 * Streams a tar.gz or zip bundle into a directory, admitting only regular files and directories with plain
 * relative names, within an {@link ExpansionBudget}.
 */
final class BundleExtractor {
    /*
     * Both formats are read as streams, front to back, so nothing an attacker declares (a zip central
     * directory's sizes, a tar header's size) is trusted ahead of the bytes actually produced. For a tar.gz the
     * budget counts what gunzip produces, headers included, which bounds the tar reader too; for a zip it counts
     * each entry's inflated bytes, since the zip structure itself is read raw from the (bounded) upload.
     *
     * A streamed zip cannot say an entry is a symbolic link (that lives in the central directory's external
     * attributes): every non-directory zip entry is written as a regular file, so a link entry becomes a small
     * file holding its target's name, never a link. Files are created with CREATE_NEW, which neither follows
     * links nor overwrites. Commons Compress reads a '\\' in a zip name that has no '/' as a separator (old
     * Windows zippers wrote those); the name is checked after that, so "..\\evil" is refused as "../evil".
     */

    private final Path target;
    private final ExpansionBudget budget;
    private final Checkpoint checkpoint;
    /** Lower-cased names, so that two entries that would collide on a case-insensitive file system are refused. */
    private final Map<String, String> files = new HashMap<>();
    private final Set<String> directories = new HashSet<>();
    private final byte[] buffer = new byte[64 * 1024];

    private BundleExtractor(Path target, ExpansionBudget budget, Checkpoint checkpoint) {
        this.target = target;
        this.budget = budget;
        this.checkpoint = checkpoint;
    }

    /** Extracts {@code bundle} of {@code kind} (TAR_GZ or ZIP) into the empty directory {@code target}. */
    static void extract(ArtifactKind kind, Path bundle, long bundleBytes, Path target, ArtifactLimits limits,
                        Checkpoint checkpoint) throws ArtifactException, IOException {
        BundleExtractor extractor = new BundleExtractor(target, new ExpansionBudget(limits, bundleBytes), checkpoint);
        try (InputStream file = new BufferedInputStream(Files.newInputStream(bundle), 64 * 1024)) {
            switch (kind) {
                case TAR_GZ -> extractor.readAll(extractor.openTarGz(file), /* countContent= */ false);
                case ZIP -> extractor.readAll(new ZipArchiveInputStream(file, StandardCharsets.UTF_8.name(),
                        /* useUnicodeExtraFields= */ true, /* allowStoredEntriesWithDataDescriptor= */ false,
                        /* skipSplitSig= */ false), /* countContent= */ true);
                case ONNX -> throw new IllegalArgumentException("not a bundle: " + kind);
            }
        }
    }

    private ArchiveInputStream<?> openTarGz(InputStream file) throws ArtifactException {
        try {
            InputStream gunzipped = GzipCompressorInputStream.builder().setInputStream(file)
                    .setDecompressConcatenated(true).get();
            return new TarArchiveInputStream(budget.counting(gunzipped));
        } catch (IOException e) {
            throw unreadable(e);
        }
    }

    private void readAll(ArchiveInputStream<?> in, boolean countContent) throws ArtifactException, IOException {
        try (in) {
            ArchiveEntry entry;
            while ((entry = next(in)) != null) {
                budget.addEntry(entry.getName());
                boolean directory = isDirectory(entry);
                EntryPath path = EntryPath.parse(entry.getName());
                if (!in.canReadEntryData(entry)) {
                    throw new ArtifactException(Reason.INVALID, "bundle entry '" + entry.getName()
                            + "' uses an unsupported archive feature (encryption or compression method)");
                }
                if (path.isRoot() || path.isSkipped()) {
                    copy(in, null, path, countContent);
                } else if (directory) {
                    addDirectory(path);
                } else {
                    addFile(in, path, countContent);
                }
            }
        }
    }

    private ArchiveEntry next(ArchiveInputStream<?> in) throws ArtifactException {
        try {
            return in.getNextEntry();
        } catch (IOException e) {
            throw unreadable(e);
        } catch (RuntimeException e) {
            throw new ArtifactException(Reason.INVALID, "bundle is corrupt: " + e, e);
        }
    }

    /** Whether a tar entry is a directory; refuses anything but directories and regular files. */
    private static boolean isDirectory(ArchiveEntry entry) throws ArtifactException {
        if (!(entry instanceof TarArchiveEntry tar)) {
            return entry.isDirectory();
        }
        String refused = tar.isSymbolicLink() ? "a symbolic link (to '" + tar.getLinkName() + "')"
                : tar.isLink() ? "a hard link (to '" + tar.getLinkName() + "')"
                : tar.isCharacterDevice() ? "a character device"
                : tar.isBlockDevice() ? "a block device"
                : tar.isFIFO() ? "a FIFO"
                : tar.isSparse() ? "a sparse file"
                : null;
        if (refused != null) {
            throw new ArtifactException(Reason.UNSAFE_ARCHIVE, "bundle entry '" + tar.getName() + "' is " + refused
                    + ": only regular files and directories are allowed");
        }
        byte flag = tar.getLinkFlag();
        if (flag == TarArchiveEntry.LF_DIR) {
            return true;
        }
        if (flag == TarArchiveEntry.LF_NORMAL || flag == TarArchiveEntry.LF_OLDNORM
                || flag == TarArchiveEntry.LF_CONTIG) {
            return tar.getName().endsWith("/");
        }
        throw new ArtifactException(Reason.UNSAFE_ARCHIVE, "bundle entry '" + tar.getName()
                + "' has tar type '" + (char) flag + "': only regular files and directories are allowed");
    }

    private void addDirectory(EntryPath path) throws ArtifactException, IOException {
        String key = path.name().toLowerCase(Locale.ROOT);
        if (files.containsKey(key)) {
            throw conflict(path, files.get(key));
        }
        registerParents(path);
        directories.add(key);
        Files.createDirectories(resolve(path));
    }

    private void addFile(ArchiveInputStream<?> in, EntryPath path, boolean countContent)
            throws ArtifactException, IOException {
        String key = path.name().toLowerCase(Locale.ROOT);
        if (files.containsKey(key)) {
            throw new ArtifactException(Reason.UNSAFE_ARCHIVE, "bundle entry '" + path.raw()
                    + "' is a duplicate of '" + files.get(key) + "'");
        }
        if (directories.contains(key)) {
            throw conflict(path, path.raw() + "/");
        }
        registerParents(path);
        files.put(key, path.raw());
        Path file = resolve(path);
        Files.createDirectories(file.getParent());
        try (FileChannel out = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            copy(in, out, path, countContent);
            out.force(true);
        }
        checkpoint.reached("extracted " + path.name());
    }

    /** Records {@code path}'s parents as directories, refusing one that an earlier entry made a file. */
    private void registerParents(EntryPath path) throws ArtifactException {
        StringBuilder parent = new StringBuilder();
        for (String segment : path.segments().subList(0, path.segments().size() - 1)) {
            if (!parent.isEmpty()) {
                parent.append('/');
            }
            parent.append(segment.toLowerCase(Locale.ROOT));
            String existing = files.get(parent.toString());
            if (existing != null) {
                throw conflict(path, existing);
            }
            directories.add(parent.toString());
        }
    }

    /** Copies the current entry's bytes to {@code out}, or drains them if it is null. */
    private void copy(ArchiveInputStream<?> in, FileChannel out, EntryPath path, boolean countContent)
            throws ArtifactException, IOException {
        while (true) {
            int n;
            try {
                n = in.read(buffer);
            } catch (IOException e) {
                throw unreadable(e);
            } catch (RuntimeException e) {
                throw new ArtifactException(Reason.INVALID, "bundle entry '" + path.raw() + "' is corrupt: " + e, e);
            }
            if (n < 0) {
                return;
            }
            if (countContent) {
                budget.addBytes(n);
            }
            if (out != null) {
                ByteBuffer chunk = ByteBuffer.wrap(buffer, 0, n);
                while (chunk.hasRemaining()) {
                    out.write(chunk);
                }
            }
        }
    }

    private Path resolve(EntryPath path) throws ArtifactException {
        Path resolved = target.resolve(path.name()).normalize();
        if (!resolved.startsWith(target) || resolved.equals(target)) {
            throw new ArtifactException(Reason.UNSAFE_ARCHIVE, "bundle entry '" + path.raw()
                    + "' resolves outside the version directory");
        }
        return resolved;
    }

    private static ArtifactException conflict(EntryPath path, String other) {
        return new ArtifactException(Reason.UNSAFE_ARCHIVE, "bundle entry '" + path.raw()
                + "' clashes with entry '" + other + "': one is a file, the other a directory");
    }

    /** A read failure: a limit breach carried through the stream, or a corrupt or truncated bundle. */
    private static ArtifactException unreadable(IOException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof ExpansionBudget.Exceeded exceeded) {
                return exceeded.breach();
            }
        }
        return new ArtifactException(Reason.INVALID, "bundle is corrupt or truncated: " + e.getMessage(), e);
    }
}
