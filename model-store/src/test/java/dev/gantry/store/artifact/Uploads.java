package dev.gantry.store.artifact;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.zip.GZIPOutputStream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.zip.ZipArchiveEntry;
import org.apache.commons.compress.archivers.zip.ZipArchiveOutputStream;

/** Test fixtures: uploads as the HTTP layer leaves them in the staging directory, and bundles to put there. */
final class Uploads {
    private Uploads() {
    }

    /** An archive entry: a file with content, a directory (content null, name ending '/'), or a special tar entry. */
    record Entry(String name, byte[] content, byte linkFlag, String linkName, boolean preserveAbsolutePath) {
        static Entry file(String name, byte[] content) {
            return new Entry(name, content, TarArchiveEntry.LF_NORMAL, null, true);
        }

        static Entry file(String name, String content) {
            return file(name, content.getBytes(StandardCharsets.UTF_8));
        }

        static Entry directory(String name) {
            return new Entry(name, null, TarArchiveEntry.LF_DIR, null, true);
        }

        static Entry tarSpecial(String name, byte linkFlag, String linkName) {
            return new Entry(name, null, linkFlag, linkName, true);
        }
    }

    /** Bytes that start like an ONNX ModelProto (ir_version 9) and do not compress. */
    static byte[] onnx(long seed, int size) {
        byte[] bytes = new byte[size];
        new Random(seed).nextBytes(bytes);
        bytes[0] = 0x08;
        bytes[1] = 0x09;
        return bytes;
    }

    /**
     * Every entry's modification time, fixed so that the same entries always build the same bytes: with the clock's
     * time, two builds either side of a second's edge differed and an upload meant to be identical was refused.
     */
    private static final long ENTRY_TIME = 1_767_225_600_000L; // 2026-01-01T00:00:00Z

    static byte[] tarGz(List<Entry> entries) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(new GZIPOutputStream(bytes))) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            for (Entry e : entries) {
                TarArchiveEntry entry = new TarArchiveEntry(e.name(), e.linkFlag(), e.preserveAbsolutePath());
                entry.setModTime(ENTRY_TIME);
                if (e.linkName() != null) {
                    entry.setLinkName(e.linkName());
                }
                if (e.content() != null) {
                    entry.setSize(e.content().length);
                }
                tar.putArchiveEntry(entry);
                if (e.content() != null) {
                    tar.write(e.content());
                }
                tar.closeArchiveEntry();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /** A zip built with Commons Compress, which, unlike java.util.zip, writes duplicate names when told to. */
    static byte[] zip(List<Entry> entries) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipArchiveOutputStream zip = new ZipArchiveOutputStream(bytes)) {
            for (Entry e : entries) {
                ZipArchiveEntry entry = new ZipArchiveEntry(e.name());
                entry.setTime(ENTRY_TIME);
                zip.putArchiveEntry(entry);
                if (e.content() != null) {
                    zip.write(e.content());
                }
                zip.closeArchiveEntry();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /** A zip built with java.util.zip, which writes names exactly as given (Commons Compress turns '\\' into '/'). */
    static byte[] jdkZip(List<Entry> entries) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            for (Entry e : entries) {
                ZipEntry entry = new ZipEntry(e.name());
                entry.setTime(ENTRY_TIME);
                zip.putNextEntry(entry);
                if (e.content() != null) {
                    zip.write(e.content());
                }
                zip.closeEntry();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /** {@code count} zero bytes as entry {@code name}, written through {@code out} without holding them. */
    static void zeros(OutputStream out, long count) throws IOException {
        byte[] chunk = new byte[1 << 16];
        for (long left = count; left > 0; left -= chunk.length) {
            out.write(chunk, 0, (int) Math.min(chunk.length, left));
        }
    }

    /** A staged upload and its digest, as the HTTP layer hands them over. */
    record Staged(Path file, String sha256) {
    }

    static Staged stage(ArtifactStore store, byte[] content) {
        try {
            Path file = Files.createTempFile(store.stagingDirectory(), "upload-", ".part");
            Files.write(file, content);
            return new Staged(file, sha256(content));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String sha256(byte[] content) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content));
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }
}
