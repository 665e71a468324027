package dev.gantry.store.catalog;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The secret that keys the audit chain, kept outside the database: entries from {@link #hmacFromSeq()} on are
 * chained with HMAC-SHA256 under it, older ones (written before the key existed) with plain SHA-256.
 */
public final class AuditKey {
    /*
     * The file (default <data>/audit.key, 0600) holds the key as 64 hex digits (or base64 of at least 32 bytes)
     * and a line "hmac-from-seq N". N is recorded outside the database on purpose: someone who can write the
     * database but not this file cannot claim that later entries were plain-hashed, so every entry at or after N
     * must verify with the key. When the key is created for a database that already has entries, N is the seq
     * after its newest entry; for an empty one it is 1. An operator's key file without the line gets it added.
     */
    private static final Logger log = LoggerFactory.getLogger(AuditKey.class);
    private static final String FROM = "hmac-from-seq";
    private static final Pattern HEX = Pattern.compile("[0-9a-fA-F]{64,}");
    private static final int KEY_BYTES = 32;

    private final byte[] key;
    private final long hmacFromSeq;

    private AuditKey(byte[] key, long hmacFromSeq) {
        this.key = key.clone();
        this.hmacFromSeq = hmacFromSeq;
    }

    /** A random key chaining every entry (in-memory catalogues). */
    static AuditKey random() {
        byte[] k = new byte[KEY_BYTES];
        new SecureRandom().nextBytes(k);
        return new AuditKey(k, 1);
    }

    /** The first seq chained with the key; earlier entries are plain SHA-256. */
    public long hmacFromSeq() {
        return hmacFromSeq;
    }

    /**
     * An HMAC under the key of a fixed text, with the first keyed seq: equal for equal keys, and it does not
     * reveal the key. Servers sharing one database compare it (see AuditKeyCheck).
     */
    String fingerprint() {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            byte[] h = mac.doFinal("gantry audit key fingerprint".getBytes(StandardCharsets.UTF_8));
            return "hmac-sha256:" + HexFormat.of().formatHex(h, 0, 16) + ";" + FROM + "=" + hmacFromSeq;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is not available in this JVM", e);
        }
    }

    boolean keyed(long seq) {
        return seq >= hmacFromSeq;
    }

    /** The hash the entry at {@code seq} is chained with: HMAC-SHA256 under the key, or plain SHA-256 before N. */
    String hash(String prevHash, long seq, java.time.Instant time, String actor, String role, String action,
                String target, String before, String after) {
        String text = AuditChain.canonical(prevHash, seq, time, actor, role, action, target, before, after);
        if (!keyed(seq)) {
            return AuditChain.sha256(text);
        }
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return HexFormat.of().formatHex(mac.doFinal(text.getBytes(StandardCharsets.UTF_8)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is not available in this JVM", e);
        }
    }

    /**
     * Reads the key file, or creates it (0600, 32 random bytes) when it does not exist.
     *
     * @param nextSeq the seq the next audit entry of the database will get; becomes N for a new key
     * @throws CatalogStoreException naming the file and what is wrong with it
     */
    static AuditKey openOrCreate(Path file, long nextSeq) {
        try {
            if (!Files.exists(file)) {
                byte[] k = new byte[KEY_BYTES];
                new SecureRandom().nextBytes(k);
                if (createPrivately(file, List.of(HexFormat.of().formatHex(k), FROM + " " + nextSeq))) {
                    log.info("created the audit key {} (entries from seq {} are chained with HMAC-SHA256 under it);"
                            + " back it up with the database: without it the trail cannot be verified", file,
                            nextSeq);
                    return new AuditKey(k, nextSeq);
                }
                // another server sharing the file created it first: use its key, not ours
            }
            warnIfShared(file);
            List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
            byte[] k = null;
            long from = -1;
            for (String raw : lines) {
                String line = raw.strip();
                if (line.isEmpty() || line.startsWith("#")) {
                    continue;
                }
                if (line.startsWith(FROM)) {
                    try {
                        from = Long.parseLong(line.substring(FROM.length()).strip());
                    } catch (NumberFormatException e) {
                        throw bad(file, "its line '" + line + "' must be '" + FROM + " <positive integer>'");
                    }
                    if (from < 1) {
                        throw bad(file, "its " + FROM + " must be at least 1, was " + from);
                    }
                } else if (k == null) {
                    k = decode(file, line);
                } else {
                    throw bad(file, "it has more than one key line");
                }
            }
            if (k == null) {
                throw bad(file, "it holds no key (64 hex digits or base64 of at least " + KEY_BYTES + " bytes)");
            }
            if (from < 0) {
                List<String> updated = new ArrayList<>(lines);
                updated.add(FROM + " " + nextSeq);
                try {
                    writePrivately(file, updated);
                } catch (IOException e) {
                    throw bad(file, "it has no '" + FROM + " N' line and it cannot be added (" + e
                            + "); add the line '" + FROM + " " + nextSeq + "' to it");
                }
                from = nextSeq;
                log.info("audit key {}: entries from seq {} on are chained with HMAC-SHA256", file, from);
            }
            return new AuditKey(k, from);
        } catch (IOException e) {
            throw new CatalogStoreException("cannot read or create the audit key " + file + ": " + e, e);
        }
    }

    private static byte[] decode(Path file, String line) {
        byte[] k;
        if (HEX.matcher(line).matches() && line.length() % 2 == 0) {
            k = HexFormat.of().parseHex(line);
        } else {
            try {
                k = Base64.getDecoder().decode(line);
            } catch (IllegalArgumentException e) {
                throw bad(file, "its key is neither hex nor base64");
            }
        }
        if (k.length < KEY_BYTES) {
            throw bad(file, "its key has " + k.length + " bytes; use at least " + KEY_BYTES);
        }
        return k;
    }

    private static CatalogStoreException bad(Path file, String why) {
        return new CatalogStoreException("audit key file " + file + " cannot be used: " + why);
    }

    private static void warnIfShared(Path file) {
        try {
            if (FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
                Set<PosixFilePermission> p = Files.getPosixFilePermissions(file);
                if (p.contains(PosixFilePermission.GROUP_READ) || p.contains(PosixFilePermission.OTHERS_READ)) {
                    log.warn("audit key {} is readable by others ({}); make it 0600", file,
                            PosixFilePermissions.toString(p));
                }
            }
        } catch (IOException e) {
            // only a warning
        }
    }

    /**
     * Creates {@code file} holding {@code lines} (0600, fsynced) unless it exists: the content goes to a temporary
     * file of this writer's own first and is then hard-linked to the name, which fails when another server
     * sharing the file (same path, same database) got there first.
     *
     * @return false when the file already existed; it is then left as it was
     */
    private static boolean createPrivately(Path file, List<String> lines) throws IOException {
        Path tmp = writeTemporary(file, lines);
        try {
            Files.createLink(file, tmp);
        } catch (FileAlreadyExistsException e) {
            return false;
        } catch (UnsupportedOperationException | IOException e) {
            if (Files.exists(file)) {
                return false;
            }
            // no hard links here (some network or FAT file systems): a move that does not replace an existing
            // file, which leaves only a narrow window between the check and the move
            try {
                Files.move(tmp, file);
            } catch (FileAlreadyExistsException raced) {
                return false;
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
        syncDirectory(file);
        return true;
    }

    /** Writes {@code lines} to a new 0600 file and renames it over {@code file}, both fsynced. */
    private static void writePrivately(Path file, List<String> lines) throws IOException {
        Path tmp = writeTemporary(file, lines);
        try {
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
        syncDirectory(file);
    }

    /** A new 0600 file beside {@code file}, named for this writer alone, holding {@code lines}, fsynced. */
    private static Path writeTemporary(Path file, List<String> lines) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        List<FileAttribute<?>> attrs = new ArrayList<>();
        if (FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
            attrs.add(PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        }
        Path tmp = Files.createTempFile(dir, "." + file.getFileName() + ".", ".tmp",
                attrs.toArray(FileAttribute[]::new));
        try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
            out.write(StandardCharsets.UTF_8.encode(String.join("\n", lines) + "\n"));
            out.force(true);
        } catch (IOException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
        return tmp;
    }

    private static void syncDirectory(Path file) {
        try (FileChannel d = FileChannel.open(file.toAbsolutePath().getParent(), StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException ignored) {
            // some file systems cannot fsync a directory; the rename is still atomic
        }
    }
}
