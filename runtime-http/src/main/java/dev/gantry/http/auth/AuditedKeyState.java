package dev.gantry.http.auth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gantry.core.access.Role;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Collection;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The key-file state the server last audited, kept in {@code <data>/keys.audited.json} (0600): what it knows of
 * each key (name, roles, models, revoked, and a fingerprint of its secret's hash, never the hash itself), so
 * that changes made while it was stopped are found at the next start.
 */
final class AuditedKeyState {
    private static final ObjectMapper JSON = new ObjectMapper();
    static final String FILE = "keys.audited.json";

    /** What the audit trail knows of one key. */
    record Known(String id, String name, String roles, String models, boolean revoked, String secret) {
        static Known of(ApiKey k) {
            return new Known(k.id(), k.name(), new TreeSet<>(k.roles().stream().map(Role::wireName).toList()).toString(),
                    new TreeSet<>(k.models()).toString(), k.revoked().isPresent(), fingerprint(k.secretSha256()));
        }
    }

    private AuditedKeyState() {
    }

    static Map<String, Known> of(Collection<ApiKey> keys) {
        Map<String, Known> out = new TreeMap<>();
        keys.forEach(k -> out.put(k.id(), Known.of(k)));
        return out;
    }

    /** The state last written, or empty when none was (every key found is then unaudited). */
    static java.util.Optional<Map<String, Known>> read(Path dataDir) throws IOException {
        Path file = dataDir.resolve(FILE);
        Map<String, Known> out = new TreeMap<>();
        if (!Files.exists(file)) {
            return java.util.Optional.empty();
        }
        for (JsonNode k : JSON.readTree(Files.readString(file)).path("keys")) {
            Known known = new Known(k.path("id").asText(), k.path("name").asText(), k.path("roles").asText(),
                    k.path("models").asText(), k.path("revoked").asBoolean(), k.path("secret").asText());
            out.put(known.id(), known);
        }
        return java.util.Optional.of(out);
    }

    static void write(Path dataDir, Map<String, Known> state) throws IOException {
        ObjectNode root = JSON.createObjectNode();
        var arr = root.putArray("keys");
        for (Known k : state.values()) {
            arr.addObject().put("id", k.id()).put("name", k.name()).put("roles", k.roles()).put("models", k.models())
                    .put("revoked", k.revoked()).put("secret", k.secret());
        }
        Files.createDirectories(dataDir);
        Path file = dataDir.resolve(FILE);
        Path tmp = dataDir.resolve(FILE + ".tmp");
        Files.deleteIfExists(tmp);
        try (FileChannel ch = PrivateFile.create(tmp)) {
            ch.write(StandardCharsets.UTF_8.encode(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root)));
            ch.force(true);
        }
        try {
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
        }
        try (FileChannel dir = FileChannel.open(dataDir, StandardOpenOption.READ)) {
            dir.force(true);
        } catch (IOException ignored) {
            // some file systems cannot fsync a directory
        }
    }

    private static String fingerprint(String secretSha256) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256")
                    .digest(("gantry key fingerprint\n" + secretSha256).getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
