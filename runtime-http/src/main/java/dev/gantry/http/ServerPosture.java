package dev.gantry.http;

import dev.gantry.http.auth.KeyStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.time.Clock;

/**
 * The security posture a server starts in: its data directory and keys, the first admin key from
 * {@code GANTRY_BOOTSTRAP_ADMIN_TOKEN}, and the refusal to serve a non-loopback address with no keys.
 */
final class ServerPosture {
    private static final Logger log = LoggerFactory.getLogger(ServerPosture.class);

    private ServerPosture() {
    }

    /**
     * Opens the key file in the data directory (creating the directory), registering the bootstrap admin key.
     *
     * @throws IllegalStateException with a message for the operator: an unusable data directory, a bad bootstrap
     *     token, or an address other than loopback with no keys and no --insecure
     */
    static KeyStore openKeys(ServerConfig config) {
        KeyStore keys;
        try {
            Files.createDirectories(config.dataDir());
            if (!Files.isWritable(config.dataDir())) {
                throw new IllegalStateException("data directory " + config.dataDir() + " is not writable");
            }
            if (!config.security().catalog().isEmbedded()) {
                return KeyStore.shared(Clock.systemUTC()); // checked by shareKeys once the catalogue is open
            }
            keys = KeyStore.open(config.dataDir(), Clock.systemUTC());
            bootstrap(keys);
        } catch (IllegalArgumentException | dev.gantry.core.error.GantryException e) {
            throw new IllegalStateException(e.getMessage(), e);
        } catch (IOException | java.io.UncheckedIOException e) {
            throw new IllegalStateException("cannot use data directory " + config.dataDir() + ": " + e.getMessage(), e);
        }
        refuseOpenNonLoopback(config, keys);
        return keys;
    }

    /**
     * On a shared catalogue: reads the keys from {@code core}'s catalogue into {@code keys}, rereads them whenever
     * any server changes them, registers the bootstrap admin key and checks the posture. Nothing on the embedded one.
     *
     * @throws IllegalStateException as {@link #openKeys}
     */
    static void shareKeys(ServerConfig config, KeyStore keys, dev.gantry.core.runtime.ServingRuntime core) {
        if (!keys.isShared()) {
            return;
        }
        try {
            keys.bind(core.sharedKeys().orElseThrow(() -> new IllegalStateException("the catalogue is not shared")));
            core.replication().onKeyChange(keys::refresh);
            bootstrap(keys);
        } catch (IllegalArgumentException | dev.gantry.core.error.GantryException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
        refuseOpenNonLoopback(config, keys);
    }

    private static void bootstrap(KeyStore keys) {
        String bootstrap = System.getenv("GANTRY_BOOTSTRAP_ADMIN_TOKEN");
        if (bootstrap != null && !bootstrap.isBlank()) {
            keys.bootstrapFrom(bootstrap.trim(), "admin").ifPresent(k -> log.info(
                    "registered the first admin key '{}' (id {}) from GANTRY_BOOTSTRAP_ADMIN_TOKEN", k.name(), k.id()));
        }
    }

    private static void refuseOpenNonLoopback(ServerConfig config, KeyStore keys) {
        if (keys.isEmpty() && !config.isLoopback() && !config.security().insecure()) {
            throw new IllegalStateException("refusing to serve on " + config.host() + " with no API keys: anyone who"
                    + " can reach it could call and change models. Create an admin key first (./gantry keys bootstrap),"
                    + " bind to 127.0.0.1, or pass --insecure");
        }
    }

    /** Says that every version selected at start has settled, and how many are READY. */
    static void logReady(ServerConfig config, String scheme, int port,
                         java.util.Collection<dev.gantry.core.lifecycle.ModelVersionState> versions) {
        long ready = versions.stream().filter(v -> v.isReady()).count();
        log.info("Gantry ready on {}://{}:{} ({} of {} model versions READY)", scheme, config.host(), port, ready,
                versions.size());
    }

    /** Says at start where the server listens and who may call it. */
    static void logListening(ServerConfig config, String version, String scheme, int port, int adminPort,
                             KeyStore keys) {
        log.info("Gantry {} listening on {}://{}:{}{} (models: {}, data: {})", version, scheme, config.host(), port,
                config.security().adminPort().isPresent() ? ", admin routes on port " + adminPort : "",
                config.modelsDir().toAbsolutePath().normalize(), config.dataDir());
        if (keys.isEmpty()) {
            log.warn("no API keys exist: every route is open to anyone who can reach {}{}. Create an admin key with"
                    + " ./gantry keys bootstrap", config.host(), config.isLoopback()
                    ? " (loopback only)" : " (--insecure)");
        } else {
            log.info("API keys required ({} keys); health {}, metrics {}", keys.list().size(),
                    config.security().openHealth() ? "open" : "need a key", config.metricsOpen() ? "open" : "need a key");
        }
    }
}
