package dev.gantry.http.auth;

import dev.gantry.core.access.Role;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gantry.core.error.ErrorCode;
import dev.gantry.core.error.GantryException;
import dev.gantry.core.access.Actor;
import dev.gantry.core.audit.AuditTrail;
import dev.gantry.core.keys.SharedKeys;
import dev.gantry.store.keys.StoredKey;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.function.UnaryOperator;

/**
 * API keys: hashes of secrets, never the secrets. On the embedded catalogue (one process) they are kept in
 * {@code <data>/keys.json}: the server and the {@code gantry keys} command both change the file, under a file
 * lock, by atomic replacement; the server rereads it when it changes, so a key made or revoked by either side
 * works (or stops working) within a second. On a shared catalogue (PostgreSQL) they are kept in its database
 * ({@link SharedKeys}), one set for every server: each change commits with its audit entry, and every server
 * rereads the keys when the catalogue's change feed reports a {@code key:*} entry ({@link #refresh()}).
 * Either way requests are checked against a snapshot in memory.
 */
public final class KeyStore {
    /*
     * Token format: "gantry_<id>_<secret>", id = 12 hex digits (public, finds the key), secret = 32 random bytes
     * in base64url. Secrets are 256-bit random, so a plain SHA-256 suffices to store them (no password-style
     * stretching needed); comparison is constant-time.
     */
    private static final Logger log = LoggerFactory.getLogger(KeyStore.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String PREFIX = "gantry_";
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Path file;
    private final Path lockFile;
    private final Clock clock;
    /** Null for the key file; set once by {@link #bind} on a shared catalogue. */
    private volatile SharedKeys shared;
    private final boolean sharedCatalogue;
    /** Orders the snapshot swaps of a shared store: a refresh's read and publish, a change's publish. */
    private final Object snapshotLock = new Object();
    private final AtomicReference<Map<String, ApiKey>> keys = new AtomicReference<>(Map.of());
    private volatile java.util.function.BiConsumer<Map<String, ApiKey>, Map<String, ApiKey>> fileChangeListener;
    private volatile FileTime lastSeen;
    private volatile long lastSize = -1;

    private KeyStore(Path dataDir, Clock clock) {
        this.file = dataDir == null ? null : dataDir.resolve("keys.json");
        this.lockFile = dataDir == null ? null : dataDir.resolve("keys.lock");
        this.clock = clock;
        this.sharedCatalogue = dataDir == null;
    }

    /** Opens (or starts) the key file in {@code dataDir}. */
    public static KeyStore open(Path dataDir, Clock clock) {
        KeyStore store = new KeyStore(dataDir, clock);
        store.reload();
        return store;
    }

    /**
     * The keys of a shared catalogue, empty until {@link #bind} gives it the catalogue (which a server opens after
     * its keys: the core it opens takes this store's {@link #lineage()}).
     */
    public static KeyStore shared(Clock clock) {
        return new KeyStore(null, clock);
    }

    /** Reads the keys of {@code keys}'s catalogue; from now on changes are made there. Once. */
    public void bind(SharedKeys keys) {
        if (!sharedCatalogue || shared != null) {
            throw new IllegalStateException(sharedCatalogue ? "already bound" : "a key file store cannot be bound");
        }
        // Read strictly: an empty snapshot would be a server open to anyone, so a failed first read fails the start.
        // Bound before the read, under the snapshot lock: a refresh for a change committed meanwhile waits for this
        // read and then reads again, so none is missed.
        synchronized (snapshotLock) {
            shared = keys;
            this.keys.set(toApi(keys.list()));
        }
    }

    /** Whether the keys are the shared catalogue's (not a key file). */
    public boolean isShared() {
        return sharedCatalogue;
    }

    /**
     * Rereads the shared catalogue's keys (after another server changed them); keeps the snapshot when the
     * database cannot be read. Nothing for a key file (see {@link #refreshIfChanged()}).
     */
    public void refresh() {
        SharedKeys s = shared;
        if (s == null) {
            return;
        }
        try {
            synchronized (snapshotLock) {
                keys.set(toApi(s.list()));
            }
        } catch (RuntimeException e) {
            log.error("could not reread the API keys from the catalogue: {}; keeping the keys already loaded",
                    e.toString());
        }
    }

    /**
     * How a change is audited: by {@code actor}, as {@code action} on {@code key:<id>}, the key described by
     * {@code describe}. On a shared catalogue the entry commits in the key's own transaction. With a key file it is
     * recorded in {@code trail} right after the file is replaced, and the change is undone if that fails; a null
     * {@code trail} leaves it to the server's {@link KeyFileAuditor} (changes made outside the server).
     */
    public record Audit(AuditTrail trail, Actor actor, String action, Function<ApiKey, String> describe) {
        AuditTrail.Entry entry(ApiKey key) {
            return new AuditTrail.Entry(action, "key:" + key.id(), "", describe.apply(key));
        }
    }

    /** Now, as the key's times are stored: to the microsecond in a shared catalogue (what PostgreSQL keeps). */
    private Instant stamp() {
        return stored(clock.instant());
    }

    private Instant stored(Instant t) {
        return sharedCatalogue ? t.truncatedTo(java.time.temporal.ChronoUnit.MICROS) : t;
    }

    /** Changes made without an {@link Audit}: by the local operator, described as the key file auditor does. */
    private static Audit byOperator(String action, Function<ApiKey, String> describe) {
        return new Audit(null, Actor.LOCAL_OPERATOR, action, describe);
    }

    private static String rolesOf(ApiKey k) {
        return k.name() + " " + new TreeSet<>(k.roles().stream().map(Role::wireName).toList());
    }

    /** A newly made key and its token, which is shown once and never stored. */
    public record Created(ApiKey key, String token) {
    }

    /** Result of checking a presented token. */
    public sealed interface Verification {
        record Valid(ApiKey key) implements Verification {
        }

        /** Why the token was refused, in words safe to return to the caller. */
        record Invalid(String reason) implements Verification {
        }
    }

    public boolean isEmpty() {
        return keys.get().isEmpty();
    }

    /** Every key, including revoked and expired ones, oldest first. */
    public List<ApiKey> list() {
        return List.copyOf(keys.get().values());
    }

    public Optional<ApiKey> find(String id) {
        return Optional.ofNullable(keys.get().get(id));
    }

    /** Checks a bearer token; never throws for bad input. */
    public Verification verify(String token) {
        if (token == null || !token.startsWith(PREFIX)) {
            return new Verification.Invalid("malformed API key");
        }
        int sep = token.indexOf('_', PREFIX.length());
        if (sep < 0 || sep == token.length() - 1) {
            return new Verification.Invalid("malformed API key");
        }
        String id = token.substring(PREFIX.length(), sep);
        ApiKey key = keys.get().get(id);
        byte[] presented = sha256(token.substring(sep + 1));
        if (key == null) {
            return new Verification.Invalid("unknown API key");
        }
        if (!MessageDigest.isEqual(presented, HexFormat.of().parseHex(key.secretSha256()))) {
            return new Verification.Invalid("unknown API key");
        }
        Instant now = clock.instant();
        if (key.revoked().isPresent()) {
            return new Verification.Invalid("API key '" + key.name() + "' was revoked");
        }
        if (!key.isActive(now)) {
            return new Verification.Invalid("API key '" + key.name() + "' expired at " + key.expires().orElseThrow());
        }
        return new Verification.Valid(key);
    }

    public Created create(String name, Set<Role> roles, Set<String> models, Optional<Instant> expires,
                          Optional<Double> ratePerSecond) {
        return create(name, roles, models, expires, ratePerSecond, Optional.empty());
    }

    /**
     * A new key made by key {@code createdBy} (empty: by the local operator). Names are never reused, not even a
     * revoked key's: a name identifies one key for good, in the audit trail and for separation of duties.
     */
    public Created create(String name, Set<Role> roles, Set<String> models, Optional<Instant> expires,
                          Optional<Double> ratePerSecond, Optional<String> createdBy) {
        return create(name, roles, models, expires, ratePerSecond, createdBy,
                byOperator("key.create", KeyStore::rolesOf));
    }

    /** As {@link #create(String, Set, Set, Optional, Optional, Optional)}, audited as {@code audit} says. */
    public Created create(String name, Set<Role> roles, Set<String> models, Optional<Instant> expires,
                          Optional<Double> ratePerSecond, Optional<String> createdBy, Audit audit) {
        validateName(name);
        if (roles.isEmpty()) {
            throw GantryException.invalid("a key needs at least one role: invoke, deploy, approve or admin");
        }
        if (expires.isPresent() && !expires.get().isAfter(clock.instant())) {
            throw GantryException.invalid("expiry " + expires.get() + " is in the past");
        }
        if (ratePerSecond.isPresent() && !(ratePerSecond.get() > 0)) {
            throw GantryException.invalid("rate limit must be > 0 requests per second, was " + ratePerSecond.get());
        }
        String id = HexFormat.of().formatHex(randomBytes(6));
        String secret = Base64.getUrlEncoder().withoutPadding().encodeToString(randomBytes(32));
        ApiKey key = new ApiKey(id, name, roles, models, stamp(), expires.map(this::stored), Optional.empty(),
                HexFormat.of().formatHex(sha256(secret)), ratePerSecond, createdBy);
        update(all -> {
            Optional<ApiKey> taken = all.values().stream().filter(k -> k.name().equals(name)).findFirst();
            if (taken.isPresent() && taken.get().revoked().isEmpty()) {
                throw new GantryException(ErrorCode.ALREADY_EXISTS, "an active key named '" + name
                        + "' exists; revoke or rotate it instead");
            }
            if (taken.isPresent()) {
                throw new GantryException(ErrorCode.ALREADY_EXISTS, "the name '" + name + "' belonged to key "
                        + taken.get().id() + ", revoked; names are never reused, choose another");
            }
            all.put(id, key);
            return all;
        }, id, audit);
        return new Created(key, PREFIX + id + "_" + secret);
    }

    /**
     * Registers a token chosen outside Gantry (a container secret) as the first admin key: only while no key
     * exists, and only if it has Gantry's token form with a secret of at least 32 characters.
     *
     * @return the key, or empty when keys already exist
     */
    public Optional<ApiKey> bootstrapFrom(String token, String name) {
        if (token == null || !token.matches("gantry_[0-9a-f]{12}_[A-Za-z0-9_-]{32,}")) {
            throw GantryException.invalid("the bootstrap token must look like gantry_<12 hex digits>_<at least 32"
                    + " characters of A-Z a-z 0-9 _ ->; make one with: ./gantry keys bootstrap (or openssl rand)");
        }
        validateName(name);
        String id = token.substring(PREFIX.length(), PREFIX.length() + 12);
        String secret = token.substring(PREFIX.length() + 13);
        ApiKey key = new ApiKey(id, name, Set.of(Role.ADMIN), Set.of(), stamp(), Optional.empty(),
                Optional.empty(), HexFormat.of().formatHex(sha256(secret)), Optional.empty(), Optional.empty());
        if (shared != null) {
            return bootstrapShared(key);
        }
        boolean[] created = {false};
        update(all -> {
            if (all.isEmpty()) {
                all.put(id, key);
                created[0] = true;
            }
            return all;
        });
        return created[0] ? Optional.of(key) : Optional.empty();
    }

    /*
     * On a shared catalogue every replica starts with the same GANTRY_BOOTSTRAP_ADMIN_TOKEN, often at once. The
     * check and the insert run in one transaction after any other server's key change has committed, so exactly
     * one server inserts the key (audited as made by the system); the others find it, with the same hash, and go
     * on. A key with that id and another secret is a different token: refused, so a server never starts trusting
     * a token the others do not.
     */
    private Optional<ApiKey> bootstrapShared(ApiKey key) {
        boolean[] created = {false};
        shared.change(Actor.SYSTEM, current -> {
            StoredKey existing = current.get(key.id());
            if (existing != null) {
                if (!MessageDigest.isEqual(existing.secretSha256().getBytes(StandardCharsets.US_ASCII),
                        key.secretSha256().getBytes(StandardCharsets.US_ASCII))) {
                    throw new GantryException(ErrorCode.FAILED_PRECONDITION, "GANTRY_BOOTSTRAP_ADMIN_TOKEN names API"
                            + " key " + key.id() + ", which exists in the shared catalogue with another secret: every"
                            + " replica must be given the same token (or leave it unset once keys exist)");
                }
                return new SharedKeys.Update(current, List.of());
            }
            if (!current.isEmpty()) {
                return new SharedKeys.Update(current, List.of());
            }
            current.put(key.id(), toStored(key));
            created[0] = true;
            return new SharedKeys.Update(current, List.of(new AuditTrail.Entry("key.create", "key:" + key.id(), "",
                    rolesOf(key) + " (from GANTRY_BOOTSTRAP_ADMIN_TOKEN)")));
        });
        refresh();
        return created[0] ? Optional.of(key) : Optional.empty();
    }

    /** Gives a key a new secret; the old token stops working at once. */
    public Created rotate(String id) {
        return rotate(id, byOperator("key.rotate", k -> "new secret"));
    }

    /** As {@link #rotate(String)}, audited as {@code audit} says. */
    public Created rotate(String id, Audit audit) {
        String secret = Base64.getUrlEncoder().withoutPadding().encodeToString(randomBytes(32));
        ApiKey[] out = new ApiKey[1];
        update(all -> {
            ApiKey k = all.get(id);
            if (k == null) {
                throw GantryException.notFound("no API key with id '" + id + "'");
            }
            if (k.revoked().isPresent()) {
                throw new GantryException(ErrorCode.FAILED_PRECONDITION, "key '" + k.name() + "' is revoked");
            }
            out[0] = k.withSecret(HexFormat.of().formatHex(sha256(secret)), stamp());
            all.put(id, out[0]);
            return all;
        }, id, audit);
        return new Created(out[0], PREFIX + id + "_" + secret);
    }

    public ApiKey revoke(String id) {
        return revoke(id, byOperator("key.revoke", k -> "revoked"));
    }

    /** As {@link #revoke(String)}, audited as {@code audit} says. */
    public ApiKey revoke(String id, Audit audit) {
        ApiKey[] out = new ApiKey[1];
        update(all -> {
            ApiKey k = all.get(id);
            if (k == null) {
                throw GantryException.notFound("no API key with id '" + id + "'");
            }
            out[0] = k.revoked().isPresent() ? k : k.revokedAt(stamp());
            all.put(id, out[0]);
            return all;
        }, id, audit);
        return out[0];
    }

    /**
     * Puts key {@code id} back as it was before a change whose audit entry could not be written: {@code previous},
     * or no key at all when the change created it. (A shared catalogue's changes roll back with their entry.)
     */
    public void undo(String id, Optional<ApiKey> previous) {
        update(all -> {
            previous.ifPresentOrElse(k -> all.put(id, k), () -> all.remove(id));
            return all;
        });
    }

    /** Who made which key, from the keys' created_by ids; for separation of duties. */
    public dev.gantry.core.access.KeyLineage lineage() {
        return name -> {
            Map<String, ApiKey> all = keys.get();
            java.util.List<String> chain = new ArrayList<>();
            Optional<ApiKey> k = all.values().stream().filter(x -> x.name().equals(name)).findFirst();
            while (k.isPresent() && k.get().createdBy().isPresent() && chain.size() < all.size()) {
                ApiKey creator = all.get(k.get().createdBy().get());
                if (creator == null || chain.contains(creator.name()) || creator.name().equals(name)) {
                    break;
                }
                chain.add(creator.name());
                k = Optional.of(creator);
            }
            return chain;
        };
    }

    /** Called with the keys before and after whenever a change made by another process is read from the file. */
    public void onFileChange(java.util.function.BiConsumer<Map<String, ApiKey>, Map<String, ApiKey>> listener) {
        this.fileChangeListener = listener;
    }

    /** Rereads the file if it changed since last read; called by the server's watcher every few hundred ms. */
    public void refreshIfChanged() {
        if (sharedCatalogue) {
            refresh();
            return;
        }
        try {
            if (!Files.exists(file)) {
                if (!keys.get().isEmpty()) {
                    log.warn("{} disappeared; keeping the keys already loaded", file);
                }
                return;
            }
            FileTime mtime = Files.getLastModifiedTime(file);
            long size = Files.size(file);
            if (!mtime.equals(lastSeen) || size != lastSize) {
                reload();
            }
        } catch (IOException | RuntimeException e) {
            log.error("could not reread {}: {}; keeping the keys already loaded", file, e.toString());
        }
    }

    private synchronized void reload() {
        if (sharedCatalogue) {
            return; // bind() reads the catalogue
        }
        try {
            if (!Files.exists(file)) {
                keys.set(Map.of());
                return;
            }
            FileTime mtime = Files.getLastModifiedTime(file);
            long size = Files.size(file);
            Map<String, ApiKey> before = keys.get();
            Map<String, ApiKey> after = parse(Files.readString(file));
            keys.set(Collections.unmodifiableMap(after));
            lastSeen = mtime;
            lastSize = size;
            var listener = fileChangeListener;
            if (listener != null && !before.equals(after)) {
                listener.accept(before, after);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    /**
     * Applies {@code change} to the keys and audits the result's key {@code id} as {@code audit} says: in the
     * catalogue's transaction (shared), or right after the file is replaced, undoing the change if the entry cannot
     * be written (key file).
     */
    private void update(UnaryOperator<Map<String, ApiKey>> change, String id, Audit audit) {
        SharedKeys s = shared;
        if (s != null) {
            s.change(audit.actor(), current -> {
                Map<String, ApiKey> known = toApi(current);
                Map<String, ApiKey> next = change.apply(new LinkedHashMap<>(known));
                // Only what the change touched is written back: a key this server cannot read (a role a newer
                // Gantry added) is kept as stored.
                Map<String, StoredKey> stored = new LinkedHashMap<>(current);
                known.keySet().stream().filter(k -> !next.containsKey(k)).forEach(stored::remove);
                next.values().stream().filter(k -> !k.equals(known.get(k.id())))
                        .forEach(k -> stored.put(k.id(), toStored(k)));
                return new SharedKeys.Update(stored, List.of(audit.entry(next.get(id))));
            });
            // Reread rather than publish the change's own result: two changes through this server can finish
            // in another order than they committed, and publishing the earlier one's map last would bring back
            // what the later one changed (a revoked key) until the next key change.
            refresh();
            return;
        }
        if (sharedCatalogue) {
            throw GantryException.unavailable("the API keys of the shared catalogue are not open yet");
        }
        if (audit.trail() == null) {
            update(change);
            return;
        }
        Optional<ApiKey> before = find(id);
        audit.trail().record(audit.actor(), () -> {
            update(change);
            return keys.get().get(id);
        }, audit::entry, k -> undo(id, before));
    }

    private static Map<String, ApiKey> toApi(Map<String, StoredKey> stored) {
        Map<String, ApiKey> out = new LinkedHashMap<>();
        for (StoredKey k : stored.values()) {
            Set<Role> roles = new TreeSet<>();
            for (String r : k.roles()) {
                Role.fromWire(r).ifPresentOrElse(roles::add, () -> log.warn("API key {} has unknown role '{}'; "
                        + "ignored", k.id(), r));
            }
            if (roles.isEmpty()) {
                log.warn("API key {} ({}) has no role this server knows; it cannot be used here", k.id(), k.name());
                continue;
            }
            out.put(k.id(), new ApiKey(k.id(), k.name(), roles, k.models(), k.created(), k.expires(), k.revoked(),
                    k.secretSha256(), k.ratePerSecond(), k.createdBy()));
        }
        return Collections.unmodifiableMap(out);
    }

    private static StoredKey toStored(ApiKey k) {
        return new StoredKey(k.id(), k.name(), new TreeSet<>(k.roles().stream().map(Role::wireName).toList()),
                k.models(), k.created(), k.expires(), k.revoked(), k.secretSha256(), k.ratePerSecond(), k.createdBy());
    }

    private synchronized void update(UnaryOperator<Map<String, ApiKey>> change) {
        if (sharedCatalogue) {
            throw new IllegalStateException("a shared catalogue's keys are not in a file");
        }
        try {
            Files.createDirectories(file.getParent());
            try (FileChannel lockChannel = FileChannel.open(lockFile, StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE); FileLock ignored = lockChannel.lock()) {
                Map<String, ApiKey> current = Files.exists(file) ? parse(Files.readString(file)) : new LinkedHashMap<>();
                Map<String, ApiKey> next = change.apply(new LinkedHashMap<>(current));
                writeAtomically(render(next));
                keys.set(Collections.unmodifiableMap(new LinkedHashMap<>(next)));
                lastSeen = Files.getLastModifiedTime(file);
                lastSize = Files.size(file);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    private void writeAtomically(String content) throws IOException {
        Path tmp = file.resolveSibling("keys.json.tmp");
        Files.deleteIfExists(tmp);
        try (FileChannel ch = PrivateFile.create(tmp)) {
            ch.write(java.nio.ByteBuffer.wrap(content.getBytes(StandardCharsets.UTF_8)));
            ch.force(true);
        }
        try {
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
        }
        try (FileChannel dir = FileChannel.open(file.getParent(), StandardOpenOption.READ)) {
            dir.force(true);
        } catch (IOException ignored) {
            // some file systems cannot fsync a directory; the rename is still atomic
        }
    }

    private static Map<String, ApiKey> parse(String text) throws IOException {
        Map<String, ApiKey> out = new LinkedHashMap<>();
        JsonNode root = JSON.readTree(text);
        for (JsonNode k : root.path("keys")) {
            Set<Role> roles = new TreeSet<>();
            for (JsonNode r : k.path("roles")) {
                roles.add(Role.fromWire(r.asText()).orElseThrow(() -> new IOException("unknown role " + r)));
            }
            Set<String> models = new TreeSet<>();
            k.path("models").forEach(m -> models.add(m.asText()));
            ApiKey key = new ApiKey(k.path("id").asText(), k.path("name").asText(), roles, models,
                    Instant.parse(k.path("created").asText()), instant(k.get("expires")), instant(k.get("revoked")),
                    k.path("secret_sha256").asText(),
                    k.hasNonNull("rate_per_second") ? Optional.of(k.get("rate_per_second").asDouble()) : Optional.empty(),
                    k.hasNonNull("created_by") ? Optional.of(k.get("created_by").asText()) : Optional.empty());
            out.put(key.id(), key);
        }
        return out;
    }

    private static Optional<Instant> instant(JsonNode n) {
        return n == null || n.isNull() ? Optional.empty() : Optional.of(Instant.parse(n.asText()));
    }

    private static String render(Map<String, ApiKey> keys) throws IOException {
        ObjectNode root = JSON.createObjectNode();
        ArrayNode arr = root.putArray("keys");
        for (ApiKey k : keys.values()) {
            ObjectNode n = writePublicFields(k, arr.addObject());
            n.put("secret_sha256", k.secretSha256());
            k.ratePerSecond().ifPresentOrElse(r -> n.put("rate_per_second", r), () -> n.putNull("rate_per_second"));
        }
        return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root) + "\n";
    }

    /** Writes what may be shown about a key (never its secret or hash): id, name, roles, models, dates. */
    public static ObjectNode writePublicFields(ApiKey k, ObjectNode n) {
        n.put("id", k.id());
        n.put("name", k.name());
        ArrayNode roles = n.putArray("roles");
        k.roles().stream().sorted().forEach(r -> roles.add(r.wireName()));
        ArrayNode models = n.putArray("models");
        k.models().stream().sorted().forEach(models::add);
        n.put("created", k.created().toString());
        k.expires().ifPresentOrElse(e -> n.put("expires", e.toString()), () -> n.putNull("expires"));
        k.revoked().ifPresentOrElse(e -> n.put("revoked", e.toString()), () -> n.putNull("revoked"));
        k.createdBy().ifPresentOrElse(c -> n.put("created_by", c), () -> n.putNull("created_by"));
        return n;
    }

    static void validateName(String name) {
        if (name == null || !name.matches("[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}")) {
            throw GantryException.invalid("key name must be 1-64 letters, digits or _ . @ - (starting with a letter"
                    + " or digit), was '" + name + "'");
        }
    }

    private static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        RANDOM.nextBytes(b);
        return b;
    }

    private static byte[] sha256(String s) {
        return dev.gantry.store.digest.Sha256.newDigest().digest(s.getBytes(StandardCharsets.UTF_8));
    }
}
