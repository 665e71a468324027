package dev.gantry.http;

import dev.gantry.store.catalog.CatalogLocation;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/** Reads {@code --catalog} and its credentials into a {@link CatalogLocation}. */
final class CatalogFlags {
    private CatalogFlags() {
    }

    /**
     * The embedded catalogue when {@code url} is blank, else the PostgreSQL database it names, its user from
     * {@code GANTRY_CATALOG_USER} (or the URL), its password from {@code passwordFile} or
     * {@code GANTRY_CATALOG_PASSWORD}.
     *
     * @throws ServerConfigParser.ConfigException naming the flag and what is wrong
     */
    static CatalogLocation location(String url, Optional<Path> passwordFile, Map<String, String> env)
            throws ServerConfigParser.ConfigException {
        if (url == null || url.isBlank()) {
            if (passwordFile.isPresent()) {
                throw new ServerConfigParser.ConfigException("--catalog-password-file is only used with --catalog "
                        + "jdbc:postgresql://...; the embedded catalogue has no password");
            }
            return CatalogLocation.embedded();
        }
        if (passwordFile.isPresent() && !Files.isReadable(passwordFile.get())) {
            throw new ServerConfigParser.ConfigException("--catalog-password-file " + passwordFile.get()
                    + " does not exist or cannot be read");
        }
        try {
            return CatalogLocation.postgres(url.strip(), passwordFile, env);
        } catch (IllegalArgumentException e) {
            throw new ServerConfigParser.ConfigException("--catalog: " + e.getMessage());
        }
    }
}
