package dev.gantry.store.catalog;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Where the catalogue database is: the embedded H2 under the data directory (the default, one process) or a
 * PostgreSQL server that several replicas share, with the credentials to reach it. The password never comes
 * from the URL and is never shown.
 */
public final class CatalogLocation {
    /** The environment variable holding the PostgreSQL user name. */
    public static final String USER_ENV = "GANTRY_CATALOG_USER";
    /** The environment variable holding the PostgreSQL password, when no password file is given. */
    public static final String PASSWORD_ENV = "GANTRY_CATALOG_PASSWORD";
    private static final String PREFIX = "jdbc:postgresql://";
    private static final CatalogLocation EMBEDDED = new CatalogLocation(null, Optional.empty(), Optional.empty());

    private final String url;
    private final Optional<String> user;
    private final Optional<String> password;

    private CatalogLocation(String url, Optional<String> user, Optional<String> password) {
        this.url = url;
        this.user = user;
        this.password = password;
    }

    /** The embedded H2 database under {@code <data>/catalog/}. */
    public static CatalogLocation embedded() {
        return EMBEDDED;
    }

    /**
     * A PostgreSQL database.
     *
     * @param url {@code jdbc:postgresql://host[:port]/database[?options]}; a user may be named in it, a password
     *     may not
     * @throws IllegalArgumentException naming what is wrong with the URL (without repeating a password in it)
     */
    public static CatalogLocation postgres(String url, Optional<String> user, Optional<String> password) {
        Objects.requireNonNull(url, "url");
        if (!url.startsWith(PREFIX) || url.length() == PREFIX.length()) {
            throw new IllegalArgumentException("the catalogue URL must look like jdbc:postgresql://host:port/database"
                    + " (or be left out for the embedded H2 database), was '" + url + "'");
        }
        if (carriesPassword(url)) {
            throw new IllegalArgumentException("the catalogue URL must not contain a password (it would show in "
                    + "process listings, shell history and logs): put it in a file named by --catalog-password-file "
                    + "or in the environment variable " + PASSWORD_ENV);
        }
        return new CatalogLocation(url, user.filter(u -> !u.isEmpty()), password);
    }

    /**
     * A PostgreSQL database, its user from {@link #USER_ENV} (or the URL's {@code user=}), its password from
     * {@code passwordFile} (its first line) or else from {@link #PASSWORD_ENV}.
     *
     * @throws IllegalArgumentException naming the URL problem or the password file that cannot be read
     */
    public static CatalogLocation postgres(String url, Optional<Path> passwordFile, Map<String, String> env) {
        Optional<String> password;
        if (passwordFile.isPresent()) {
            Path f = passwordFile.get();
            try {
                String text = Files.readString(f, StandardCharsets.UTF_8);
                String first = text.lines().findFirst().orElse("").strip();
                if (first.isEmpty()) {
                    throw new IllegalArgumentException("catalogue password file " + f + " is empty");
                }
                password = Optional.of(first);
            } catch (IOException e) {
                throw new IllegalArgumentException("cannot read the catalogue password file " + f + ": " + e, e);
            }
        } else {
            password = Optional.ofNullable(env.get(PASSWORD_ENV)).filter(p -> !p.isEmpty());
        }
        return postgres(url, Optional.ofNullable(env.get(USER_ENV)), password);
    }

    private static boolean carriesPassword(String url) {
        String rest = url.substring(PREFIX.length());
        int q = rest.indexOf('?');
        String authority = (q < 0 ? rest : rest.substring(0, q));
        int slash = authority.indexOf('/');
        if (slash >= 0) {
            authority = authority.substring(0, slash);
        }
        if (authority.contains("@")) {
            return true;
        }
        if (q < 0) {
            return false;
        }
        for (String param : rest.substring(q + 1).split("&")) {
            String name = param.split("=", 2)[0].toLowerCase(Locale.ROOT);
            if (name.equals("password")) {
                return true;
            }
        }
        return false;
    }

    /** Whether this is the embedded H2 database. */
    public boolean isEmbedded() {
        return url == null;
    }

    /** The JDBC URL of the PostgreSQL database (no password in it); empty for the embedded database. */
    public Optional<String> jdbcUrl() {
        return Optional.ofNullable(url);
    }

    String url() {
        return url;
    }

    Optional<String> user() {
        return user;
    }

    Optional<String> password() {
        return password;
    }

    /** The URL and user, never the password. */
    @Override
    public String toString() {
        return isEmbedded() ? "embedded H2" : url + user.map(u -> " as " + u).orElse("")
                + (password.isPresent() ? " (with a password)" : "");
    }
}
